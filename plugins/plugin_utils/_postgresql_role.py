# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of groundwork.server.postgresql, run by the action groundwork.server.role_plan.

``validate`` checks the input (plugin_utils/_postgresql_model.py) and resolves the clients
the flows name. Their addresses come from the inventory (firewall_addresses), from the
reports groundwork.server.firewall published in this run (firewall_host_report), or from a
delegated task of the role that asks the other clients: ``step: validate`` returns those
(``clients``), the task registers ``__postgresql_sources``, and the plan step reads it.

``request`` lists what the one inspection reads; ``plan`` derives the server's layout from
the release, the tuning from the memory and CPUs, renders the files and compares them
(_plan.file_changes), and returns the changes and what the applying tasks need. The plan
holds the roles' passwords (for the objects step), so it is secret.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _postgresql_role
"""

from __future__ import annotations

import json
import re

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils import _database_contract as contract
from ansible_collections.groundwork.server.plugins.plugin_utils import _postgresql_settings as catalogue_check
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import Checker
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    Plan,
    missing_packages,
    release_problem,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._postgresql_model import postgresql_model
from ansible_collections.groundwork.server.plugins.plugin_utils._postgresql_tune import postgresql_tune
from ansible_collections.groundwork.server.plugins.plugin_utils._probes.postgresql import (
    RESTART_PENDING,
    psql_argv,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._web_server import SSL_CIPHERS

ROLE = "postgresql"
# Debian's PostgreSQL of each release.
VERSIONS = {"12": 15, "13": 17}
SERVICE = "postgresql@{}-main.service"
CHECK = "/usr/local/sbin/groundwork-postgresql-check"
BACKUP_SCRIPT = "/usr/local/sbin/groundwork-postgresql-backup"
BACKUP_UNIT = "groundwork-postgresql-backup"
BACKUP_TIMER = f"{BACKUP_UNIT}.timer"
UNIT_DIR = "/etc/systemd/system"
BASE_PACKAGES = ["postgresql", "python3-apt"]
BACKUP_DIR_STATE = {"owner": "postgres", "group": "postgres", "mode": "0700"}
DATABASE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# PostgreSQL's MAX_BACKENDS (2^18 - 1).
MAX_CONNECTIONS = 262143
MAX_CACHE_VALID_TIME = 10**7

# The role's variables and their defaults (defaults/main.yml sets them all; a play that
# imports only this module's tasks may not).
VARIABLES = {
    "postgresql_port": 5432,
    "postgresql_certificate": "",
    "postgresql_roles": [],
    "postgresql_databases": [],
    "postgresql_grants": [],
    "postgresql_require_vaulted_passwords": False,
    "postgresql_client_networks": [],
    "postgresql_allow_any_source": False,
    "postgresql_max_connections": 100,
    "postgresql_storage": "ssd",
    "postgresql_settings": {},
    "postgresql_backup_enabled": True,
    "postgresql_backup_dir": "/var/backups/postgresql",
    "postgresql_backup_keep": 7,
    "postgresql_backup_schedule": "*-*-* 02:30:00",
    "postgresql_backup_databases": [],
    "postgresql_packages": [],
    "postgresql_apt_cache_valid_time": 3600,
    "firewall_flows": [],
}


# --- Pure functions -----------------------------------------------------------------------


def layout(version):
    """Where the cluster "main" of a PostgreSQL major version lives and its unit."""
    return {
        "version": version,
        "conf_dir": f"/etc/postgresql/{version}/main",
        "service": SERVICE.format(version),
        # the drop-in that sandboxes the unit (templates/sandbox.j2; a change restarts it)
        "sandbox": f"{UNIT_DIR}/{SERVICE.format(version)}.d/groundwork-sandbox.conf",
    }


def packages(values):
    return BASE_PACKAGES + [name for name in values["postgresql_packages"] if name not in BASE_PACKAGES]


def settings_problems(values, tls_certificates=None):
    """The backup settings (the database contract's) and what the argument spec cannot
    express: max_connections's range, real booleans, the storage, the certificate among the
    host's tls_certificates, the extra packages' names."""
    problems = contract.backup_problems("postgresql", values, DATABASE)
    if contract.whole(values["postgresql_max_connections"], 5, MAX_CONNECTIONS) is None:
        problems.append(
            f"postgresql_max_connections: {json.dumps(values['postgresql_max_connections'], default=str)}"
            f" is not a number of at least 5 (a whole number from 5 to {MAX_CONNECTIONS})."
        )
    check = Checker()
    contract.booleans(check, values, ("postgresql_require_vaulted_passwords", "postgresql_allow_any_source"))
    check.one_of("postgresql_storage", None, values["postgresql_storage"], ("ssd", "hdd"), optional=False)
    if tls_certificates is None:
        tls_certificates = values.get("tls_certificates")
    contract.certificate(check, "postgresql_certificate", values["postgresql_certificate"], tls_certificates)
    contract.packages(check, "postgresql_packages", values["postgresql_packages"])
    if contract.whole(values["postgresql_apt_cache_valid_time"], 0, MAX_CACHE_VALID_TIME) is None:
        check.add(
            "postgresql_apt_cache_valid_time",
            None,
            values["postgresql_apt_cache_valid_time"],
            f"is out of range (expected a whole number of seconds from 0 to {MAX_CACHE_VALID_TIME})",
        )
    return problems + check.errors


def model_arguments(values, host, groups, hostvars):
    return {
        "databases": values["postgresql_databases"],
        "grants": values["postgresql_grants"],
        "settings": values["postgresql_settings"],
        "networks": values["postgresql_client_networks"],
        "flows": values["firewall_flows"] or [],
        "host": host,
        "groups": groups,
        "hostvars": hostvars,
        "port": values["postgresql_port"],
        "require_vaulted": values["postgresql_require_vaulted_passwords"],
        "allow_any": values["postgresql_allow_any_source"],
    }


def resolve(values, host, groups, hostvars, sources, tls_certificates=None):
    """The model: first which clients need asking, then (when all were asked) their access.
    Returns (model, problems)."""
    arguments = model_arguments(values, host, groups, hostvars)

    def build(reports, outside):
        return postgresql_model(values["postgresql_roles"], reports=reports, outside=outside, **arguments)

    return contract.resolve(build, hostvars, sources, settings_problems(values, tls_certificates))


# Who connected, from where, and when they left (the dev-sec baseline's logging); settings
# like the tuned ones, so that postgresql_settings may override them.
LOGGING = {"log_connections": "on", "log_disconnections": "on", "log_line_prefix": "%m [%p] %q%u@%d from %h "}


def tuning(values, probe, version):
    """The tuned settings (postgresql_tune) and the line that says what they were tuned for."""
    tuned = postgresql_tune(
        probe["memtotal_mb"],
        cgroup_memory=probe["cgroup_memory"],
        cpus=probe["cpus"],
        max_connections=values["postgresql_max_connections"],
        storage=values["postgresql_storage"],
        version=version,
        overrides={**LOGGING, **values["postgresql_settings"]},
    )
    memory = int(tuned.pop("_memory_bytes"))
    limited = probe["cgroup_memory"] != "max" and memory < int(probe["memtotal_mb"]) * 1048576
    return {
        "settings": sorted(tuned.items()),
        "memory_mib": memory // 1048576,
        "memory_note": " (the cgroup limit)" if limited else "",
        "cpus": probe["cpus"],
    }


def backup_list(values, databases):
    """The databases the backups dump: the ones named, or every database declared present."""
    return list(values["postgresql_backup_databases"]) or [
        database["name"] for database in databases if database["state"] == "present"
    ]


def hook(values):
    certificate = values["postgresql_certificate"]
    return contracts.hook_path(certificate, ROLE) if certificate else None


def observed_paths(values):
    """Every file the role may write, for each version the role knows, and the backup directory."""
    paths = []
    for version in VERSIONS.values():
        conf_dir = layout(version)["conf_dir"]
        paths += [f"{conf_dir}/conf.d/groundwork.conf", f"{conf_dir}/pg_hba.conf", layout(version)["sandbox"]]
    paths += [CHECK, BACKUP_SCRIPT, f"{UNIT_DIR}/{BACKUP_UNIT}.service", f"{UNIT_DIR}/{BACKUP_TIMER}"]
    if hook(values):
        paths.append(hook(values))
    paths.append(values["postgresql_backup_dir"])
    return paths


def file_sets(values, server, rendered, programs, hooks):
    """(support, config): the role's programs and units, and the configuration applied as one
    transaction (with the renewal hook, and the removal of the hooks no longer used)."""
    support = [
        {"path": CHECK, "mode": "0644", "content": programs["check_config.py"]},
        {"path": BACKUP_SCRIPT, "mode": "0755", "content": programs["backup.sh"]},
        {"path": server["sandbox"], "content": rendered["sandbox.j2"]},
    ]
    enabled = values["postgresql_backup_enabled"]
    support += contract.backup_units(f"{UNIT_DIR}/{BACKUP_UNIT}", enabled, rendered)
    conf_dir = server["conf_dir"]
    config = [
        {
            "path": f"{conf_dir}/conf.d/groundwork.conf",
            "owner": "postgres",
            "group": "postgres",
            "mode": "0644",
            "content": rendered["groundwork.conf.j2"],
        },
        {
            "path": f"{conf_dir}/pg_hba.conf",
            "owner": "postgres",
            "group": "postgres",
            "mode": "0640",
            "content": rendered["pg_hba.conf.j2"],
        },
    ]
    certificate = values["postgresql_certificate"]
    config += contract.renewal_hook(certificate, ROLE, rendered.get("tls_hook.j2"), hooks)
    return support, config


def host_changes(values, server, inspection, support, config):
    """Everything the apply step changes, and the answers its tasks need (the database contract's)."""
    probe = inspection["probe"]
    facts = {
        "user": "postgres",
        "groups": probe["postgres_groups"],
        "service": server["service"],
        "service_state": probe.get("service"),
        "timer": BACKUP_TIMER,
        "timer_state": probe["units"].get(BACKUP_TIMER),
        "backup_dir": BACKUP_DIR_STATE,
    }
    return contract.host_changes("postgresql", values, packages(values), inspection, support + config, facts)


def locale_key(name):
    """A locale as the C library matches it: the codeset without case and punctuation
    (en_US.UTF-8 is en_US.utf8)."""
    base, dot, codeset = name.partition(".")
    return base + dot + re.sub(r"[^a-z0-9@]", "", codeset.lower())


def locale_problems(databases, offered):
    """A new database's locale the host does not offer (``locale -a``): CREATE DATABASE would
    fail after the configuration was applied."""
    if offered is None:
        return []
    known = {locale_key(name) for name in offered} | {"C", "POSIX"}
    problems = []
    for index, database in enumerate(databases):
        locale = database.get("locale")
        if database.get("state") == "present" and locale and locale_key(locale) not in known:
            listed = ", ".join(offered) or "none"
            problems.append(
                f"postgresql_databases[{index}] ({database['name']}): locale {locale!r} is not offered by"
                f" the host (locale -a lists {listed}); generate it first (locales-all, or locale-gen)"
            )
    return problems


def host_problems(server, missing, probe):
    """What only the inspection can find: a packaged postgresql.conf that does not read conf.d."""
    if "postgresql" not in missing and not probe["include_dir"]:
        return [
            f"{server['conf_dir']}/postgresql.conf has no active \"include_dir = 'conf.d'\" line;"
            " the role writes its settings to conf.d/groundwork.conf and never edits the packaged file."
            " Restore the line."
        ]
    return []


# --- The role_plan entry points -------------------------------------------------------------


def validate(inputs, context):
    values = {name: inputs.get(name, default) for name, default in VARIABLES.items()}
    model, problems = resolve(
        values,
        context.host,
        context.groups,
        context.hostvars,
        inputs.get("__postgresql_sources"),
        inputs.get("tls_certificates"),
    )
    if problems:
        return None, problems
    return {"values": values, "model": model}, []


validated = contract.validated


def request(model, context):
    del context
    values = model["values"]
    return {
        "files": observed_paths(values),
        "packages": packages(values),
        "probe": {
            "versions": VERSIONS,
            "hook_dir": contracts.HOOK_DIR,
            "consumer": ROLE,
            "service": SERVICE,
            "units": [BACKUP_TIMER],
            # the installed server's catalogue of these (pg_settings, or postgres --describe-config)
            "settings": sorted(values["postgresql_settings"]),
            "port": values["postgresql_port"],
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
    server = layout(VERSIONS[inspection["os"]["version_id"]])
    wanted = packages(values)
    missing = missing_packages(wanted, inspection.get("packages"))
    result.problems += host_problems(server, missing, probe)
    # postgresql_settings against the installed server's catalogue, before any file is
    # written; on a host without PostgreSQL yet, the apply step plans again after installing
    # it (tasks/packages.yml) and this check runs then.
    result.problems += locale_problems(access["databases"], probe.get("locales"))
    catalogue = probe.get("catalogue")
    if catalogue is not None:
        result.problems += catalogue_check.catalogue_problems(values["postgresql_settings"], catalogue)
    if result.problems:
        return result
    derived = {
        **server,
        **tuning(values, probe, server["version"]),
        "listen_addresses": access["listen_addresses"],
        # Mozilla's intermediate TLS 1.2 ciphers, as the web servers and MariaDB have them
        "ssl_ciphers": ":".join(SSL_CIPHERS),
        "hba": access["hba"],
        "certificate_dir": contracts.CERTIFICATE_DIR,
        "check": CHECK,
        "backup_script": BACKUP_SCRIPT,
        "backup_list": backup_list(values, access["databases"]),
    }
    rendered = json.loads(context.render("files.j2", __postgresql_derived=derived))
    programs = {name: context.read_file(name).rstrip() + "\n" for name in ("check_config.py", "backup.sh")}
    support, config = file_sets(values, server, rendered, programs, probe["hooks"])
    changes, answers = host_changes(values, server, inspection, support, config)
    result.extend(changes)
    pending = probe.get("pending") or {}
    if pending.get("restart") or pending.get("reload"):
        # An earlier run wrote the files and stopped before the reload or the restart: the
        # server still runs without these settings.
        what = (
            f"runs without {', '.join(pending['restart'])} of its files: a restart"
            if pending.get("restart")
            else f"has not read {', '.join(pending['reload'])} since it changed: a reload"
        )
        result.extend([Change("service", server["service"], what)])
    result.data.update(
        {
            **server,
            **answers,
            "check": CHECK,
            "backup_unit": BACKUP_UNIT,
            "tls_group": contracts.TLS_GROUP,
            "packages": wanted,
            # a check-mode run on a host without PostgreSQL: nothing to read or compare yet
            "fresh_check": context.check_mode and "postgresql" in missing,
            # no catalogue of settings yet: plan again once the packages are installed
            "recheck": catalogue is None,
            "pending_restart": bool(pending.get("restart")),
            # after the reload of the configuration's transaction: what still waits for a restart
            "restart_check": psql_argv(values["postgresql_port"], RESTART_PENDING),
            "pending_reload": bool(pending.get("reload")) and not pending.get("restart"),
            "support_files": support,
            "config_files": config,
            "roles": access["roles"],
            "databases": access["databases"],
            "grants": access["grants"],
            # (not "warnings": Ansible takes that key of a result for its own warnings)
            "notices": access["warnings"],
        }
    )
    return result
