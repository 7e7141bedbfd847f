# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers: the client container, requests through the proxy, playbook runs."""

from __future__ import annotations

import copy
import os
import re
import shlex
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
VARIABLES = yaml.safe_load((SCENARIO / "vars" / "apache.yml").read_text())

# A GET on the proxy's own loopback address (the proxy has no curl): prints the status
# code, then the body.
LOOPBACK_GET = """
import sys, urllib.error, urllib.request
try:
    response = urllib.request.urlopen("http://127.0.0.1" + sys.argv[1], timeout=10)
except urllib.error.HTTPError as error:
    response = error
print(response.getcode())
print(response.read().decode(errors="replace"))
"""


# client (apache-backend1 sends the test traffic), backend2, proxy_ip and curl (with the site
# names resolving to the proxy)
client, backend2, proxy_ip, curl = weblib.fixtures("apache", INVENTORY)


def loopback_get(host, path):
    """(status, body) of GET http://127.0.0.1<path>, sent on the proxy itself."""
    output = host.check_output(f"python3 -c {shlex.quote(LOOPBACK_GET)} {shlex.quote(path)}")
    status, _sep, body = output.partition("\n")
    return int(status), body


def balancer_members(host):
    """{(balancer, member URL): status} as the balancer manager shows them (loopback only)."""
    status, page = loopback_get(host, "/balancer-manager")
    assert status == 200, page
    members = {}
    for section in page.split("<h3>")[1:]:
        balancer = re.search(r"balancer://([\w.-]+)", section).group(1)
        # Worker URL, Route, RouteRedir, Factor, Set, Status
        for url, state in re.findall(
            r">(http://[^<]+)</a></td>(?:<td>[^<]*</td>){4}<td>([^<]*)</td>", section
        ):
            members[(balancer, url)] = state.split()
    return members


def site_variables():
    """A deep copy of the scenario's variables, to change for one run."""
    return copy.deepcopy(VARIABLES)


def run_playbook(variables, tmp_path, *options):
    """apply.yml with changed variables: (rc, output)."""
    return testlib.run_playbook(SCENARIO, INVENTORY, "apply.yml", variables, tmp_path, *options)


def recap_changed(output):
    return testlib.recap_changed(output, "apache-proxy")


def snapshot(host):
    """Checksums of every file the role manages, the links of the *-enabled directories with
    their targets, and Apache's master process (the same after a graceful reload)."""
    return {
        "files": host.check_output(
            "find /etc/apache2 /etc/groundwork -type f -exec sha256sum {} + | sort; "
            "find /etc/apache2/mods-enabled /etc/apache2/conf-enabled /etc/apache2/sites-enabled"
            " -type l -printf '%p -> %l\\n' | sort"
        ),
        "master": host.check_output("cat /run/apache2/apache2.pid"),
    }
