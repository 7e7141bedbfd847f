# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers: the client container, requests through the proxy, playbook runs."""

from __future__ import annotations

import copy
import os
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
    """apply.yml with changed variables: (rc, output)."""
    return testlib.run_playbook(SCENARIO, INVENTORY, "apply.yml", variables, tmp_path, *options)


def recap_changed(output):
    return testlib.recap_changed(output, "nginx-proxy")


def snapshot(host):
    """Checksums of every file and link the role manages, and nginx's main process."""
    return {
        "files": host.check_output(
            "find /etc/nginx /etc/groundwork -type f -exec sha256sum {} + | sort; "
            "find /etc/nginx/sites-enabled /etc/nginx/conf.d -type l | sort"
        ),
        "master": host.check_output("cat /run/nginx.pid"),
    }
