# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules survive a restart of the container: groundwork-firewall.service loads them at boot.

Runs last (file order): the container may come back with another address on the network.
"""

from __future__ import annotations

import subprocess
import time

from conftest import EXPECTED, probe, table

testinfra_hosts = ["docker://fw-target"]


def test_the_rules_survive_a_restart(host, app, other):
    before = table(host)
    subprocess.run(["docker", "restart", "fw-target"], check=True, capture_output=True, timeout=120)
    # Right after the restart systemd may not answer yet: ask until it says it has booted.
    deadline, state = time.monotonic() + 90, ""
    while state not in ("running", "degraded") and time.monotonic() < deadline:
        time.sleep(1)
        state = host.run("timeout 30 systemctl is-system-running --wait").stdout.strip()
    assert state in ("running", "degraded"), host.run("systemctl --failed").stdout
    assert host.service("groundwork-firewall.service").is_enabled
    assert table(host) == before
    for name, client in (("fw-app", app), ("fw-other", other)):
        assert probe(client, sorted(EXPECTED[name])) == EXPECTED[name], name
    assert host.run("getent hosts fw-app").rc == 0
    assert "table ip nat" in host.check_output("nft list tables")
