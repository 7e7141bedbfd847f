# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host facts of groundwork.server.postgresql, answered inside the shared probe process.

``inspect(args, core)`` with args {"versions" (Debian release -> PostgreSQL major version),
"hook_dir", "consumer", "service" (the server's unit, "{}" for the version), "units"}
returns the memory (MiB) and the cgroup's limit, the CPUs,
whether the packaged postgresql.conf of the release's version reads conf.d, the groups of
the postgres user, the renewal hooks the role registered, and the state of the server's and
the backup timer's units ("enabled" when ``systemctl is-enabled`` succeeds: enabled, static,
generated, ...; "active" when ``systemctl is-active`` does), and the installed server's
catalogue of the settings named in args "settings" (``catalogue``, see below). Standard
library only; reads only.

The catalogue is {"source", "settings": {name: {"type", "unit", "min", "max", "enum",
"context"}}}: from pg_settings of the running server when one answers on its socket (the
port read from the socket's name), else from ``postgres --describe-config`` of the installed
binaries, which knows names, types, contexts and ranges but neither units ("unit" is "?")
nor the choices of an enum ("enum" is None). None when PostgreSQL is not installed.
``locales`` lists what ``locale -a`` offers (a new database's locale must be one).
"""

from __future__ import annotations

import glob
import grp
import json
import os
import re

RUNUSER = "/usr/sbin/runuser"
PSQL = "/usr/bin/psql"
SOCKET_DIR = "/var/run/postgresql"
NAME = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?")
TYPES = {"BOOLEAN": "bool", "INTEGER": "integer", "REAL": "real", "STRING": "string", "ENUM": "enum"}


def include_dir(core, conf_dir):
    text = core.read(os.path.join(conf_dir, "postgresql.conf")) or ""
    return bool(re.search(r"^\s*include_dir\s*=?\s*'conf\.d'", text, re.MULTILINE))


def unit_state(core, unit):
    state = {}
    for key, verb, yes in (("enabled", "is-enabled", "enabled"), ("active", "is-active", "active")):
        done = core.run(["/usr/bin/systemctl", verb, unit])
        if done is None:
            state[key] = "unknown"
        elif done.returncode == 0:
            state[key] = yes
        else:
            state[key] = done.stdout.strip() or "unknown"
    return state


def _running_ports():
    """The ports of the servers that run now, from their sockets' names (.s.PGSQL.<port>)."""
    names = glob.glob(os.path.join(SOCKET_DIR, ".s.PGSQL.*"))
    return sorted({int(p.rsplit(".", 1)[1]) for p in names if p.rsplit(".", 1)[1].isdigit()})


def psql_argv(port, query):
    """psql as postgres on the local socket of the cluster on ``port``: one query, its rows
    unaligned, no psqlrc. The role's configuration transaction runs it too (restart_check)."""
    return [RUNUSER, "-u", "postgres", "--", PSQL, "-X", "-q", "-A", "-t", "-h", SOCKET_DIR,
            "-p", str(port), "-d", "postgres", "-c", query]  # fmt: skip


def _from_pg_settings(core, port, names):
    listed = ", ".join(f"'{name}'" for name in names) or "''"
    # The names matched NAME: nothing in them can end the quoted word.
    columns = (
        "coalesce(json_object_agg(name, json_build_object('type', vartype, 'unit', unit,"
        " 'min', min_val, 'max', max_val, 'enum', enumvals, 'context', context)), '{}')"
    )
    query = f"SELECT {columns} FROM pg_settings WHERE name IN ({listed})"  # noqa: S608
    done = core.run(psql_argv(port, query))
    if done is None or done.returncode != 0:
        return None
    try:
        found = json.loads(done.stdout.strip() or "{}")
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _from_describe_config(core, version, names):
    binary = f"/usr/lib/postgresql/{version}/bin/postgres"
    if not os.path.exists(binary):
        return None
    done = core.run([RUNUSER, "-u", "postgres", "--", binary, "--describe-config"])
    if done is None or done.returncode != 0:
        return None
    found = {}
    for line in done.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) < 7 or fields[0] not in names:
            continue
        found[fields[0]] = {
            "type": TYPES.get(fields[3], "string"),
            "unit": "?",
            "min": fields[5] or None,
            "max": fields[6] or None,
            "enum": None,
            "context": fields[1],
        }
    return found


def catalogue(core, version, port, names):
    """The installed server's entries of ``names`` (see the module's text), or None."""
    names = sorted({name for name in names if isinstance(name, str) and NAME.fullmatch(name)})
    if version is None:
        return None
    ports = _running_ports()
    if os.path.exists(PSQL) and ports:
        for candidate in sorted(ports, key=lambda p: p != port):
            found = _from_pg_settings(core, candidate, names)
            if found is not None:
                return {"source": "pg_settings", "settings": found}
    found = _from_describe_config(core, version, set(names))
    return None if found is None else {"source": "describe-config", "settings": found}


# What the running server does not apply of its files. A restart is pending for a setting
# pg_settings flags (read at the last reload) and for one whose last entry in the files the
# server reports it cannot take without restarting (pg_file_settings parses the files now,
# so the answer does not depend on whether the server has processed a reload yet); a reload
# is pending when a file changed after the server last loaded them. The role's
# configuration transaction asks RESTART_PENDING right after its reload (restart_check).
RESTART_PENDING = (
    "SELECT name FROM pg_settings WHERE pending_restart UNION SELECT f.name FROM (SELECT DISTINCT ON (name)"
    " name, error FROM pg_file_settings WHERE name IS NOT NULL ORDER BY name, seqno DESC) f"
    " WHERE f.error IS NOT NULL"
)
# (two constants, no input: not an injection)
PENDING = (
    "SELECT json_build_object('restart', (SELECT coalesce(json_agg(DISTINCT name), '[]') FROM ("  # noqa: S608
    + RESTART_PENDING
    + ") r), 'loaded', extract(epoch FROM pg_conf_load_time()))"
)


def pending(core, port, config_dir):
    """{"restart": [setting names], "reload": [files]}: what the running server does not apply
    of its configuration (a run that wrote the files and stopped before the reload or the
    restart leaves it so); None when no server answers on ``port``."""
    if not os.path.exists(PSQL) or not str(port).isdigit() or int(port) not in _running_ports():
        return None
    done = core.run(psql_argv(port, PENDING))
    if done is None or done.returncode != 0:
        return None
    try:
        answer = json.loads(done.stdout.strip())
        loaded = float(answer["loaded"])
    except (ValueError, KeyError, TypeError):
        return None
    files = [os.path.join(config_dir, name) for name in ("postgresql.conf", "pg_hba.conf")]
    files += sorted(glob.glob(os.path.join(config_dir, "conf.d", "*.conf")))
    newer = []
    for path in files:
        try:
            if os.stat(path).st_mtime > loaded:
                newer.append(path)
        except OSError:
            continue
    return {"restart": sorted(answer.get("restart") or []), "reload": newer}


def locales(core):
    """The locales the C library offers (``locale -a``), or None when it cannot say."""
    done = core.run(["/usr/bin/locale", "-a"])
    if done is None or done.returncode != 0:
        return None
    return sorted({line.strip() for line in done.stdout.splitlines() if line.strip()})


def inspect(args, core):
    version = (args.get("versions") or {}).get(core.os_release()["version_id"])
    memory_kb = core.memory_kb()
    return {
        "version": version,
        "memtotal_mb": memory_kb // 1024 if memory_kb else None,
        "cgroup_memory": core.cgroup_memory(),
        "cpus": core.cpus(),
        "include_dir": include_dir(core, f"/etc/postgresql/{version}/main") if version else False,
        "postgres_groups": sorted(g.gr_name for g in grp.getgrall() if "postgres" in g.gr_mem),
        "hooks": sorted(glob.glob(os.path.join(args["hook_dir"], "*.d", args.get("consumer", "postgresql")))),
        "service": unit_state(core, args["service"].format(version)) if version else {},
        "units": {unit: unit_state(core, unit) for unit in args.get("units") or []},
        "catalogue": catalogue(core, version, args.get("port"), args.get("settings") or []),
        "locales": locales(core),
        "pending": pending(core, args.get("port"), f"/etc/postgresql/{version}/main") if version else None,
    }
