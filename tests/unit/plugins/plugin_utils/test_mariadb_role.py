# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of groundwork.server.mariadb (plugin_utils/_mariadb_role.py): the settings,
max_connections, how the running server gets its values (SET GLOBAL or a restart), what the
probe reads, and the changes from an inspection.

Most plans render with a stand-in for ``context.render`` (as test_postgresql_plan.py does); the
last tests render the role's real templates with Ansible's template lookup, in a child process
like tests/unit/roles/test_apache_templates.py, so that a converged host is proven idempotent
with the files the role really writes."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import digest
from ansible_collections.groundwork.server.plugins.plugin_utils import _mariadb_role as role
from ansible_collections.groundwork.server.plugins.plugin_utils._mariadb_settings import (
    TRUE_WORDS,
    parse_number,
)

ROOT = Path(__file__).resolve().parents[4]
ROLE_DIR = ROOT / "roles" / "mariadb"
DEFAULTS = yaml.safe_load((ROLE_DIR / "defaults" / "main.yml").read_text())
MIB = 1024**2
GIB = 1024**3

GROUPS = {"all": ["app1", "app2", "db1"], "appservers": ["app1", "app2"], "dbservers": ["db1"]}
FLOWS = [{"name": "app to db", "from": "appservers", "to": "dbservers", "service": "mariadb"}]
HOSTVARS = {
    "app1": {"firewall_addresses": ["10.0.1.1"]},
    "app2": {"firewall_addresses": ["10.0.1.2"]},
    "db1": {},
}
INPUT = {
    **DEFAULTS,
    "firewall_flows": FLOWS,
    "mariadb_certificate": "db",
    "mariadb_users": [{"name": "shop", "password": "secret"}],
    "mariadb_databases": [{"name": "shop"}],
    "mariadb_grants": [{"user": "shop", "database": "shop", "privileges": ["ALL"]}],
    # groundwork.server.tls's certificates on this host: mariadb_certificate names one
    "tls_certificates": [{"name": "db"}, {"name": "db2"}],
}
REPORT = "route4=src 10.0.9.9\nroute6=\n"
SERVICE = role.SERVICE
TIMER = role.BACKUP_TIMER
CONFIG = role.CONFIG
HOOK = "/etc/groundwork/tls/hooks/db.d/mariadb"
UNITS = "/etc/systemd/system/groundwork-mariadb-backup"
RUNNING = {"enabled": "enabled", "active": "active"}
STOPPED = {"enabled": "disabled", "active": "inactive"}
DEBIAN_12 = {"id": "debian", "name": "Debian GNU/Linux", "version_id": "12", "version": "12.8"}

# The catalogue entries (type, static) of MariaDB 10.11 for the variables the role writes
# and those the tests set; the running value is added per test.
KINDS = {
    "bind_address": ("VARCHAR", True),
    "port": ("INT UNSIGNED", True),
    "skip_name_resolve": ("BOOLEAN", True),
    "local_infile": ("BOOLEAN", False),
    "require_secure_transport": ("BOOLEAN", False),
    "ssl_cert": ("VARCHAR", True),
    "ssl_key": ("VARCHAR", True),
    "ssl_cipher": ("VARCHAR", True),
    "tls_version": ("SET", True),
    "innodb_buffer_pool_size": ("BIGINT UNSIGNED", False),
    "innodb_log_file_size": ("BIGINT UNSIGNED", False),
    "innodb_io_capacity": ("BIGINT UNSIGNED", False),
    "innodb_flush_neighbors": ("BIGINT UNSIGNED", False),
    "max_connections": ("INT UNSIGNED", False),
    "thread_cache_size": ("INT UNSIGNED", False),
    "tmp_table_size": ("BIGINT UNSIGNED", False),
    "slow_query_log": ("BOOLEAN", False),
    "long_query_time": ("DOUBLE", False),
    "performance_schema": ("BOOLEAN", True),
}
RANGES = {
    "max_connections": ("10", "100000", "1"),
    "innodb_buffer_pool_size": ("2097152", "9223372036854775807", "1048576"),
    "tmp_table_size": ("1024", "18446744073709551615", "1"),
}
ENUMS = {"tls_version": "TLSv1.0,TLSv1.1,TLSv1.2,TLSv1.3"}


def shown(kind, value):
    """A value as SYSTEM_VARIABLES shows it: numbers in bytes, booleans ON/OFF."""
    if kind in ("INT UNSIGNED", "BIGINT UNSIGNED"):
        return str(parse_number(value))
    if kind == "BOOLEAN":
        return "ON" if str(value).upper() in TRUE_WORDS else "OFF"
    return str(value)


def catalogue(values, **running):
    """The catalogue of a server that runs with ``values`` ({name: value}), except ``running``
    (a value, or None for a variable the server does not know)."""
    result = {}
    for name, value in {**values, **running}.items():
        if name in running and running[name] is None:
            continue
        kind, static = KINDS[name]
        low, high, block = RANGES.get(name, (None, None, None))
        result[name] = {
            "value": shown(kind, value),
            "type": kind,
            "min": low,
            "max": high,
            "block": block,
            "enum": ENUMS.get(name, "OFF,ON" if kind == "BOOLEAN" else None),
            "read_only": static,
        }
    return result


class Context:
    """role_plan's Context: the inventory, and a stand-in for the role's templates that
    writes the derived values into the files (so that a changed value changes a file)."""

    host = "db1"
    groups = GROUPS

    def __init__(self, hostvars=None, check_mode=False):
        self.hostvars = HOSTVARS if hostvars is None else hostvars
        self.check_mode = check_mode
        self.derived = None

    def render(self, template, **extra):
        assert template == "files.j2"
        derived = self.derived = extra["__mariadb_derived"]
        return json.dumps(
            {
                "groundwork.cnf.j2": "[mariadbd]\n"
                + "".join(f"{name} = {value}\n" for name, value in derived["settings"] + derived["tuned"]),
                "service.j2": f"ExecStart={derived['backup_script']} {' '.join(derived['backup_list'])}\n",
                "timer.j2": "[Timer]\n",
                "sandbox.j2": "[Service]\n",
                "tls_hook.j2": f"exec {derived['check']}\n",
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
        inputs["__mariadb_sources"] = sources
    return role.validate(inputs, context or Context())


def validated(values, context=None):
    model, problems = validate(values, context)
    assert problems == []
    return model


# --- Validation ---------------------------------------------------------------------------

SETTING_CASES = {
    # changes of the defaults -> the problem (None: accepted)
    "the defaults": ({}, None),
    "max_connections 0: from the clients": ({"mariadb_max_connections": 0}, None),
    "max_connections 10": ({"mariadb_max_connections": 10}, None),
    "max_connections 100000": ({"mariadb_max_connections": 100000}, None),
    "max_connections 0 from extra vars (a string)": ({"mariadb_max_connections": "0"}, None),
    "max_connections 500 from extra vars (a string)": ({"mariadb_max_connections": "500"}, None),
    "max_connections 5": (
        {"mariadb_max_connections": 5},
        "mariadb_max_connections: 5 is not 0 (from the application tier) or a number from 10 to 100000.",
    ),
    "max_connections above the server's maximum": (
        {"mariadb_max_connections": 100001},
        "mariadb_max_connections: 100001 is not 0 (from the application tier) or a number from 10 to 100000.",
    ),
    "max_connections negative": (
        {"mariadb_max_connections": -1},
        "mariadb_max_connections: -1 is not 0",
    ),
    "max_connections a boolean": (
        {"mariadb_max_connections": True},
        "mariadb_max_connections: true is not 0",
    ),
    "max_connections a word": (
        {"mariadb_max_connections": "many"},
        'mariadb_max_connections: "many" is not 0',
    ),
    "per_client 1": ({"mariadb_connections_per_client": 1}, None),
    "per_client 10000": ({"mariadb_connections_per_client": 10000}, None),
    "per_client from extra vars (a string)": ({"mariadb_connections_per_client": "20"}, None),
    "per_client 0": (
        {"mariadb_connections_per_client": 0},
        "mariadb_connections_per_client: 0 is not a number from 1 to 10000.",
    ),
    "per_client 10001": (
        {"mariadb_connections_per_client": 10001},
        "mariadb_connections_per_client: 10001 is not a number from 1 to 10000.",
    ),
    "per_client a boolean": (
        {"mariadb_connections_per_client": True},
        "mariadb_connections_per_client: true is not a number from 1 to 10000.",
    ),
    "share 0.05": ({"mariadb_buffer_pool_share": 0.05}, None),
    "share 0.9": ({"mariadb_buffer_pool_share": 0.9}, None),
    "share from extra vars (a string)": ({"mariadb_buffer_pool_share": "0.6"}, None),
    "share below 0.05": (
        {"mariadb_buffer_pool_share": 0.04},
        "mariadb_buffer_pool_share: 0.04 is not a share of the memory from 0.05 to 0.9.",
    ),
    "share above 0.9": (
        {"mariadb_buffer_pool_share": 0.95},
        "mariadb_buffer_pool_share: 0.95 is not a share of the memory from 0.05 to 0.9.",
    ),
    "share the whole memory": (
        {"mariadb_buffer_pool_share": 1},
        "mariadb_buffer_pool_share: 1 is not a share of the memory from 0.05 to 0.9.",
    ),
    "share a boolean": (
        {"mariadb_buffer_pool_share": True},
        "mariadb_buffer_pool_share: true is not a share of the memory from 0.05 to 0.9.",
    ),
    "relative backup dir": (
        {"mariadb_backup_dir": "backups"},
        'mariadb_backup_dir: "backups" is not an absolute path of letters, digits,',
    ),
    "backup dir /": ({"mariadb_backup_dir": "/"}, 'mariadb_backup_dir: "/" is not an absolute path'),
    "backup dir leaving with ..": (
        {"mariadb_backup_dir": "/var/../etc"},
        'mariadb_backup_dir: "/var/../etc" is not an absolute path',
    ),
    "backup dir with a space": (
        {"mariadb_backup_dir": "/var/my backups"},
        'mariadb_backup_dir: "/var/my backups" is not an absolute path',
    ),
    "no backup kept": (
        {"mariadb_backup_keep": 0},
        "mariadb_backup_keep: 0 is not a number of at least 1 (a whole number from 1 to 1000).",
    ),
    "keep a word": (
        {"mariadb_backup_keep": "all"},
        'mariadb_backup_keep: "all" is not a number of at least 1 (a whole number from 1 to 1000).',
    ),
    "a schedule with a quote": (
        {"mariadb_backup_schedule": "daily'"},
        "mariadb_backup_schedule: \"daily'\" is not a systemd calendar expression (like '*-*-* 02:30:00',",
    ),
    "a schedule with a line break": (
        {"mariadb_backup_schedule": "daily\nExecStart=/bin/sh"},
        'mariadb_backup_schedule: "daily\\nExecStart=/bin/sh" is not a systemd calendar expression',
    ),
    "a schedule word": ({"mariadb_backup_schedule": "daily"}, None),
    "a bad database to back up": (
        {"mariadb_backup_databases": ["Shop"]},
        'mariadb_backup_databases: ["Shop"] is not a list of database names.',
    ),
    "databases to back up": ({"mariadb_backup_databases": ["shop"]}, None),
    "a database to back up that is not declared": (
        {"mariadb_backup_databases": ["shop", "stats"]},
        'mariadb_backup_databases[1]: "stats" is not a database declared present in mariadb_databases.',
    ),
}


@pytest.mark.parametrize("case", list(SETTING_CASES))
def test_settings_problems(case):
    changes, expected = SETTING_CASES[case]
    problems = role.settings_problems(given(**changes))
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_settings_and_model_problems_are_reported_together():
    values = given(
        mariadb_max_connections=5,
        mariadb_users=[{"name": "root", "password": "x"}],
        mariadb_grants=[],
    )
    model, problems = validate(values)
    assert model is None
    assert problems == [
        "mariadb_users[0] (root): name 'root' is one of the server's own users",
        "mariadb_max_connections: 5 is not 0 (from the application tier) or a number from 10 to 100000.",
    ]


CLIENT_CASES = {
    # hostvars, sources -> clients to ask, complete, networks
    "addresses in the inventory": (HOSTVARS, None, [], True, ["10.0.1.1/32", "10.0.1.2/32"]),
    "a client without addresses, not asked yet": ({**HOSTVARS, "app2": {}}, None, ["app2"], False, None),
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
    assert "def report" in role.validated(model, Context())["routes_program"]
    assert model["model"]["complete"] is complete
    if networks is not None:
        assert model["model"]["networks"] == networks
        assert model["model"]["users"][0]["hosts"] == [n.removesuffix("/32") for n in networks]


# --- Tuning inputs ----------------------------------------------------------------------------

ABSENT_FIRST = [{"name": "old", "state": "absent"}, {"name": "shop", "password": "secret"}]
CONNECTION_CASES = {
    # changes of the input -> max_connections
    "set by the user": ({"mariadb_max_connections": 300}, 300),
    "two clients, 50 each, plus 20": ({}, 120),
    "a network adds an account": ({"mariadb_client_networks": ["192.168.5.0/24"]}, 170),
    "no client: one, at least 50": (
        {"firewall_flows": [], "mariadb_certificate": "", "mariadb_grants": []},
        70,
    ),
    "few connections per client: at least 50": ({"mariadb_connections_per_client": 10}, 50),
    "many connections per client": ({"mariadb_connections_per_client": 500}, 1020),
    "no users: the networks count": ({"mariadb_users": [], "mariadb_grants": []}, 120),
    "the first user is absent": ({"mariadb_users": ABSENT_FIRST}, 120),
    "0 from extra vars (a string)": ({"mariadb_max_connections": "0"}, 120),
}


@pytest.mark.parametrize("case", list(CONNECTION_CASES))
def test_max_connections_from_the_accounts(case):
    changes, expected = CONNECTION_CASES[case]
    model = validated(given(**changes))
    assert role.max_connections(model["values"], model["model"]) == expected


@pytest.mark.parametrize(
    ("certificate", "bind", "expected_names"),
    [
        (
            "db",
            "*",
            [
                "bind_address",
                "local_infile",
                "port",
                "require_secure_transport",
                "skip_name_resolve",
                "ssl_cert",
                "ssl_cipher",
                "ssl_key",
                "tls_version",
            ],
        ),
        (
            "",
            "127.0.0.1",
            ["bind_address", "local_infile", "port", "require_secure_transport", "skip_name_resolve"],
        ),
    ],
)
def test_fixed_settings(certificate, bind, expected_names):
    values = given(mariadb_certificate=certificate)
    if not certificate:
        values.update(firewall_flows=[])
    model = validated(values)
    fixed = role.fixed_settings(model["values"], model["model"])
    assert sorted(fixed) == expected_names
    assert fixed["bind_address"] == bind
    assert (fixed["port"], fixed["skip_name_resolve"], fixed["local_infile"]) == ("3306", "ON", "OFF")
    assert fixed["require_secure_transport"] == "ON"
    if certificate:
        assert fixed["ssl_cert"] == "/etc/ssl/groundwork/db/fullchain.pem"
        assert fixed["ssl_key"] == "/etc/ssl/groundwork/db/privkey.pem"
        assert fixed["tls_version"] == "TLSv1.2,TLSv1.3"


def test_user_settings_override_the_tuned_ones():
    values = given(
        mariadb_settings={"max_connections": 400, "innodb_buffer_pool_size": "2G", "slow_query_log": True}
    )
    model = validated(values)
    probe = {"memtotal_mb": 4096, "cgroup_memory": "max"}
    fixed, tuned, memory = role.server_settings(model["values"], model["model"], probe)
    assert memory == 4 * GIB
    assert tuned["max_connections"] == "400"
    assert tuned["innodb_buffer_pool_size"] == "2G"
    assert tuned["slow_query_log"] == "ON"
    assert tuned["innodb_log_file_size"] == str(512 * MIB)  # tuned from the memory, not the override
    assert "max_connections" not in fixed


# --- How the running server gets the values ---------------------------------------------------

WANTED = {
    "bind_address": "*",
    "skip_name_resolve": "ON",
    "max_connections": "120",
    "innodb_buffer_pool_size": str(512 * MIB),
    "slow_query_log": "ON",
}
STARTS = "the server starts with the new configuration"
ACTIVATION_CASES = {
    # catalogue (None: the server does not answer), config changed, installing -> (SET, restart)
    "installing": (None, False, True, ("", [STARTS])),
    "not running, the configuration changes": (None, True, False, ("", [STARTS])),
    "not running, nothing changes": (None, False, False, ("", [])),
    "running as configured": (catalogue(WANTED), False, False, ("", [])),
    "running as configured, the file changes (a comment)": (catalogue(WANTED), True, False, ("", [])),
    "a static variable differs": (
        catalogue(WANTED, skip_name_resolve="OFF"),
        True,
        False,
        ("", ["skip_name_resolve (a static variable) is 'OFF', configured 'ON'"]),
    ),
    "a static and a dynamic variable differ: the restart sets both": (
        catalogue(WANTED, bind_address="127.0.0.1", max_connections="151"),
        True,
        False,
        ("", ["bind_address (a static variable) is '127.0.0.1', configured '*'"]),
    ),
    "only dynamic variables differ": (
        catalogue(WANTED, max_connections="151", slow_query_log="OFF"),
        True,
        False,
        ("SET GLOBAL max_connections = 120, GLOBAL slow_query_log = 'ON';", []),
    ),
    "a variable the server does not list": (
        catalogue(WANTED, slow_query_log=None),
        False,
        False,
        ("", []),
    ),
}


@pytest.mark.parametrize("case", list(ACTIVATION_CASES))
def test_activation(case):
    running, config_changed, installing, expected = ACTIVATION_CASES[case]
    config_changes = [role.Change("file", CONFIG, "content differs")] if config_changed else []
    assert role.activation(WANTED, running, config_changes, installing) == expected


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        # the file sets what it set before: nothing to undo
        ([*WANTED], ("SET GLOBAL max_connections = 120;", [])),
        # a variable the file set and sets no more: its start-up value needs a restart
        (
            [*WANTED, "long_query_time"],
            ("", ["long_query_time is no longer configured: the server takes its start-up value"]),
        ),
    ],
)
def test_a_variable_the_file_no_longer_sets_restarts_the_server(configured, expected):
    running = catalogue(WANTED, max_connections="151")
    changes = [role.Change("file", CONFIG, "content differs")]
    assert role.activation(WANTED, running, changes, False, configured) == expected


def test_an_override_of_max_connections_sizes_the_thread_cache():
    model = validated(given(mariadb_settings={"max_connections": 100}))
    probe = {"memtotal_mb": 1024, "cgroup_memory": "max"}
    tuned = role.server_settings(model["values"], model["model"], probe)[1]
    assert (tuned["max_connections"], tuned["thread_cache_size"]) == ("100", "100")


# --- The changes of the apply step ------------------------------------------------------------


def os_release(version_id="12"):
    return {**DEBIAN_12, "version_id": version_id, "version": f"{version_id}.1"}


def probe(**changes):
    answer = {
        "memtotal_mb": 2048,
        "cgroup_memory": "max",
        "cpus": 2,
        "mysql_groups": ["groundwork-tls", "ssl-cert"],
        "hooks": [HOOK],
        "catalogue": None,
    }
    answer.update(changes)
    return answer


def fresh_inspection(values=None, version_id="12"):
    """A host without MariaDB: every path the role reads is absent, nothing installed."""
    model = validated(values or given())
    paths = role.request(model, Context())["files"]
    return {
        "os": os_release(version_id),
        "files": {path: {"state": "absent"} for path in paths},
        "packages": dict.fromkeys(role.packages(model["values"]), "not-installed"),
        "units": {SERVICE: {"enabled": "not-found", "active": "inactive"}, TIMER: {"enabled": "not-found"}},
        "probe": probe(mysql_groups=[], hooks=[]),
    }


def converged(values, context=None, **running):
    """The inspection of a host as the role leaves it: files with the planned content, the
    server running with the planned values (``running`` overrides some)."""
    context = context or Context()
    model = validated(values, context)
    first = role.plan(model, fresh_inspection(values), context)
    files = {}
    for spec in first.data["support_files"] + first.data["config_files"]:
        if spec.get("state") == "absent":
            files[spec["path"]] = {"state": "absent"}
        else:
            files[spec["path"]] = {
                "state": "file",
                "sha256": digest(spec["content"]),
                "owner": "root",
                "group": "root",
                "mode": spec.get("mode", "0644"),
            }
    files[values["mariadb_backup_dir"]] = {"state": "directory", **role.BACKUP_DIR_STATE}
    planned = dict(context.derived["settings"] + context.derived["tuned"])
    return {
        "os": os_release(),
        "files": files,
        "packages": dict.fromkeys(role.packages(values), "installed"),
        "units": {SERVICE: RUNNING, TIMER: RUNNING},
        "probe": probe(catalogue=catalogue(planned, **running)),
    }


def plan(values, inspection, context=None):
    return role.plan(validated(values, context), inspection, context or Context())


def kinds_and_targets(result):
    return [(change.kind, change.target) for change in result.changes]


def host_parts(values, inspection):
    """The support and config file specs the plan computes for ``values``."""
    result = plan(values, inspection)
    return result.data["support_files"], result.data["config_files"]


ANSWERS = ("stop_timer", "join_tls_group", "start_service", "backup_dir_change", "start_timer", "restart")
HOST_CASES = {
    # input changes, inspection changes, live (SET, restart) -> changes, answers that are true
    "nothing to do": ({}, {}, ("", []), [], []),
    "mysql joins the TLS group, and restarts to use it": (
        {},
        {"probe": {"mysql_groups": ["ssl-cert"]}},
        ("", []),
        [("group", "mysql")],
        ["join_tls_group", "restart"],
    ),
    "no certificate: no group": (
        {"mariadb_certificate": "", "firewall_flows": []},
        {"probe": {"mysql_groups": []}},
        ("", []),
        [("file", CONFIG), ("file", HOOK)],
        [],
    ),
    "backups disabled with a running timer": (
        {"mariadb_backup_enabled": False},
        {},
        ("", []),
        [("service", TIMER), ("file", f"{UNITS}.service"), ("file", f"{UNITS}.timer")],
        ["stop_timer"],
    ),
    "backups disabled with an enabled timer that is not running": (
        {"mariadb_backup_enabled": False},
        {"units": {TIMER: {"enabled": "enabled", "active": "inactive"}}},
        ("", []),
        [("service", TIMER), ("file", f"{UNITS}.service"), ("file", f"{UNITS}.timer")],
        ["stop_timer"],
    ),
    "backups disabled and the timer gone": (
        {"mariadb_backup_enabled": False},
        {
            "units": {TIMER: {"enabled": "not-found", "active": "inactive"}},
            "files": {f"{UNITS}.service": {"state": "absent"}, f"{UNITS}.timer": {"state": "absent"}},
        },
        ("", []),
        [],
        [],
    ),
    "dynamic values set live": (
        {},
        {},
        ("SET GLOBAL max_connections = 120;", []),
        [("variables", SERVICE)],
        [],
    ),
    "a static value restarts": (
        {},
        {},
        ("", ["skip_name_resolve (a static variable) is 'OFF', configured 'ON'"]),
        [("service", SERVICE)],
        ["restart"],
    ),
    "the server stopped": (
        {},
        {"units": {SERVICE: STOPPED}},
        ("", []),
        [("service", SERVICE)],
        ["start_service"],
    ),
    "the backup directory open to others": (
        {},
        {"files": {"/var/backups/mariadb": {"state": "directory", **role.BACKUP_DIR_STATE, "mode": "0755"}}},
        ("", []),
        [("directory", "/var/backups/mariadb")],
        ["backup_dir_change"],
    ),
    "the backup timer stopped": (
        {},
        {"units": {TIMER: STOPPED}},
        ("", []),
        [("service", TIMER)],
        ["start_timer"],
    ),
    "an extra package": (
        {"mariadb_packages": ["mariadb-plugin-s3", "mariadb-server"]},
        {},
        ("", []),
        [("package", "mariadb-plugin-s3")],
        [],
    ),
    "the check program edited": (
        {},
        {"files": {role.CHECK: {"state": "file", "sha256": "0" * 64}}},
        ("", []),
        [("file", role.CHECK)],
        [],
    ),
}


@pytest.mark.parametrize("case", list(HOST_CASES))
def test_host_changes(case):
    input_changes, inspection_changes, live, expected, answers = HOST_CASES[case]
    values = given(**input_changes)
    inspection = converged(given())
    for key, value in inspection_changes.items():
        inspection[key] = {**inspection[key], **value}
    support, config = host_parts(values, inspection)
    changes, result = role.host_changes(values, inspection, support, config, live)
    assert [(change.kind, change.target) for change in changes] == expected
    for answer in ANSWERS:
        assert result[answer] is (answer in answers), answer
    assert result["set_global"] == live[0]
    assert result["missing"] == [target for kind, target in expected if kind == "package"]


def test_the_reasons_of_the_server_changes():
    values = given(mariadb_backup_enabled=False)
    inspection = converged(given())
    support, config = host_parts(values, inspection)
    live = ("SET GLOBAL max_connections = 120;", ["tls_version (a static variable) is 'x', configured 'y'"])
    changes, _answers = role.host_changes(values, inspection, support, config, live)
    assert [str(change) for change in changes if change.target in (SERVICE, TIMER)] == [
        f"service {TIMER}: backups are disabled; stop and disable the timer",
        f"variables {SERVICE}: applied live: SET GLOBAL max_connections = 120;",
        f"service {SERVICE}: restart: tls_version (a static variable) is 'x', configured 'y'",
    ]


# --- What the probe reads ---------------------------------------------------------------------

TUNED = [
    "innodb_buffer_pool_size",
    "innodb_flush_neighbors",
    "innodb_io_capacity",
    "innodb_log_file_size",
    "max_connections",
    "thread_cache_size",
]
FIXED = ["bind_address", "local_infile", "port", "require_secure_transport", "skip_name_resolve"]
TLS = ["ssl_cert", "ssl_cipher", "ssl_key", "tls_version"]


@pytest.mark.parametrize(
    ("changes", "variables"),
    [
        ({}, sorted(FIXED + TLS + TUNED)),
        ({"mariadb_certificate": "", "firewall_flows": []}, sorted(FIXED + TUNED)),
        (
            {"mariadb_settings": {"tmp_table_size": "64M", "max_connections": 300, "slow_query_log": True}},
            sorted([*FIXED, *TLS, *TUNED, "slow_query_log", "tmp_table_size"]),
        ),
    ],
)
def test_the_request_reads_the_variables_the_role_writes(changes, variables):
    request = role.request(validated(given(**changes)), Context())
    assert request["probe"] == {
        "variables": variables,
        "socket": "/run/mysqld/mysqld.sock",
        "config": "/etc/mysql/mariadb.conf.d/90-groundwork.cnf",
        "hook_dir": "/etc/groundwork/tls/hooks",
        "consumer": "mariadb",
    }
    assert request["units"] == [SERVICE, TIMER]


def test_the_request_reads_every_file_the_role_may_write():
    request = role.request(validated(given(mariadb_packages=["mariadb-plugin-s3"])), Context())
    assert request["files"] == [
        CONFIG,
        role.CHECK,
        role.BACKUP_SCRIPT,
        role.RESTORE_SCRIPT,
        "/etc/systemd/system/mariadb.service.d/groundwork-sandbox.conf",
        f"{UNITS}.service",
        f"{UNITS}.timer",
        HOOK,
        "/var/backups/mariadb",
    ]
    assert request["packages"] == [*role.BASE_PACKAGES, "mariadb-plugin-s3"]
    assert {"mariadb-server", "mariadb-client", "mariadb-backup", "python3-pymysql"} <= set(
        role.BASE_PACKAGES
    )
    plain = role.request(validated(given(mariadb_certificate="", firewall_flows=[])), Context())
    assert HOOK not in plain["files"]


# --- File sets ----------------------------------------------------------------------------------

PROGRAMS = {name: f"# {name}\n" for name in role.PROGRAMS}
RENDERED = {
    name: f"{name}\n" for name in ("groundwork.cnf.j2", "service.j2", "timer.j2", "tls_hook.j2", "sandbox.j2")
}
# the programs, and the drop-in that sandboxes mariadb.service
SCRIPTS = [
    (role.CHECK, "0644"),
    (role.BACKUP_SCRIPT, "0755"),
    (role.RESTORE_SCRIPT, "0755"),
    (role.SANDBOX, None),
]
OLD_HOOK = "/etc/groundwork/tls/hooks/old.d/mariadb"


def summary(specs):
    """(path, mode) of each spec; "absent" for a file that goes away."""
    return [(spec["path"], "absent" if spec.get("state") == "absent" else spec.get("mode")) for spec in specs]


FILE_SET_CASES = {
    # input changes, registered hooks -> support files, config files
    "backups and a certificate": (
        {},
        [],
        [*SCRIPTS, (f"{UNITS}.service", None), (f"{UNITS}.timer", None)],
        [(CONFIG, "0644"), (HOOK, "0755")],
    ),
    "backups disabled: the units go": (
        {"mariadb_backup_enabled": False},
        [HOOK],
        [*SCRIPTS, (f"{UNITS}.service", "absent"), (f"{UNITS}.timer", "absent")],
        [(CONFIG, "0644"), (HOOK, "0755")],
    ),
    "no certificate: every hook of the role goes, other roles' stay": (
        {"mariadb_certificate": ""},
        [HOOK, OLD_HOOK, "/etc/groundwork/tls/hooks/web.d/nginx"],
        [*SCRIPTS, (f"{UNITS}.service", None), (f"{UNITS}.timer", None)],
        [(CONFIG, "0644"), (HOOK, "absent"), (OLD_HOOK, "absent")],
    ),
    "another certificate: the old hook goes": (
        {"mariadb_certificate": "db2"},
        [HOOK],
        [*SCRIPTS, (f"{UNITS}.service", None), (f"{UNITS}.timer", None)],
        [(CONFIG, "0644"), ("/etc/groundwork/tls/hooks/db2.d/mariadb", "0755"), (HOOK, "absent")],
    ),
}


@pytest.mark.parametrize("case", list(FILE_SET_CASES))
def test_file_sets(case):
    changes, hooks, support, config = FILE_SET_CASES[case]
    found_support, found_config = role.file_sets(given(**changes), RENDERED, PROGRAMS, hooks)
    assert summary(found_support) == support
    assert summary(found_config) == config
    assert found_config[0]["content"] == "groundwork.cnf.j2\n"
    assert found_support[0]["content"] == "# check.py\n"


# --- Plans ------------------------------------------------------------------------------------


def test_a_fresh_host_gets_everything():
    result = plan(given(), fresh_inspection())
    assert result.problems == []
    assert kinds_and_targets(result) == [
        *[("package", name) for name in role.BASE_PACKAGES],
        ("file", role.CHECK),
        ("file", role.BACKUP_SCRIPT),
        ("file", role.RESTORE_SCRIPT),
        ("file", role.SANDBOX),
        ("file", f"{UNITS}.service"),
        ("file", f"{UNITS}.timer"),
        ("file", CONFIG),
        ("file", HOOK),
        ("group", "mysql"),
        ("service", SERVICE),
        ("service", SERVICE),
        ("directory", "/var/backups/mariadb"),
        ("service", TIMER),
    ]
    assert f"service {SERVICE}: restart: {STARTS}" in [str(change) for change in result.changes]
    assert result.data["missing"] == role.BASE_PACKAGES
    assert result.data["set_global"] == ""
    assert result.data["fresh_check"] is False
    for answer in ("join_tls_group", "start_service", "backup_dir_change", "start_timer", "restart"):
        assert result.data[answer] is True, answer
    assert result.data["stop_timer"] is False


def test_a_fresh_host_is_tuned_from_its_memory():
    context = Context()
    plan(given(), fresh_inspection(), context)
    derived = context.derived
    assert dict(derived["tuned"]) == {
        "innodb_buffer_pool_size": str(GIB),
        "innodb_log_file_size": str(256 * MIB),
        "innodb_io_capacity": "1000",
        "innodb_flush_neighbors": "0",
        "max_connections": "120",
        "thread_cache_size": "120",
    }
    assert (derived["memory_mib"], derived["cpus"]) == (2048, 2)
    assert dict(derived["settings"])["bind_address"] == "*"


def test_the_memory_is_the_containers_limit():
    context = Context()
    inspection = fresh_inspection()
    inspection["probe"]["cgroup_memory"] = str(GIB)
    plan(given(), inspection, context)
    assert context.derived["memory_mib"] == 1024
    assert dict(context.derived["tuned"])["innodb_buffer_pool_size"] == str(512 * MIB)


def test_check_mode_on_a_fresh_host_only_reports():
    result = plan(given(), fresh_inspection(), Context(check_mode=True))
    assert result.data["fresh_check"] is True
    converged_host = plan(given(), converged(given()), Context(check_mode=True))
    assert converged_host.data["fresh_check"] is False


def test_a_converged_host_has_nothing_to_change():
    values = given(mariadb_settings={"tmp_table_size": "64M", "slow_query_log": True})
    result = plan(values, converged(values))
    assert result.problems == []
    assert result.changes == []
    assert result.data["set_global"] == "" and result.data["restart"] is False
    assert result.secret is True
    assert result.data["users"][0]["password"] == "secret"
    assert result.data["users"][0]["hosts"] == ["10.0.1.1", "10.0.1.2"]
    assert result.data["grants"][0]["privileges"] == ["ALL"]
    assert result.data["notices"] == []


def test_a_drifted_dynamic_variable_is_set_live():
    values = given()
    result = plan(values, converged(values, max_connections="151"))
    assert kinds_and_targets(result) == [("variables", SERVICE)]
    assert result.changes[0].reason == "applied live: SET GLOBAL max_connections = 120;"
    assert result.data["set_global"] == "SET GLOBAL max_connections = 120;"
    assert result.data["restart"] is False


def test_a_changed_user_setting_is_written_and_set_live():
    values = given(mariadb_settings={"tmp_table_size": "64M"})
    inspection = converged(given(mariadb_settings={"tmp_table_size": "32M"}))
    result = plan(values, inspection)
    assert kinds_and_targets(result) == [("file", CONFIG), ("variables", SERVICE)]
    assert result.data["set_global"] == "SET GLOBAL tmp_table_size = 67108864;"
    assert result.data["restart"] is False


def test_a_drifted_static_variable_restarts_without_set():
    values = given()
    result = plan(values, converged(values, skip_name_resolve="OFF", max_connections="151"))
    assert kinds_and_targets(result) == [("service", SERVICE)]
    assert (
        result.changes[0].reason == "restart: skip_name_resolve (a static variable) is 'OFF', configured 'ON'"
    )
    assert result.data["set_global"] == ""
    assert result.data["restart"] is True


def test_a_stopped_server_is_started_without_a_restart():
    values = given()
    inspection = converged(values)
    inspection["probe"]["catalogue"] = None
    inspection["units"][SERVICE] = STOPPED
    result = plan(values, inspection)
    assert kinds_and_targets(result) == [("service", SERVICE)]
    assert result.data["start_service"] is True and result.data["restart"] is False


def test_a_stopped_server_whose_configuration_changes_starts_with_it():
    inspection = converged(given())
    inspection["probe"]["catalogue"] = None
    inspection["units"][SERVICE] = STOPPED
    result = plan(given(mariadb_settings={"tmp_table_size": "64M"}), inspection)
    assert kinds_and_targets(result) == [("file", CONFIG), ("service", SERVICE), ("service", SERVICE)]
    assert result.data["restart"] is True


@pytest.mark.parametrize(
    ("settings", "running", "problem"),
    [
        (
            {"innodb_fancy": 1},
            {"innodb_fancy": None},
            "mariadb_settings.innodb_fancy: is not a variable of the installed server (its SYSTEM_VARIABLES)",
        ),
        (
            {"max_connections": 5},
            {},
            "mariadb_settings.max_connections: '5' is out of the server's range (10 to 100000)",
        ),
        (
            {"innodb_buffer_pool_size": "1000000000"},
            {},
            "mariadb_settings.innodb_buffer_pool_size: '1000000000' is not a multiple of 1048576,"
            " the server's step for it",
        ),
        ({"slow_query_log": "maybe"}, {}, "mariadb_settings.slow_query_log: 'maybe' is not ON or OFF"),
        # not a crash of set_statement (float('abc')) in the plan
        ({"long_query_time": "abc"}, {}, "mariadb_settings.long_query_time: 'abc' is not a number"),
    ],
)
def test_a_setting_the_catalogue_refuses_is_a_problem_and_nothing_changes(settings, running, problem):
    inspection = converged(given())
    names = {name: "1" for name in settings if name not in running}
    inspection["probe"]["catalogue"].update(catalogue(names, **running))
    result = plan(given(mariadb_settings=settings), inspection)
    assert result.changes == []
    assert len(result.problems) == 1 and result.problems[0].startswith(problem), result.problems


def test_settings_are_checked_only_against_a_running_server():
    result = plan(given(mariadb_settings={"innodb_fancy": 1}), fresh_inspection())
    assert result.problems == []
    assert ("file", CONFIG) in kinds_and_targets(result)


@pytest.mark.parametrize(
    ("os", "expected"),
    [
        (
            {"id": "ubuntu", "name": "Ubuntu", "version_id": "24.04", "version": "24.04"},
            "groundwork.server.mariadb supports Debian 12 and 13; this host runs Ubuntu 24.04.",
        ),
        (
            {"id": "debian", "name": "Debian GNU/Linux", "version_id": "11", "version": "11.9"},
            "groundwork.server.mariadb supports Debian 12 and 13; this host runs Debian GNU/Linux 11.9.",
        ),
    ],
)
def test_an_unsupported_release_is_a_problem(os, expected):
    inspection = fresh_inspection()
    inspection["os"] = os
    result = plan(given(), inspection)
    assert result.changes == []
    assert result.problems == [expected]


def test_debian_13_is_supported():
    result = plan(given(), fresh_inspection(version_id="13"))
    assert result.problems == []
    assert result.changes


def test_a_plan_without_the_clients_addresses_is_refused():
    context = Context({**HOSTVARS, "app2": {}})
    model = validated(given(), context)
    result = role.plan(model, converged(given()), context)
    assert result.changes == []
    assert result.problems[0].startswith("The addresses of app2 (clients in firewall_flows) were not read")


def test_the_result_shows_the_summary_and_is_secret():
    result = plan(given(), converged(given(), max_connections="151"))
    shown_result = result.result()
    assert shown_result["summary"] == [
        f"variables {SERVICE}: applied live: SET GLOBAL max_connections = 120;"
    ]
    assert shown_result["kinds"] == ["variables"]
    assert result.secret is True


# --- The role's real templates ---------------------------------------------------------------

RENDERER = """
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, lookup_loader
from ansible.template import Templar
init_plugin_loader()
request = json.load(sys.stdin)
loader = DataLoader()
lookup = lookup_loader.get("ansible.builtin.template", loader=loader, templar=Templar(loader=loader))
print(lookup.run([request["path"]], variables=request["variables"])[0], end="")
"""


class RealContext(Context):
    """role_plan's Context with the real template lookup (in a child process: Ansible's
    loaders change the importing process for good) and the role's real files; the play's
    variables are the role's input."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def render(self, template, **extra):
        self.derived = extra["__mariadb_derived"]
        variables = {**self.values, **extra}
        request = json.dumps({"path": str(ROLE_DIR / "templates" / template), "variables": variables})
        done = subprocess.run(
            [sys.executable, "-c", RENDERER],
            input=request,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def read_file(self, name):
        return (ROLE_DIR / "files" / name).read_text()


@pytest.fixture(scope="module")
def real():
    values = given(mariadb_settings={"tmp_table_size": "64M"}, mariadb_backup_databases=["shop"])
    context = RealContext(values)
    result = plan(values, converged(values, context), context)
    specs = result.data["support_files"] + result.data["config_files"]
    return {"result": result, "files": {spec["path"]: spec.get("content") for spec in specs}}


def test_real_templates_a_converged_host_has_nothing_to_change(real):
    result = real["result"]
    assert result.problems == []
    assert result.changes == []


def test_real_templates_the_configuration(real):
    text = real["files"][CONFIG]
    assert text.startswith("#\n# Ansible managed\n#\n")
    lines = text.splitlines()
    assert "[mariadbd]" in lines
    for line in (
        "bind_address = *",
        "port = 3306",
        "skip_name_resolve = ON",
        "local_infile = OFF",
        "require_secure_transport = ON",
        "ssl_cert = /etc/ssl/groundwork/db/fullchain.pem",
        "ssl_key = /etc/ssl/groundwork/db/privkey.pem",
        "tls_version = TLSv1.2,TLSv1.3",
        f"innodb_buffer_pool_size = {GIB}",
        f"innodb_log_file_size = {256 * MIB}",
        "max_connections = 120",
        "tmp_table_size = 64M",
    ):
        assert line in lines, line
    assert "# --- Tuned for 2048 MiB of memory, 2 CPU(s), ssd storage; mariadb_settings override" in lines
    assert "{{" not in text and "{%" not in text


def test_real_templates_the_units_and_the_hook(real):
    files = real["files"]
    assert (
        f"ExecStart={role.BACKUP_SCRIPT} /var/backups/mariadb 7 shop"
        in files[f"{UNITS}.service"].splitlines()
    )
    assert "OnCalendar=*-*-* 02:30:00" in files[f"{UNITS}.timer"].splitlines()
    hook = files[HOOK].splitlines()
    assert hook[0] == "#!/bin/sh"
    assert f"/usr/bin/python3 {role.CHECK}" in hook
    assert (
        hook[-1]
        == "exec /usr/bin/mariadb --no-defaults --socket=/run/mysqld/mysqld.sock --user=root -e 'FLUSH SSL'"
    )
    assert files[role.CHECK] == (ROLE_DIR / "files" / "check.py").read_text().rstrip() + "\n"


def test_the_sandbox_drop_in_is_a_support_file():
    result = plan(given(), fresh_inspection())
    path = "/etc/systemd/system/mariadb.service.d/groundwork-sandbox.conf"
    assert result.data["sandbox"] == path
    assert {"path": path, "content": "[Service]\n"} in result.data["support_files"]
