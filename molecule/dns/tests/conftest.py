# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers: the four containers, dig from any of them, the zone's serial as each server
answers it, playbook runs with changed variables."""

from __future__ import annotations

import copy
import os
import shlex
import sys
import time
from pathlib import Path

import pytest
import testinfra
import yaml

# molecule/_shared/testlib.py: what the scenarios' tests share (pytest runs from tests/).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_shared"))
pytest.register_assert_rewrite("testlib")
import testlib  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
VARIABLES = yaml.safe_load((SCENARIO / "vars" / "dns.yml").read_text())
ZONE = VARIABLES["dns_zone"]
KEY = VARIABLES["dns_transfer_key"]
KEY_NAME = "groundwork-transfer"
ZONE_FILE = f"/var/lib/bind/{ZONE}.zone"


def get_host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def ns1():
    return get_host("dns-ns1")


@pytest.fixture(scope="module")
def ns2():
    return get_host("dns-ns2")


@pytest.fixture(scope="module")
def app():
    return get_host("dns-app")


@pytest.fixture(scope="module")
def db():
    return get_host("dns-db")


def address(host, name):
    """The address of the container ``name`` as ``host`` resolves it (Docker's DNS)."""
    return host.check_output(f"getent ahostsv4 {shlex.quote(name)}").split()[0]


def own_address(host):
    """The host's address on the scenario's network."""
    return host.check_output("hostname -I").split()[0]


def dig(host, *arguments):
    """dig's short answer, one line per record (sorted); the command must succeed."""
    output = host.check_output("dig +short +time=2 +tries=2 " + " ".join(arguments))
    return sorted(line for line in output.splitlines() if line and not line.startswith(";"))


def serial(host, server):
    """The zone's SOA serial as ``server`` (an address) answers it, asked from ``host``."""
    return int(dig(host, f"@{server}", ZONE, "SOA")[0].split()[2])


def wait_for(probe, expected, seconds):
    """Poll ``probe()`` until it returns ``expected`` or ``seconds`` pass: (value, seconds taken)."""
    start = time.monotonic()
    while True:
        value = probe()
        waited = time.monotonic() - start
        if value == expected or waited > seconds:
            return value, waited
        time.sleep(0.1)


def transfer(host, server, key=None):
    """An AXFR of the zone from ``server`` asked from ``host`` (signed with ``key`` if given):
    dig's full output."""
    signed = f"-y hmac-sha256:{KEY_NAME}:{key} " if key else ""
    return host.check_output(f"dig +time=3 +tries=1 {signed}@{server} {ZONE} AXFR")


def scenario_variables():
    """A deep copy of the scenario's variables, to change for one run."""
    return copy.deepcopy(VARIABLES)


def run_playbook(variables, tmp_path, *options):
    """converge.yml with ``variables``; (rc, output)."""
    return testlib.run_playbook(SCENARIO, INVENTORY, "converge.yml", variables, tmp_path, *options)
