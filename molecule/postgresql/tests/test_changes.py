# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changed input: refused before anything changes, rolled back by the server's checks, or applied
with a reload (or a restart only where a setting needs it)."""

from __future__ import annotations

import pytest
from conftest import local_sql, run_playbook, scenario_variables, snapshot, testlib

testinfra_hosts = ["ansible://pg-db"]


def with_item(var, index, **changes):
    variables = scenario_variables()
    variables[var][index].update(changes)
    return variables


def with_settings(**settings):
    variables = scenario_variables()
    variables["postgresql_settings"] = settings
    return variables


def vaulted_required():
    variables = scenario_variables()
    variables["postgresql_require_vaulted_passwords"] = True
    return variables


CASES = {
    "unknown database in a grant": (
        with_item("postgresql_grants", 0, database="shp"),
        "postgresql_grants[0] (readers on shp): database 'shp' is not a database declared present",
    ),
    "owner not declared": (
        with_item("postgresql_databases", 0, owner="shop_owner"),
        "postgresql_databases[0] (shop): owner 'shop_owner' is not a role declared present",
    ),
    "password in clear where a vaulted one is required": (
        vaulted_required(),
        "postgresql_roles[0] (shop): password is given in clear, but postgresql_require_vaulted_passwords"
        " requires a vaulted variable",
    ),
    "invalid network": (
        dict(scenario_variables(), postgresql_client_networks=["10.0.0.0/33"]),
        "postgresql_client_networks[0]: '10.0.0.0/33' is not an IP address or network",
    ),
    "flow from anywhere": (
        dict(
            scenario_variables(),
            firewall_flows=[{"name": "open", "from": "any", "to": "dbservers", "port": 5432}],
        ),
        "firewall_flows (open): allows port 5432 from any address",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_early_and_changes_nothing(host, tmp_path, case):
    variables, expected = CASES[case]
    testlib.assert_refused_unchanged(
        lambda: run_playbook(variables, tmp_path), lambda: snapshot(host), expected
    )


def test_a_rejected_setting_leaves_the_previous_configuration_running(host, tmp_path):
    # refused by the installed server's catalogue of settings, before any file is written
    before = snapshot(host)
    work_mem = local_sql(host, "SHOW work_mem")
    rc, output = run_playbook(with_settings(work_mem="lots"), tmp_path)
    assert rc != 0, output
    assert "postgresql_settings.work_mem: 'lots' is not" in " ".join(output.split()), output
    assert snapshot(host) == before
    assert local_sql(host, "SHOW work_mem") == work_mem


def test_a_reload_only_change_does_not_restart_and_shows_no_password(host, tmp_path):
    before = snapshot(host)
    variables = with_settings(work_mem="8MB")
    variables["__molecule_shop_password"] = "a-new-Secret-42"  # noqa: S105 - a test password
    rc, output = run_playbook(variables, tmp_path, "--diff", "-v")
    assert rc == 0, output
    assert local_sql(host, "SHOW work_mem") == "8MB"
    assert snapshot(host)["started"] == before["started"]
    assert "set the password of role shop" in output
    assert "a-new-Secret-42" not in output
    assert "SCRAM-SHA-256$" not in output


def test_a_setting_that_needs_a_restart_restarts(host, tmp_path):
    before = snapshot(host)
    rc, output = run_playbook(with_settings(max_connections=120), tmp_path)
    assert rc == 0, output
    assert local_sql(host, "SHOW max_connections") == "120"
    assert snapshot(host)["started"] != before["started"]
    assert local_sql(host, "SELECT count(*) FROM pg_settings WHERE pending_restart") == "0"


def test_back_to_the_scenario_settings(host, tmp_path):
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    assert local_sql(host, "SHOW max_connections") == "100"
