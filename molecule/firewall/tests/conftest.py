# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers: the client containers, port probes, playbook runs over SSH, the live table."""

from __future__ import annotations

import copy
import json
import os
import subprocess
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
# The tests reach the containers with testinfra's docker backend (docker exec), which
# works whatever the rules do to SSH. Playbooks run against Molecule's inventory directory,
# where ssh.yml (written by prepare.yml) gives fw-target its real SSH connection.
INVENTORY_DIR = str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)
KEY = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "id_firewall"
VARIABLES = yaml.safe_load((SCENARIO / "vars" / "firewall.yml").read_text())
PROBE_TIMEOUT = 3
SSH_OPTIONS = [
    "BatchMode=yes",
    "ConnectTimeout=5",
    "ControlMaster=no",
    "ControlPath=none",
    "StrictHostKeyChecking=no",
    "UserKnownHostsFile=/dev/null",
    "LogLevel=ERROR",
]

# What the converged rules let through, by client (tcp:22 is SSH: fw-app is an admin source).
EXPECTED = {
    "fw-app": {
        "tcp:22": "open",
        "tcp:80": "open",
        "tcp:443": "open",
        "tcp:5432": "open",
        "tcp:8000": "open",
        "tcp:8001": "open",
        "tcp:9000": "timeout",
        "tcp:9100": "open",
        "udp:5353": "open",
    },
    "fw-other": {
        "tcp:22": "timeout",
        "tcp:80": "open",
        "tcp:443": "open",
        "tcp:5432": "timeout",
        "tcp:8000": "timeout",
        "tcp:8001": "timeout",
        "tcp:9000": "timeout",
        "tcp:9100": "open",
        "udp:5353": "timeout",
    },
}


def client(name):
    return testinfra.get_host(f"docker://{name}")


@pytest.fixture(scope="module")
def app():
    """fw-app: in appservers, which the flows allow."""
    return client("fw-app")


@pytest.fixture(scope="module")
def other():
    """fw-other: in no group the flows allow."""
    return client("fw-other")


def address_of(host, name):
    """The IPv4 address of a container, as the scenario network's DNS gives it now."""
    return host.check_output(f"getent ahostsv4 {name}").split()[0]


def probe(host, ports, target="fw-target"):
    """Probe the target's ports from a client in parallel: {"tcp:80": "open"|"timeout"|"refused"}."""
    out = host.check_output(
        f"python3 /usr/local/bin/fw-probe {address_of(host, target)} {PROBE_TIMEOUT} {' '.join(ports)}"
    )
    return json.loads(out)


def table(host):
    """nft's listing of the role's table on the target."""
    return host.check_output("nft list table inet groundwork")


def snapshot(host):
    """The live table, the persisted one and the state of the boot unit."""
    return {
        "live": table(host),
        "persisted": host.check_output("sha256sum /etc/groundwork/firewall/groundwork.nft"),
        "boot unit": host.check_output("systemctl is-enabled groundwork-firewall.service"),
    }


def ssh_address():
    """The address of fw-target that the playbooks connect to over SSH."""
    inventory = yaml.safe_load((Path(INVENTORY_DIR) / "ssh.yml").read_text())
    return inventory["all"]["hosts"]["fw-target"]["ansible_host"]


def ssh_works():
    """A fresh SSH connection from the controller (no connection sharing) logs in."""
    options = [f"-o{option}" for option in SSH_OPTIONS]
    result = subprocess.run(
        ["ssh", "-i", str(KEY), *options, f"root@{ssh_address()}", "true"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return result.returncode == 0


def firewall_variables():
    """A deep copy of the scenario's variables, to change for one run."""
    return copy.deepcopy(VARIABLES)


def run_playbook(variables, tmp_path, *options):
    """apply.yml against the inventory directory (fw-target over SSH) with changed variables."""
    return testlib.run_playbook(SCENARIO, INVENTORY_DIR, "apply.yml", variables, tmp_path, *options)


def recap_changed(output):
    return testlib.recap_changed(output, "fw-target")
