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
import yaml

# molecule/_shared/testlib.py and weblib.py: what the scenarios' tests share (pytest runs
# from tests/).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_shared"))
pytest.register_assert_rewrite("testlib", "weblib")
import testlib  # noqa: E402
import weblib  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
VARIABLES = yaml.safe_load((SCENARIO / "vars" / "nginx.yml").read_text())


# client (nginx-backend1 sends the test traffic), backend2, proxy_ip and curl (with the site
# names resolving to the proxy)
client, backend2, proxy_ip, curl = weblib.fixtures("nginx", INVENTORY)


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
