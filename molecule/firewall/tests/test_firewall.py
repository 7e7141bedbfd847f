# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The converged firewall, seen from the other containers and from the controller.

IPv4 only: the scenario network (molecule/_shared/create.yml) has no IPv6, since the Docker
engine here has no IPv6 address pool. The IPv6 half of every rule is covered by the unit
tests of the firewall model (plugin_utils/_firewall_model.py, _flows.py) and loaded by nft
with the rest of the table.
"""

from __future__ import annotations

import json

import pytest
from conftest import EXPECTED, probe, ssh_works

testinfra_hosts = ["docker://fw-target"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_flows_connect_and_every_other_port_is_filtered(request, name):
    host = request.getfixturevalue({"fw-app": "app", "fw-other": "other"}[name])
    assert probe(host, sorted(EXPECTED[name])) == EXPECTED[name]


def test_closed_ports_are_filtered_not_just_unused(host):
    """The listeners answer on every probed port from the target itself (loopback is allowed)."""
    out = host.check_output(
        f"python3 /usr/local/bin/fw-probe 127.0.0.1 3 {' '.join(sorted(EXPECTED['fw-other']))}"
    )
    assert set(json.loads(out).values()) == {"open"}


def test_the_controller_reaches_ssh_although_it_is_no_admin_source():
    assert ssh_works()


def test_docker_dns_still_resolves_inside_the_target(host):
    assert host.run("getent hosts fw-app").rc == 0


def test_the_engine_tables_stay_next_to_ours(host):
    tables = host.check_output("nft list tables").splitlines()
    assert "table inet groundwork" in tables
    # Docker's embedded DNS: NAT rules in the container's namespace (iptables-nft)
    assert "table ip nat" in tables


def test_the_table_loads_at_boot(host):
    assert host.service("groundwork-firewall.service").is_enabled
    assert host.file("/etc/groundwork/firewall/groundwork.nft").exists
