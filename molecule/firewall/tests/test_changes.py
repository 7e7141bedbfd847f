# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changed input over SSH: refused before any change, shown in check mode, applied and
reverted, and a rule set that cuts the management connection rolled back by the host."""

from __future__ import annotations

import time

import pytest
from conftest import (
    EXPECTED,
    address_of,
    firewall_variables,
    probe,
    recap_changed,
    run_playbook,
    snapshot,
    ssh_works,
    table,
    testlib,
)

testinfra_hosts = ["docker://fw-target"]


def with_flow(index, **changes):
    variables = firewall_variables()
    variables["firewall_flows"][index].update(changes)
    return variables


def with_variables(**changes):
    variables = firewall_variables()
    variables.update(changes)
    return variables


def with_extra_flow(flow):
    variables = firewall_variables()
    variables["firewall_flows"].append(flow)
    return variables


CASES = {
    "unknown group": (
        with_flow(1, **{"from": "appserver"}),
        "firewall_flows[1] (app-to-db): from 'appserver' is not a group of the inventory, an IP address or"
        " network, or 'any' (did you mean 'appservers'?)",
    ),
    "invalid network": (
        with_flow(0, **{"from": "10.0.0.0/33"}),
        "firewall_flows[0] (web): from '10.0.0.0/33' is not an IP address or network",
    ),
    "port out of range": (
        with_flow(2, port=70000),
        "firewall_flows[2] (app-api): port 70000 is out of range (expected 1-65535 or a range 'low-high')",
    ),
    "hosts without an address": (
        with_extra_flow({"name": "ghost", "from": "ghosts", "to": "dbservers", "port": 7000}),
        "firewall_flows[4] (ghost): from 'ghosts': host 'fw-ghost' has no known address: it could not be"
        " inspected (unreachable?); set firewall_addresses for it in the inventory",
    ),
    "admin source with host bits": (
        with_variables(firewall_admin_sources=["10.1.2.3/24"]),
        "firewall_admin_sources[0]: '10.1.2.3/24' has host bits set (the network is 10.1.2.0/24;"
        " for one address use /32)",
    ),
    "typo in a key (argument spec)": (
        with_flow(3, prot="udp"),
        "prot",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_early_and_changes_nothing(host, tmp_path, case):
    variables, expected = CASES[case]
    testlib.assert_refused_unchanged(
        lambda: run_playbook(variables, tmp_path), lambda: snapshot(host), expected
    )


def test_check_mode_shows_the_diff_and_changes_nothing(host, other, tmp_path):
    other_ip = address_of(host, "fw-other")
    variables = with_extra_flow({"name": "other-9000", "from": "clients", "to": "dbservers", "port": 9000})
    before = snapshot(host)
    rc, output = run_playbook(variables, tmp_path, "--check", "--diff")
    assert rc == 0, output
    assert f'+\t\tip saddr {other_ip} tcp dport 9000 accept comment "other-9000"' in output
    assert recap_changed(output) >= 1
    assert snapshot(host) == before
    assert probe(other, ["tcp:9000"]) == {"tcp:9000": "timeout"}


def test_a_new_flow_opens_its_port_and_removing_it_closes_it_again(host, app, other, tmp_path):
    variables = with_extra_flow({"name": "other-9000", "from": "clients", "to": "dbservers", "port": 9000})
    rc, output = run_playbook(variables, tmp_path)
    assert rc == 0, output
    assert recap_changed(output) >= 1
    assert probe(other, ["tcp:9000", "tcp:5432"]) == {"tcp:9000": "open", "tcp:5432": "timeout"}
    assert probe(app, ["tcp:9000"]) == {"tcp:9000": "timeout"}

    rc, output = run_playbook(firewall_variables(), tmp_path)
    assert rc == 0, output
    assert probe(other, sorted(EXPECTED["fw-other"])) == EXPECTED["fw-other"]
    rc, output = run_playbook(firewall_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) == 0, output


def test_rules_that_cut_the_management_connection_roll_back_by_themselves(host, app, tmp_path):
    """SSH allowed on 2222 only while sshd listens on 22: the fresh connection cannot get in.

    The controller's own exemption follows firewall_ssh_port too, so nothing lets the new
    connection in; the host restores the previous rules after the confirm timeout.
    """
    before = snapshot(host)
    variables = with_variables(firewall_ssh_port=2222, firewall_confirm_timeout=15)
    start = time.monotonic()
    rc, output = run_playbook(variables, tmp_path)
    elapsed = time.monotonic() - start
    text = " ".join(output.split())
    assert rc != 0, output
    assert "The new rules cut the management connection" in text, output
    assert "(it arrives on port 22, the rules allow SSH on port 2222)" in text, output
    assert "The host restored the previous rules by itself after 15 s; nothing was persisted." in text, output
    assert elapsed < 120, output
    assert snapshot(host) == before
    assert ssh_works()
    assert probe(app, ["tcp:5432", "tcp:22"]) == {"tcp:5432": "open", "tcp:22": "open"}
    # and the next run applies the intended rules again without trouble
    rc, output = run_playbook(firewall_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) == 0, output
    assert "table inet groundwork" in table(host)
