# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers: the client container, served certificates, playbook runs."""

from __future__ import annotations

import copy
import os
import re
import sys
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
FILES = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "files"
VARIABLES = yaml.safe_load((SCENARIO / "vars" / "target.yml").read_text())
PEBBLE_ROOT = "/tmp/pebble-root.pem"


@pytest.fixture(scope="module")
def client():
    """tls-client sends the test traffic, from outside the target, over the network."""
    return testinfra.get_host("ansible://tls-client", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def target():
    return testinfra.get_host("ansible://tls-target", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def target_ip(client):
    return client.check_output("getent ahostsv4 tls-target").split()[0]


@pytest.fixture(scope="module")
def pebble_root(client):
    """Pebble's current issuing root, from its management endpoint (it changes when pebble restarts)."""
    client.check_output(f"curl -fsS --insecure https://tls-pebble:15000/roots/0 -o {PEBBLE_ROOT}")
    return PEBBLE_ROOT


@pytest.fixture(scope="module")
def served(client, target_ip):
    """The certificate the target serves for a name: its fields as openssl prints them."""

    def get(name, extra=""):
        result = client.run(
            f"echo | timeout 10 openssl s_client -connect {target_ip}:443 -servername {name} {extra}"
            " 2>/tmp/s_client.err | tee /tmp/s_client.out"
            " | openssl x509 -noout -serial -issuer -subject -ext subjectAltName -text"
        )
        assert result.rc == 0, result.stdout + result.stderr
        text = result.stdout
        return {
            "serial": re.search(r"^serial=(\S+)", text, re.M).group(1),
            "issuer": re.search(r"^issuer=(.*)$", text, re.M).group(1).strip(),
            "subject": re.search(r"^subject=(.*)$", text, re.M).group(1).strip(),
            "names": sorted(set(re.findall(r"DNS:([^,\s]+)", text))),
            "key": re.search(r"Public-Key: \((\d+) bit\)", text).group(1),
            "text": text,
            "s_client": client.check_output("cat /tmp/s_client.out /tmp/s_client.err"),
        }

    return get


def target_variables():
    """A deep copy of the target's variables, to change for one run."""
    return copy.deepcopy(VARIABLES)


def run_playbook(variables, tmp_path, *options):
    """apply.yml with changed variables: (rc, output); ACME issuance may take a while."""
    return testlib.run_playbook(SCENARIO, INVENTORY, "apply.yml", variables, tmp_path, *options, timeout=600)


def recap_changed(output):
    return testlib.recap_changed(output, "tls-target")


def snapshot(host):
    """Checksums of every file the roles manage on the target, and nginx's main process."""
    return {
        "files": host.check_output(
            "find /etc/ssl/groundwork /etc/groundwork /usr/local/share/ca-certificates /etc/nginx"
            " -type f -exec sha256sum {} + | sort"
        ),
        "master": host.check_output("cat /run/nginx.pid"),
    }
