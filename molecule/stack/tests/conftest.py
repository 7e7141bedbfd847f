# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The stack's hosts, requests through the balancer, and playbook runs."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import testinfra

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
# The directory, so that the group_vars Molecule links next to the inventory apply.
INVENTORY_DIR = str(Path(INVENTORY).parent)
ANSWER = re.compile(r"^served by (?P<host>\S+) version (?P<version>\S+) counter (?P<counter>\d+)$")


def host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def client():
    return host("stack-client")


@pytest.fixture(scope="module")
def lb():
    return host("stack-lb")


@pytest.fixture(scope="module")
def app1():
    return host("stack-app1")


@pytest.fixture(scope="module")
def app2():
    return host("stack-app2")


@pytest.fixture(scope="module")
def db():
    return host("stack-db")


def get(client, url="https://stack-lb/", options=""):
    """One request from the client: (status, body). The client trusts the internal CA."""
    result = client.run(
        f"curl --silent --show-error --max-time 10 {options} --write-out '\\n%{{http_code}}' {url}"
    )
    body, status = result.stdout.rsplit("\n", 1) if "\n" in result.stdout else ("", result.stdout)
    return (int(status) if status.isdigit() else 0), body.strip()


def answers(client, count):
    """The parsed answers of `count` requests through the balancer."""
    parsed = []
    for _request in range(count):
        status, body = get(client)
        assert status == 200, body
        match = ANSWER.match(body)
        assert match, body
        parsed.append(match.groupdict())
    return parsed


def run_playbook(playbook, *options):
    result = subprocess.run(
        ["ansible-playbook", "-i", INVENTORY_DIR, str(SCENARIO / playbook), *options],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
        timeout=600,
    )
    return result.returncode, result.stdout + result.stderr
