# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers: the client container, requests through the proxy, playbook runs."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest
import testinfra
import yaml

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
VARIABLES = yaml.safe_load((SCENARIO / "vars" / "nginx.yml").read_text())


@pytest.fixture(scope="module")
def client():
    """nginx-backend1 sends the test traffic: from outside the proxy, over the network."""
    return testinfra.get_host("ansible://nginx-backend1", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def backend2():
    return testinfra.get_host("ansible://nginx-backend2", ansible_inventory=INVENTORY)


@pytest.fixture(scope="module")
def proxy_ip(client):
    return client.check_output("getent ahostsv4 nginx-proxy").split()[0]


@pytest.fixture(scope="module")
def curl(client, proxy_ip):
    """curl on the client, with the site names resolving to the proxy."""

    def run(args):
        names = " ".join(
            f"--resolve {name}:{port}:{proxy_ip}"
            for name in ("shop.test", "www.shop.test", "admin.test", "unknown.test")
            for port in (80, 443)
        )
        return client.run(f"curl --silent --max-time 10 {names} {args}")

    return run


def site_variables():
    """A deep copy of the scenario's variables, to change for one run."""
    return copy.deepcopy(VARIABLES)


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
    )
    return result.returncode, result.stdout + result.stderr


def snapshot(host):
    """Checksums of every file and link the role manages, and nginx's main process."""
    return {
        "files": host.check_output(
            "find /etc/nginx /etc/groundwork -type f -exec sha256sum {} + | sort; "
            "find /etc/nginx/sites-enabled /etc/nginx/conf.d -type l | sort"
        ),
        "master": host.check_output("cat /run/nginx.pid"),
    }
