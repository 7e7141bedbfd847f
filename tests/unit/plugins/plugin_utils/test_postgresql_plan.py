# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of groundwork.server.postgresql (plugin_utils/_postgresql_role.py): validation,
the clients to ask, the files, and the changes from an inspection."""

from __future__ import annotations

import copy
import json

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import digest
from ansible_collections.groundwork.server.plugins.plugin_utils import _postgresql_role as role

GROUPS = {"all": ["app1", "app2", "db1"], "appservers": ["app1", "app2"], "dbservers": ["db1"]}
FLOWS = [{"name": "app to db", "from": "appservers", "to": "dbservers", "service": "postgresql"}]
HOSTVARS = {
    "app1": {"firewall_addresses": ["10.0.1.1"]},
    "app2": {"firewall_addresses": ["10.0.1.2"]},
    "db1": {},
}
INPUT = {
    **role.VARIABLES,
    "firewall_flows": FLOWS,
    "postgresql_certificate": "db",
    "postgresql_roles": [{"name": "shop", "password": "secret"}],
    "postgresql_databases": [{"name": "shop", "owner": "shop"}],
    # groundwork.server.tls's certificates on this host: postgresql_certificate names one
    "tls_certificates": [{"name": "db"}, {"name": "db2"}],
}
REPORT = "route4=src 10.0.9.9\nroute6=\n"
TIMER = role.BACKUP_TIMER
SERVICE12 = "postgresql@15-main.service"
RUNNING = {"enabled": "enabled", "active": "active"}
STOPPED = {"enabled": "disabled", "active": "inactive"}


class Context:
    host = "db1"
    groups = GROUPS

    def __init__(self, hostvars=None, check_mode=False):
        self.hostvars = HOSTVARS if hostvars is None else hostvars
        self.check_mode = check_mode

    def render(self, template, **extra):
        derived = extra["__postgresql_derived"]
        return json.dumps(
            {
                "groundwork.conf.j2": f"listen_addresses = '{derived['listen_addresses']}'\n"
                + "".join(f"{name} = '{value}'\n" for name, value in derived["settings"]),
                "pg_hba.conf.j2": "\n".join(derived["hba"]) + "\n",
                "service.j2": f"ExecStart={derived['backup_script']} {' '.join(derived['backup_list'])}\n",
                "timer.j2": "[Timer]\n",
                "sandbox.j2": f"# {derived['service']}\n[Service]\n",
                "tls_hook.j2": f"exec systemctl reload {derived['service']}\n",
            }
        )

    def read_file(self, name):
        return f"# {name}\n\n"


def given(**changes):
    values = copy.deepcopy(INPUT)
    values.update(changes)
    return values


def validate(values, context=None, sources=None):
    inputs = dict(values)
    if sources is not None:
        inputs["__postgresql_sources"] = sources
    return role.validate(inputs, context or Context())


# --- Validation ----------------------------------------------------------------------------

SETTING_CASES = {
    "relative backup dir": (
        {"postgresql_backup_dir": "backups"},
        'postgresql_backup_dir: "backups" is not an absolute path',
    ),
    "no dump kept": (
        {"postgresql_backup_keep": 0},
        "postgresql_backup_keep: 0 is not a number of at least 1",
    ),
    "schedule with a quote": (
        {"postgresql_backup_schedule": "daily'"},
        'postgresql_backup_schedule: "daily\'" is not a systemd calendar expression',
    ),
    "bad database name": (
        {"postgresql_backup_databases": ["Shop"]},
        'postgresql_backup_databases: ["Shop"] is not a list of database names',
    ),
    "too few connections": (
        {"postgresql_max_connections": 4},
        "postgresql_max_connections: 4 is not a number of at least 5",
    ),
    "owner not declared": (
        {"postgresql_databases": [{"name": "shop", "owner": "nobody"}]},
        "postgresql_databases[0] (shop): owner 'nobody' is not a role declared present",
    ),
}


@pytest.mark.parametrize("case", list(SETTING_CASES))
def test_bad_input_is_refused_naming_variable_and_value(case):
    changes, expected = SETTING_CASES[case]
    model, problems = validate(given(**changes))
    assert model is None
    assert any(expected in problem for problem in problems), problems


def test_the_scenario_defaults_are_valid():
    assert role.settings_problems(dict(role.VARIABLES)) == []


CLIENT_CASES = {
    # hostvars, sources -> clients to ask, complete, networks
    "addresses in the inventory": (HOSTVARS, None, [], True, ["10.0.1.1/32", "10.0.1.2/32"]),
    "a client without addresses, not asked yet": (
        {**HOSTVARS, "app2": {}},
        None,
        ["app2"],
        False,
        ["10.0.1.1/32"],
    ),
    "a client without addresses, asked": (
        {**HOSTVARS, "app2": {}},
        {"results": [{"item": "app2", "info": {"report": REPORT}}]},
        ["app2"],
        True,
        ["10.0.1.1/32", "10.0.9.9/32"],
    ),
    "a client the firewall role reported in this run": (
        {**HOSTVARS, "app2": {"firewall_host_report": REPORT}},
        None,
        [],
        True,
        ["10.0.1.1/32", "10.0.9.9/32"],
    ),
}


@pytest.mark.parametrize("case", list(CLIENT_CASES))
def test_clients_are_asked_only_when_nothing_gives_their_addresses(case):
    hostvars, sources, clients, complete, networks = CLIENT_CASES[case]
    model, problems = validate(given(), Context(hostvars), sources)
    assert problems == []
    assert role.validated(model, Context())["clients"] == clients
    assert model["model"]["complete"] is complete
    if complete:
        assert model["model"]["networks"] == networks


def test_an_unreachable_client_is_refused():
    sources = {"results": [{"item": "app2", "unreachable": True, "info": {}}]}
    model, problems = validate(given(), Context({**HOSTVARS, "app2": {}}), sources)
    assert model is None
    assert any("app2" in problem and "firewall_addresses" in problem for problem in problems), problems


# --- Plan ----------------------------------------------------------------------------------


def os_release(version_id="12"):
    return {
        "id": "debian",
        "name": "Debian GNU/Linux",
        "version_id": version_id,
        "version": f"{version_id}.1",
    }


def probe(**changes):
    answer = {
        "version": 15,
        "memtotal_mb": 4096,
        "cgroup_memory": str(1024**3),
        "cpus": 2,
        "include_dir": True,
        "postgres_groups": ["groundwork-tls", "ssl-cert"],
        "hooks": ["/etc/groundwork/tls/hooks/db.d/postgresql"],
        "service": RUNNING,
        "units": {TIMER: RUNNING},
    }
    answer.update(changes)
    return answer


def fresh_inspection(version_id="12"):
    return {
        "os": os_release(version_id),
        "files": {},
        "packages": {"postgresql": "not-installed", "python3-apt": "not-installed"},
        "probe": probe(include_dir=False, postgres_groups=[], hooks=[], service={}, units={TIMER: STOPPED}),
    }


def converged(values, context=None):
    """The inspection of a host as the role leaves it (files with the planned content)."""
    model, _problems = validate(values, context)
    first = role.plan(model, fresh_inspection(), context or Context())
    files = {}
    for spec in first.data["support_files"] + first.data["config_files"]:
        if spec.get("state") == "absent":
            files[spec["path"]] = {"state": "absent"}
        else:
            files[spec["path"]] = {
                "state": "file",
                "sha256": digest(spec["content"]),
                "owner": spec.get("owner", "root"),
                "group": spec.get("group", "root"),
                "mode": spec.get("mode", "0644"),
            }
    files[values["postgresql_backup_dir"]] = {"state": "directory", **role.BACKUP_DIR_STATE}
    return {
        "os": os_release(),
        "files": files,
        "packages": {"postgresql": "installed", "python3-apt": "installed"},
        "probe": probe(),
    }


def plan(values, inspection, context=None):
    model, problems = validate(values, context)
    assert problems == []
    return role.plan(model, inspection, context or Context())


def kinds_and_targets(result):
    return [(change.kind, change.target) for change in result.changes]


def test_a_configured_host_has_nothing_to_change():
    values = given()
    result = plan(values, converged(values))
    assert result.changes == [] and result.problems == []
    assert result.secret is True
    assert result.data["roles"][0]["name"] == "shop"


@pytest.mark.parametrize(
    ("pending", "reason", "restart", "reload"),
    [
        ({"restart": ["max_connections"], "reload": []}, "runs without max_connections", True, False),
        (
            {"restart": [], "reload": ["/etc/postgresql/15/main/conf.d/groundwork.conf"]},
            "has not read /etc/postgresql/15/main/conf.d/groundwork.conf since it changed: a reload",
            False,
            True,
        ),
    ],
)
def test_settings_the_server_does_not_apply_yet_are_applied(pending, reason, restart, reload):
    # A run wrote the files and died before the reload or restart: the files are as wanted,
    # the server's pg_file_settings says what it does not apply; this run applies it.
    values = given()
    inspection = converged(values)
    inspection["probe"]["pending"] = pending
    result = plan(values, inspection)
    assert kinds_and_targets(result) == [("service", SERVICE12)]
    assert reason in result.changes[0].reason
    assert (result.data["pending_restart"], result.data["pending_reload"]) == (restart, reload)


def test_a_fresh_host_gets_everything():
    result = plan(given(), fresh_inspection())
    assert kinds_and_targets(result) == [
        ("package", "postgresql"),
        ("package", "python3-apt"),
        ("file", role.CHECK),
        ("file", role.BACKUP_SCRIPT),
        ("file", "/etc/systemd/system/postgresql@15-main.service.d/groundwork-sandbox.conf"),
        ("file", "/etc/systemd/system/groundwork-postgresql-backup.service"),
        ("file", "/etc/systemd/system/groundwork-postgresql-backup.timer"),
        ("file", "/etc/postgresql/15/main/conf.d/groundwork.conf"),
        ("file", "/etc/postgresql/15/main/pg_hba.conf"),
        ("file", "/etc/groundwork/tls/hooks/db.d/postgresql"),
        ("group", "postgres"),
        ("service", SERVICE12),
        ("directory", "/var/backups/postgresql"),
        ("service", TIMER),
    ]
    assert result.data["missing"] == ["postgresql", "python3-apt"]
    assert result.data["fresh_check"] is False
    assert result.data["join_tls_group"] and result.data["start_service"] and result.data["start_timer"]


def test_check_mode_on_a_fresh_host_only_reports():
    result = plan(given(), fresh_inspection(), Context(check_mode=True))
    assert result.data["fresh_check"] is True


def test_debian_13_uses_postgresql_17():
    result = plan(given(), fresh_inspection("13"))
    assert result.data["service"] == "postgresql@17-main.service"
    assert result.data["conf_dir"] == "/etc/postgresql/17/main"
    assert "/etc/postgresql/17/main/pg_hba.conf" in [s["path"] for s in result.data["config_files"]]


HOST_CASES = {
    # changes of the input, of the converged inspection -> (kind, target) changes, answers set
    "edited pg_hba.conf": (
        {},
        {"files": {"/etc/postgresql/15/main/pg_hba.conf": {"state": "file", "sha256": "0" * 64}}},
        [("file", "/etc/postgresql/15/main/pg_hba.conf")],
        [],
    ),
    "server stopped": ({}, {"probe": {"service": STOPPED}}, [("service", SERVICE12)], ["start_service"]),
    "postgres not in the TLS group": (
        {},
        {"probe": {"postgres_groups": ["ssl-cert"]}},
        [("group", "postgres")],
        ["join_tls_group"],
    ),
    "backup directory open to others": (
        {},
        {
            "files": {
                "/var/backups/postgresql": {"state": "directory", **role.BACKUP_DIR_STATE, "mode": "0755"}
            }
        },
        [("directory", "/var/backups/postgresql")],
        ["backup_dir_change"],
    ),
    "backup timer stopped": (
        {},
        {"probe": {"units": {TIMER: STOPPED}}},
        [("service", TIMER)],
        ["start_timer"],
    ),
    "an extra package declared": (
        {"postgresql_packages": ["postgresql-contrib"]},
        {},
        [("package", "postgresql-contrib")],
        [],
    ),
    "a hook of a certificate no longer used": (
        {},
        {
            "probe": {
                "hooks": [
                    "/etc/groundwork/tls/hooks/db.d/postgresql",
                    "/etc/groundwork/tls/hooks/old.d/postgresql",
                ]
            }
        },
        [("file", "/etc/groundwork/tls/hooks/old.d/postgresql")],
        [],
    ),
}


@pytest.mark.parametrize("case", list(HOST_CASES))
def test_drift_is_found(case):
    input_changes, inspection_changes, expected, answers = HOST_CASES[case]
    inspection = converged(given())
    for key, value in inspection_changes.items():
        inspection[key] = {**inspection[key], **value}
    result = plan(given(**input_changes), inspection)
    assert kinds_and_targets(result) == expected
    for answer in ("start_service", "join_tls_group", "backup_dir_change", "start_timer", "stop_timer"):
        assert result.data[answer] is (answer in answers), answer


def test_disabled_backups_stop_the_timer_and_remove_the_units():
    values = given(postgresql_backup_enabled=False)
    inspection = converged(given())
    result = plan(values, inspection)
    assert kinds_and_targets(result) == [
        ("service", TIMER),
        ("file", "/etc/systemd/system/groundwork-postgresql-backup.service"),
        ("file", "/etc/systemd/system/groundwork-postgresql-backup.timer"),
    ]
    assert result.data["stop_timer"] is True
    # once stopped and removed, nothing more
    done = converged(values)
    done["probe"]["units"] = {TIMER: {"enabled": "not-found", "active": "inactive"}}
    assert plan(values, done).changes == []


def test_no_certificate_removes_the_hook_and_needs_no_group():
    values = given(postgresql_certificate="")
    inspection = converged(given())
    inspection["probe"]["postgres_groups"] = []
    result = plan(values, inspection)
    assert kinds_and_targets(result) == [("file", "/etc/groundwork/tls/hooks/db.d/postgresql")]
    assert result.changes[0].reason == "not part of the configuration"
    assert result.data["join_tls_group"] is False


@pytest.mark.parametrize(
    ("os", "expected"),
    [
        (
            {"id": "ubuntu", "name": "Ubuntu", "version_id": "24.04", "version": "24.04"},
            "this host runs Ubuntu 24.04",
        ),
        (
            {"id": "debian", "name": "Debian GNU/Linux", "version_id": "11", "version": "11.9"},
            "runs Debian GNU/Linux 11.9",
        ),
    ],
)
def test_an_unsupported_release_is_a_problem(os, expected):
    inspection = fresh_inspection()
    inspection["os"] = os
    result = plan(given(), inspection)
    assert result.changes == []
    assert expected in result.problems[0]


def test_a_packaged_configuration_without_include_dir_is_a_problem():
    inspection = converged(given())
    inspection["probe"]["include_dir"] = False
    result = plan(given(), inspection)
    assert "/etc/postgresql/15/main/postgresql.conf has no active" in result.problems[0]


def test_a_plan_without_the_clients_addresses_is_refused():
    context = Context({**HOSTVARS, "app2": {}})
    model, _problems = validate(given(), context)
    result = role.plan(model, converged(given()), context)
    assert "app2" in result.problems[0]


@pytest.mark.parametrize(
    ("memtotal_mb", "cgroup", "memory_mib", "note"),
    [
        (4096, str(1024**3), 1024, " (the cgroup limit)"),
        (4096, "max", 4096, ""),
        (512, str(1024**3), 512, ""),
    ],
)
def test_the_tuning_says_what_it_was_tuned_for(memtotal_mb, cgroup, memory_mib, note):
    tuned = role.tuning(given(), probe(memtotal_mb=memtotal_mb, cgroup_memory=cgroup), 15)
    assert (tuned["memory_mib"], tuned["memory_note"]) == (memory_mib, note)
    assert all(not name.startswith("_") for name, _value in tuned["settings"])


@pytest.mark.parametrize(
    ("databases", "named", "expected"),
    [
        ([{"name": "a", "state": "present"}, {"name": "b", "state": "absent"}], [], ["a"]),
        ([{"name": "a", "state": "present"}], ["x", "y"], ["x", "y"]),
    ],
)
def test_backup_list(databases, named, expected):
    assert role.backup_list(given(postgresql_backup_databases=named), databases) == expected


def test_the_request_reads_every_file_the_role_may_write():
    values = given()
    request = role.request({"values": values, "model": {}}, Context())
    assert "/etc/postgresql/15/main/pg_hba.conf" in request["files"]
    assert "/etc/postgresql/17/main/conf.d/groundwork.conf" in request["files"]
    assert "/etc/groundwork/tls/hooks/db.d/postgresql" in request["files"]
    assert "/var/backups/postgresql" in request["files"]
    assert "/etc/systemd/system/postgresql@17-main.service.d/groundwork-sandbox.conf" in request["files"]
    assert request["packages"] == ["postgresql", "python3-apt"]
    assert request["probe"]["hook_dir"] == "/etc/groundwork/tls/hooks"


def test_the_sandbox_drop_in_of_the_release_s_unit_is_a_support_file():
    result = plan(given(), fresh_inspection())
    path = "/etc/systemd/system/postgresql@15-main.service.d/groundwork-sandbox.conf"
    assert result.data["sandbox"] == path
    content = "# postgresql@15-main.service\n[Service]\n"
    assert {"path": path, "content": content} in result.data["support_files"]
