# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers: the hosts, requests to the demo application, playbook runs."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import testinfra
import yaml

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
VARIABLES = yaml.safe_load((SCENARIO / "vars" / "app.yml").read_text())
ANSWER = re.compile(r"served by (\S+) version (\S+) counter (\d+)")


@pytest.fixture(scope="module")
def server():
    return testinfra.get_host("ansible://app-server", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def db():
    """app-db: the database, the balancer, and a client on the network."""
    return testinfra.get_host("ansible://app-db", ansible_inventory=INVENTORY)


def get(host, url):
    """(status, body) of a GET from ``host``."""
    out = host.check_output(f"curl --silent --max-time 10 --write-out '\\n%{{http_code}}' {url}")
    body, status = out.rsplit("\n", 1)
    return int(status), body.strip()


def answer(host, url="http://127.0.0.1:8000/"):
    """(hostname, version, counter) of the demo application's answer."""
    status, body = get(host, url)
    assert status == 200, body
    match = ANSWER.fullmatch(body)
    assert match, body
    return match.group(1), match.group(2), int(match.group(3))


def variables(**changes):
    """A deep copy of the scenario's variables with changes, for one run."""
    result = copy.deepcopy(VARIABLES)
    result.update(changes)
    return result


def run_playbook(variables, tmp_path, *options):
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(variables))
    result = subprocess.run(
        ["ansible-playbook", "-i", INVENTORY, str(SCENARIO / "apply.yml"), "-e", f"@{extra}", *options],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
        timeout=300,
        cwd=SCENARIO,
    )
    return result.returncode, result.stdout + result.stderr


def current(host):
    return host.check_output("readlink /srv/demo/current")


def snapshot(host):
    """Checksums and links of everything the role manages, and the service's process."""
    return {
        "files": host.check_output(
            "find /srv/demo /etc/demo /etc/systemd/system/demo.service -path '*/.venv' -prune -o"
            " -type f -printf '%p %m %u %g ' -exec sha256sum {} \\; | sort;"
            " find /srv/demo -maxdepth 1 -type l -printf '%p -> %l\\n'"
        ),
        "pid": host.check_output("systemctl show --property MainPID --value demo.service"),
    }
