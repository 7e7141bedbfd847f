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
# The hosts' names: stack-*, or stack-apache-mariadb-* in that scenario (its molecule.yml).
PREFIX = os.environ.get("GW_STACK_PREFIX", "stack")
LB, APP1, APP2, DB, CLIENT = (f"{PREFIX}-{name}" for name in ("lb", "app1", "app2", "db", "client"))
# The balancer's server: nginx, or apache in the stack-apache-mariadb scenario.
WEB_SERVER = os.environ.get("GW_STACK_WEB_SERVER", "nginx")
# Its error log, the mark of a request it sent to a server that failed, and its unit.
ERROR_LOG = {"nginx": "/var/log/nginx/error.log", "apache": "/var/log/apache2/error.log"}[WEB_SERVER]
PROXY_ERROR = {"nginx": "upstream", "apache": "proxy"}[WEB_SERVER]
WEB_UNIT = {"nginx": "nginx", "apache": "apache2"}[WEB_SERVER]
# The database: postgresql, or mariadb in the stack-apache-mariadb scenario; its port.
DATABASE = os.environ.get("GW_STACK_DATABASE", "postgresql")
DB_PORT = {"postgresql": 5432, "mariadb": 3306}[DATABASE]
# The internal zone (group_vars/all.yml, dns_zone); the database server is its DNS server.
ZONE = "stack.internal"
ANSWER = re.compile(r"^served by (?P<host>\S+) version (?P<version>\S+) counter (?P<counter>\d+)$")


def host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def client():
    return host(CLIENT)


@pytest.fixture(scope="module")
def lb():
    return host(LB)


@pytest.fixture(scope="module")
def app1():
    return host(APP1)


@pytest.fixture(scope="module")
def app2():
    return host(APP2)


@pytest.fixture(scope="module")
def db():
    return host(DB)


def get(client, url=f"https://{LB}/", options=""):
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
