# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of groundwork.server.mariadb, run by the action groundwork.server.role_plan.

``validate`` checks the input (plugin_utils/_mariadb_model.py) and resolves the clients the
flows name, in the two passes of the database contract (the role's delegated task reads the
addresses neither the inventory nor this run's firewall reports give).

``request`` lists what the one inspection reads (packages, files, units, and the probe: the
memory, the mysql user's groups, the renewal hooks and the running server's catalogue of the
variables the role writes); ``plan`` tunes the variables from the host's facts, checks the
user's ones against the catalogue before anything is written, renders the files and
compares them, and decides how the running server gets the new values: SET GLOBAL for the
dynamic variables, a restart only for a static one (or a first configuration). The plan
holds the users' passwords (for the objects step), so it is secret.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _mariadb_role
"""

from __future__ import annotations

import json

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils import _database_contract as contract
from ansible_collections.groundwork.server.plugins.plugin_utils import _mariadb_settings as variables
from ansible_collections.groundwork.server.plugins.plugin_utils._mariadb_model import NAME, mariadb_model
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import Checker
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    Plan,
    file_changes,
    missing_packages,
    release_problem,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._web_server import SSL_CIPHERS

ROLE = "mariadb"
SERVICE = "mariadb.service"
# The drop-in that sandboxes the unit (templates/sandbox.j2; a change restarts the server).
SANDBOX = f"/etc/systemd/system/{SERVICE}.d/groundwork-sandbox.conf"
SOCKET = "/run/mysqld/mysqld.sock"
CONFIG = "/etc/mysql/mariadb.conf.d/90-groundwork.cnf"
CHECK = "/usr/local/sbin/groundwork-mariadb-check"
BACKUP_SCRIPT = "/usr/local/sbin/groundwork-mariadb-backup"
RESTORE_SCRIPT = "/usr/local/sbin/groundwork-mariadb-restore"
BACKUP_UNIT = "groundwork-mariadb-backup"
BACKUP_TIMER = f"{BACKUP_UNIT}.timer"
UNIT_DIR = "/etc/systemd/system"
# The server, its client (the probe's catalogue query, the renewal hook), the backup tool,
# PyMySQL for groundwork.server.mariadb_objects, python3-apt for apt (and its check mode).
BASE_PACKAGES = ["mariadb-server", "mariadb-client", "mariadb-backup", "python3-pymysql", "python3-apt"]
# root's, and reachable (not readable) by mysql: the scratch server that checks every backup
# runs as mysql on a copy under it (roles/mariadb/files/backup.sh).
BACKUP_DIR_STATE = {"owner": "root", "group": "mysql", "mode": "0710"}
TLS_VERSIONS = "TLSv1.2,TLSv1.3"
# Connections the server keeps for itself (root, the backups, the role) beyond the clients'.
RESERVED_CONNECTIONS = 20
PROGRAMS = ("check.py", "backup.sh", "restore.sh")

INPUTS = (
    "mariadb_port",
    "mariadb_certificate",
    "mariadb_users",
    "mariadb_databases",
    "mariadb_grants",
    "mariadb_require_vaulted_passwords",
    "mariadb_client_networks",
    "mariadb_allow_any_source",
    "mariadb_max_connections",
    "mariadb_connections_per_client",
    "mariadb_buffer_pool_share",
    "mariadb_storage",
    "mariadb_settings",
    "mariadb_backup_enabled",
    "mariadb_backup_dir",
    "mariadb_backup_keep",
    "mariadb_backup_schedule",
    "mariadb_backup_databases",
    "mariadb_packages",
)
MAX_CACHE_VALID_TIME = 10**7


# --- Pure functions -----------------------------------------------------------------------


def packages(values):
    return BASE_PACKAGES + [name for name in values["mariadb_packages"] if name not in BASE_PACKAGES]


def share_of_memory(value):
    """mariadb_buffer_pool_share as a number from 0.05 to 0.9 (also from text, as -e gives
    it), or None."""
    if isinstance(value, bool):
        return None
    try:
        share = float(value)
    except (TypeError, ValueError):
        return None
    return share if 0.05 <= share <= 0.9 else None


def settings_problems(values, tls_certificates=None):
    """The backup settings (the database contract's), the tuning inputs, and what the
    argument spec cannot express: real booleans, the storage, the certificate among the
    host's tls_certificates, the extra packages' names."""
    problems = contract.backup_problems("mariadb", values, NAME)
    maximum = values["mariadb_max_connections"]
    if str(maximum) != "0" and contract.whole(maximum, 10, 100000) is None:
        problems.append(
            f"mariadb_max_connections: {json.dumps(maximum, default=str)} is not 0 (from the"
            " application tier) or a number from 10 to 100000."
        )
    per_client = values["mariadb_connections_per_client"]
    if contract.whole(per_client, 1, 10000) is None:
        problems.append(
            f"mariadb_connections_per_client: {json.dumps(per_client, default=str)}"
            " is not a number from 1 to 10000."
        )
    if share_of_memory(values["mariadb_buffer_pool_share"]) is None:
        share = values["mariadb_buffer_pool_share"]
        problems.append(
            f"mariadb_buffer_pool_share: {json.dumps(share, default=str)} is not a share of the memory"
            " from 0.05 to 0.9."
        )
    check = Checker()
    contract.booleans(check, values, ("mariadb_require_vaulted_passwords", "mariadb_allow_any_source"))
    check.one_of(
        "mariadb_storage", None, values["mariadb_storage"], tuple(variables.IO_CAPACITY), optional=False
    )
    if tls_certificates is None:
        tls_certificates = values.get("tls_certificates")
    contract.certificate(check, "mariadb_certificate", values["mariadb_certificate"], tls_certificates)
    contract.packages(check, "mariadb_packages", values["mariadb_packages"])
    cache_time = values.get("mariadb_apt_cache_valid_time", 3600)
    if contract.whole(cache_time, 0, MAX_CACHE_VALID_TIME) is None:
        check.add(
            "mariadb_apt_cache_valid_time",
            None,
            cache_time,
            f"is out of range (expected a whole number of seconds from 0 to {MAX_CACHE_VALID_TIME})",
        )
    return problems + check.errors


def resolve(values, host, groups, hostvars, sources, tls_certificates=None):
    """The model, in the database contract's two passes. Returns (model, problems)."""
    arguments = {
        "databases": values["mariadb_databases"],
        "grants": values["mariadb_grants"],
        "settings": values["mariadb_settings"],
        "networks": values["mariadb_client_networks"],
        "flows": values["firewall_flows"] or [],
        "host": host,
        "groups": groups,
        "hostvars": hostvars,
        "port": values["mariadb_port"],
        "require_vaulted": values["mariadb_require_vaulted_passwords"],
        "allow_any": values["mariadb_allow_any_source"],
        "certificate": values["mariadb_certificate"],
    }

    def build(reports, outside):
        return mariadb_model(values["mariadb_users"], reports=reports, outside=outside, **arguments)

    return contract.resolve(build, hostvars, sources, settings_problems(values, tls_certificates))


def max_connections(values, access):
    """mariadb_max_connections, or (0) the clients the flows allow times the connections each
    may open, plus the server's own."""
    if int(values["mariadb_max_connections"]):
        return int(values["mariadb_max_connections"])
    clients = max(1, len(access["networks"]))
    return max(50, RESERVED_CONNECTIONS + clients * int(values["mariadb_connections_per_client"]))


def fixed_settings(values, access):
    """What the role owns: where the server listens and how it admits clients."""
    settings = {
        "bind_address": access["bind_address"],
        "port": str(values["mariadb_port"]),
        "skip_name_resolve": "ON",
        "local_infile": "OFF",
        "require_secure_transport": "ON",
    }
    certificate = values["mariadb_certificate"]
    if certificate:
        settings.update(
            {
                "ssl_cert": contracts.certificate_file(certificate, "fullchain"),
                "ssl_key": contracts.certificate_file(certificate, "privkey"),
                "tls_version": TLS_VERSIONS,
                "ssl_cipher": ":".join(SSL_CIPHERS),
            }
        )
    return settings


def server_settings(values, access, probe):
    """(fixed, tuned, memory): the role's own variables, the tuned ones with the user's
    overrides, and the memory they were tuned for."""
    memory = variables.memory_bytes(probe["memtotal_mb"], probe["cgroup_memory"])
    # (an override of max_connections sizes the thread cache too)
    connections = variables.parse_number(access["settings"].get("max_connections", ""))
    tuned = variables.tune(
        memory,
        values["mariadb_storage"],
        connections or max_connections(values, access),
        share_of_memory(values["mariadb_buffer_pool_share"]),
    )
    tuned.update(access["settings"])
    return fixed_settings(values, access), tuned, memory


def hook(values):
    certificate = values["mariadb_certificate"]
    return contracts.hook_path(certificate, ROLE) if certificate else None


def observed_paths(values):
    units = [f"{UNIT_DIR}/{BACKUP_UNIT}.service", f"{UNIT_DIR}/{BACKUP_TIMER}"]
    paths = [CONFIG, CHECK, BACKUP_SCRIPT, RESTORE_SCRIPT, SANDBOX, *units]
    if hook(values):
        paths.append(hook(values))
    paths.append(values["mariadb_backup_dir"])
    return paths


def file_sets(values, rendered, programs, hooks):
    """(support, config): the role's programs and units, and the configuration applied as one
    transaction (with the renewal hook, and the removal of the hooks no longer used)."""
    support = [
        {"path": CHECK, "mode": "0644", "content": programs["check.py"]},
        {"path": BACKUP_SCRIPT, "mode": "0755", "content": programs["backup.sh"]},
        {"path": RESTORE_SCRIPT, "mode": "0755", "content": programs["restore.sh"]},
        {"path": SANDBOX, "content": rendered["sandbox.j2"]},
    ]
    support += contract.backup_units(f"{UNIT_DIR}/{BACKUP_UNIT}", values["mariadb_backup_enabled"], rendered)
    config = [{"path": CONFIG, "mode": "0644", "content": rendered["groundwork.cnf.j2"]}]
    config += contract.renewal_hook(values["mariadb_certificate"], ROLE, rendered.get("tls_hook.j2"), hooks)
    return support, config


def activation(settings, catalogue, config_changes, installing, configured=()):
    """How the running server gets the file's values: (SET GLOBAL statement, restart reasons).
    A variable the role's file set (``configured``) and sets no more goes back to its start-up
    value, which only a restart gives (Debian's files or the server's default)."""
    if catalogue is None:
        # Not running (or not installed yet): the configuration takes effect when it starts;
        # a server the package just started with its defaults restarts once.
        return "", ["the server starts with the new configuration"] if installing or config_changes else []
    dynamic, static = variables.live_changes(settings, catalogue)
    reasons = [
        f"{name} (a static variable) is {catalogue[name]['value']!r}, configured {settings[name]!r}"
        for name in static
    ]
    reasons += [
        f"{name} is no longer configured: the server takes its start-up value"
        for name in sorted(set(configured) - set(settings))
    ]
    return ("" if reasons else variables.set_statement(dynamic, catalogue)), reasons


def host_changes(values, inspection, support, config, live):
    """Everything the apply step changes (the database contract's, and how the running server
    gets its variables), and the answers its tasks need."""
    probe = inspection["probe"]
    units = inspection.get("units") or {}
    statement, restart = live
    extra = [Change("variables", SERVICE, f"applied live: {statement}")] if statement else []
    if restart:
        extra.append(Change("service", SERVICE, "restart: " + "; ".join(restart)))
    facts = {
        "user": "mysql",
        "groups": probe["mysql_groups"],
        "service": SERVICE,
        "service_state": units.get(SERVICE),
        "timer": BACKUP_TIMER,
        "timer_state": units.get(BACKUP_TIMER),
        "backup_dir": BACKUP_DIR_STATE,
    }
    wanted, specs = packages(values), support + config
    changes, answers = contract.host_changes("mariadb", values, wanted, inspection, specs, facts, extra)
    answers.update({"set_global": statement, "restart": bool(restart) or answers["join_tls_group"]})
    return changes, answers


# --- The role_plan entry points -------------------------------------------------------------


def validate(inputs, context):
    values = {name: inputs[name] for name in INPUTS}
    values["mariadb_apt_cache_valid_time"] = inputs.get("mariadb_apt_cache_valid_time", 3600)
    values["firewall_flows"] = inputs.get("firewall_flows") or []
    sources = inputs.get("__mariadb_sources")
    model, problems = resolve(
        values, context.host, context.groups, context.hostvars, sources, inputs.get("tls_certificates")
    )
    if problems:
        return None, problems
    return {"values": values, "model": model}, []


validated = contract.validated


def request(model, context):
    del context
    values, access = model["values"], model["model"]
    tuned = variables.tune(0, "ssd", 50, 0.5)
    names = sorted(set(fixed_settings(values, access)) | set(tuned) | set(access["settings"]))
    return {
        "files": observed_paths(values),
        "packages": packages(values),
        "units": [SERVICE, BACKUP_TIMER],
        "probe": {
            "variables": names,
            "socket": SOCKET,
            "config": CONFIG,
            "hook_dir": contracts.HOOK_DIR,
            "consumer": ROLE,
        },
    }


def plan(model, inspection, context):
    values, access = model["values"], model["model"]
    result = Plan(secret=True)
    problem = release_problem(ROLE, inspection["os"]) or contract.clients_problem(access)
    if problem:
        result.problems.append(problem)
        return result
    probe = inspection["probe"]
    catalogue = probe["catalogue"]
    if catalogue is not None:
        result.problems += variables.catalogue_problems(access["settings"], catalogue)
    if probe["memtotal_mb"] is None:
        result.problems.append("The host's memory could not be read (/proc/meminfo): the role tunes from it.")
    if result.problems:
        return result
    fixed, tuned, memory = server_settings(values, access, probe)
    wanted = packages(values)
    missing = missing_packages(wanted, inspection.get("packages"))
    derived = {
        "settings": sorted(fixed.items()),
        "tuned": sorted(tuned.items()),
        "memory_mib": memory // variables.MIB,
        "cpus": probe["cpus"],
        "socket": SOCKET,
        "service": SERVICE,
        "check": CHECK,
        "config": CONFIG,
        "backup_script": BACKUP_SCRIPT,
        "restore_script": RESTORE_SCRIPT,
        "backup_list": list(values["mariadb_backup_databases"]),
    }
    rendered = json.loads(context.render("files.j2", __mariadb_derived=derived))
    programs = {name: context.read_file(name).rstrip() + "\n" for name in PROGRAMS}
    support, config = file_sets(values, rendered, programs, probe["hooks"])
    config_changes = file_changes(config, inspection.get("files") or {})
    installing, configured = "mariadb-server" in missing, probe.get("configured") or []
    live = activation({**fixed, **tuned}, catalogue, config_changes, installing, configured)
    changes, answers = host_changes(values, inspection, support, config, live)
    result.extend(changes)
    result.data.update(
        {
            **answers,
            "service": SERVICE,
            "sandbox": SANDBOX,
            "socket": SOCKET,
            "check": CHECK,
            "backup_unit": BACKUP_UNIT,
            "tls_group": contracts.TLS_GROUP,
            "packages": wanted,
            # a check-mode run on a host without MariaDB: nothing to read or compare yet
            "fresh_check": context.check_mode and "mariadb-server" in missing,
            # the server did not answer: plan again once the packages are installed, which
            # checks mariadb_settings against its catalogue before any file is written
            "recheck": catalogue is None,
            "support_files": support,
            "config_files": config,
            "users": access["users"],
            "databases": access["databases"],
            "grants": access["grants"],
            # (not "warnings": Ansible takes that key of a result for its own warnings)
            "notices": access["warnings"],
        }
    )
    return result
