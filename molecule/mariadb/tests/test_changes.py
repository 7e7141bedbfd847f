# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changed input: refused before anything changes (also against the server's own catalogue of
variables), rejected by the server's own checker and rolled back, or applied - dynamic
variables live, a restart only for a static one; grants follow the input exactly.

The tests run in the order of this file and end with the scenario's variables."""

from __future__ import annotations

import pytest
from conftest import (
    CONFIG,
    PASSWORDS,
    client,
    grants,
    local_sql,
    run_playbook,
    same_start,
    scenario_variables,
    snapshot,
    started,
    testlib,
    variables,
)

NEW_PASSWORD = "a-new-Secret-42"  # noqa: S105 - a test password


def with_settings(**settings):
    return dict(scenario_variables(), mariadb_settings=settings)


def set_item(var, index, **changes):
    return lambda values: values[var][index].update(changes)


def set_var(var, value):
    return lambda values: values.update({var: value})


def set_setting(**settings):
    return lambda values: values["mariadb_settings"].update(settings)


# Bad input, with the refusal that must name it. The role reports every problem of its input
# at once - first those of the variables alone, then (with the server inspected) the
# settings the server's catalogue refuses - so one run per stage covers a stage's cases.
STAGES = {
    "input": {
        "unknown database in a grant": (
            set_item("mariadb_grants", 0, database="shp"),
            "mariadb_grants[0] (shop on shp): database 'shp' is not a database declared present"
            " (known: 'shop')",
        ),
        "grant for an undeclared user": (
            set_item("mariadb_grants", 1, user="auditor"),
            "mariadb_grants[1] (auditor on shop): user 'auditor' is not a user declared present"
            " in mariadb_users",
        ),
        "IPv6 network": (
            set_var("mariadb_client_networks", ["2001:db8::/64"]),
            "2001:db8::/64 is an IPv6 network: MariaDB accounts match single IPv6 addresses only",
        ),
        "flow from anywhere": (
            set_var("firewall_flows", [{"name": "open", "from": "any", "to": "dbservers", "port": 3306}]),
            "firewall_flows (open): allows port 3306 from any address;"
            " MariaDB refuses that unless mariadb_allow_any_source is true",
        ),
        "password in clear where a vaulted one is required": (
            set_var("mariadb_require_vaulted_passwords", True),
            "mariadb_users[0] (shop): password is given in clear, but mariadb_require_vaulted_passwords"
            " requires a vaulted variable",
        ),
        "a variable the role owns": (
            set_var("mariadb_settings", {"bind_address": "10.0.0.1"}),
            "mariadb_settings.bind_address: is set by the role itself",
        ),
    },
    "catalogue": {
        "a variable the server does not know": (
            set_setting(no_such_variable=1),
            "mariadb_settings.no_such_variable: is not a variable of the installed server",
        ),
        "a value that is not a number": (
            set_setting(innodb_buffer_pool_size="12x"),
            "mariadb_settings.innodb_buffer_pool_size: '12x' is not a number",
        ),
        "a number out of the server's range": (
            set_setting(max_connections=5),
            "mariadb_settings.max_connections: '5' is out of the server's range (10 to",
        ),
    },
}
CASES = {case: stage for stage, cases in STAGES.items() for case in cases}


@pytest.fixture(scope="module")
def refused(db, tmp_path_factory):
    """One run per stage with all of its bad input: {stage: (state before, (rc, output), state
    after)}."""
    results, after = {}, snapshot(db)
    for stage, cases in STAGES.items():
        bad = with_settings()
        for change, _expected in cases.values():
            change(bad)
        before = after
        result = run_playbook(bad, tmp_path_factory.mktemp(stage))
        after = snapshot(db)
        results[stage] = (before, result, after)
    return results


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_early_and_changes_nothing(refused, case):
    before, result, after = refused[CASES[case]]
    testlib.assert_refused(result, STAGES[CASES[case]][case][1])
    assert after == before


def test_a_value_the_servers_checker_rejects_leaves_the_previous_configuration(db, tmp_path):
    # The catalogue cannot judge a flag set: mariadbd's own parser rejects the candidate, and
    # the file is put back.
    before = snapshot(db)
    rc, output = run_playbook(with_settings(optimizer_switch="bogus"), tmp_path)
    assert rc != 0, output
    assert "Error while setting value 'bogus' to 'optimizer_switch'" in output
    assert snapshot(db) == before


def test_a_dynamic_value_the_server_refuses_leaves_the_previous_configuration(db, tmp_path):
    # mariadbd --help accepts any word for default_storage_engine; the server refuses it when
    # it is set live - and would not start with it.
    before = snapshot(db)
    rc, output = run_playbook(with_settings(default_storage_engine="nosuchengine"), tmp_path)
    try:
        assert rc != 0, output
        assert "nosuchengine" in output
        assert snapshot(db) == before
    finally:
        if snapshot(db)["files"] != before["files"]:
            run_playbook(scenario_variables(), tmp_path)  # put the previous file back


def changed_variables():
    """New values of two dynamic variables, a new password for shop, and report's grant on one
    table instead of the whole database."""
    changed = with_settings(max_connections=120, long_query_time=3)
    changed["__molecule_shop_password"] = NEW_PASSWORD
    changed["mariadb_grants"][1].update(table="orders")
    return changed


@pytest.fixture(scope="module")
def changed_run(db, tmp_path_factory):
    """The changed variables in check mode, then for real, both with --diff -v: the outputs,
    and the server's state before and after the check."""
    local_sql(
        db,
        "CREATE TABLE IF NOT EXISTS shop.orders (id INT PRIMARY KEY, total INT);"
        " CREATE TABLE IF NOT EXISTS shop.customers (id INT PRIMARY KEY, name VARCHAR(64));"
        " INSERT IGNORE INTO shop.orders VALUES (1, 10), (2, 20)",
    )
    before = snapshot(db)
    start = started(db)
    directory = tmp_path_factory.mktemp("changed")
    check = run_playbook(changed_variables(), directory, "--check", "--diff", "-v")
    checked = snapshot(db)
    real = run_playbook(changed_variables(), directory, "--diff", "-v")
    return {"before": before, "checked": checked, "start": start, "check": check, "real": real}


def test_check_mode_shows_the_changes_and_changes_nothing(changed_run):
    rc, output = changed_run["check"]
    assert rc == 0, output
    assert "+max_connections = 120" in output
    assert "+long_query_time = 3" in output
    assert "password changed" in output
    assert "-grant SELECT on shop.* to report@" in output
    assert "+grant SELECT on shop.orders to report@" in output
    assert changed_run["checked"] == changed_run["before"]


def test_the_outputs_show_no_password_or_hash(db, changed_run):
    # the passwords, and what the server stores for them (the hashes of the new password too)
    stored = local_sql(db, "SELECT JSON_VALUE(Priv, '$.authentication_string') FROM mysql.global_priv")
    secrets = [NEW_PASSWORD, *PASSWORDS.values(), *[value for value in stored.split() if len(value) > 8]]
    for rc, output in (changed_run["check"], changed_run["real"]):
        assert rc == 0, output
        for secret in secrets:
            assert secret not in output


def test_dynamic_variables_are_applied_live_without_a_restart(db, changed_run):
    rc, output = changed_run["real"]
    assert rc == 0, output
    assert variables(db, "max_connections", "long_query_time") == {
        "max_connections": "120",
        "long_query_time": "3.000000",
    }
    assert same_start(changed_run["start"], started(db))


def test_the_new_password_works(app, changed_run):
    assert client(app, "SELECT 1", password=NEW_PASSWORD).rc == 0
    assert client(app, "SELECT 1").rc != 0


def test_a_grant_on_one_table_only(app, db, app_address, changed_run):
    assert client(app, "SELECT SUM(total) FROM orders", user="report").stdout.strip() == "30"
    result = client(app, "SELECT * FROM customers", user="report")
    assert result.rc != 0
    assert "SELECT command denied to user 'report'" in result.stderr
    assert grants(db, "report", app_address)[1:] == [
        f"GRANT SELECT ON `shop`.`orders` TO `report`@`{app_address}`"
    ]


def test_a_static_variable_restarts_the_server(db, tmp_path):
    before = started(db)
    changed = changed_variables()
    changed["mariadb_settings"]["innodb_flush_method"] = "fsync"
    rc, output = run_playbook(changed, tmp_path)
    assert rc == 0, output
    assert variables(db, "innodb_flush_method") == {"innodb_flush_method": "fsync"}
    assert not same_start(before, started(db), tolerance=0)


def test_back_to_the_scenario_variables(app, db, app_address, tmp_path):
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    # the table grant is revoked, the database grant back; the scenario's password works again
    assert grants(db, "report", app_address)[1:] == [f"GRANT SELECT ON `shop`.* TO `report`@`{app_address}`"]
    assert client(app, "SELECT 1").rc == 0
    assert "max_connections = 70" in db.file(CONFIG).content_string
    running = variables(db, "max_connections", "long_query_time", "innodb_flush_method")
    defaults = local_sql(
        db,
        "SELECT DEFAULT_VALUE FROM information_schema.SYSTEM_VARIABLES"
        " WHERE VARIABLE_NAME IN ('LONG_QUERY_TIME', 'INNODB_FLUSH_METHOD') ORDER BY VARIABLE_NAME",
    ).split()
    try:
        # what the file no longer sets is back to what the server would start with
        assert running == {
            "max_connections": "70",
            "long_query_time": defaults[1],
            "innodb_flush_method": defaults[0],
        }
    finally:
        # a server left with values the file no longer has: as it would start (for the next tests)
        if running["innodb_flush_method"] != defaults[0]:
            db.check_output("systemctl restart mariadb.service")
        elif running["long_query_time"] != defaults[1]:
            local_sql(db, "SET GLOBAL long_query_time = DEFAULT")
