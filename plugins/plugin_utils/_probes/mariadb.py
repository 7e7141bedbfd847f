# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host facts of groundwork.server.mariadb, answered inside the shared probe process.

``inspect(args, core)`` with args {"variables" (the names of the server variables the role
writes), "socket", "config" (the role's file), "hook_dir", "consumer"} returns the memory
(MiB) and the cgroup's limit, the CPUs, the groups of the mysql user, the renewal hooks the
role registered, the variables the role's file sets now (``configured``) and, when the
server answers on its socket, its catalogue entry for each variable
(information_schema.SYSTEM_VARIABLES: running value, type, range, step, choices, whether only
a restart changes it) - ``catalogue`` is None when the server does not answer. The query runs
as root through the unix socket (root's only way in). Standard library only; reads only.
"""

from __future__ import annotations

import glob
import grp
import os
import re

CLIENT = "/usr/bin/mariadb"
NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
COLUMNS = (
    "VARIABLE_NAME, GLOBAL_VALUE, VARIABLE_TYPE, NUMERIC_MIN_VALUE, NUMERIC_MAX_VALUE,"
    " NUMERIC_BLOCK_SIZE, ENUM_VALUE_LIST, READ_ONLY"
)


def _null(text):
    return None if text == "NULL" else text


def catalogue(core, socket, names):
    """{name: entry} of the running server, or None when it does not answer."""
    names = sorted({name for name in names if NAME.fullmatch(name)})
    listed = ", ".join(f"'{name.upper()}'" for name in names) or "''"
    # The names matched NAME above: nothing in them can end the quoted word.
    query = f"SELECT {COLUMNS} FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME IN ({listed})"  # noqa: S608
    if not os.path.exists(CLIENT):
        return None
    argv = [CLIENT, "--no-defaults", f"--socket={socket}", "--user=root", "-B", "-N", "-r", "-e", query]
    done = core.run(argv)
    if done is None or done.returncode != 0:
        return None
    result = {}
    for line in done.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 8:
            continue
        name, value, kind, low, high, block, enum, read_only = fields
        result[name.lower()] = {
            "value": _null(value),
            "type": kind,
            "min": _null(low),
            "max": _null(high),
            "block": _null(block),
            "enum": _null(enum),
            "read_only": read_only == "YES",
        }
    return result


def configured(core, path):
    """The variables the role's file on the host sets now (its ``name = value`` lines)."""
    names = []
    for line in (core.read(path) or "").splitlines():
        name, sep, _value = line.partition("=")
        if sep and NAME.fullmatch(name.strip()):
            names.append(name.strip())
    return names


def inspect(args, core):
    memory_kb = core.memory_kb()
    return {
        "memtotal_mb": memory_kb // 1024 if memory_kb else None,
        "cgroup_memory": core.cgroup_memory(),
        "cpus": core.cpus(),
        "mysql_groups": sorted(g.gr_name for g in grp.getgrall() if "mysql" in g.gr_mem),
        "hooks": sorted(glob.glob(os.path.join(args["hook_dir"], "*.d", args.get("consumer", "mariadb")))),
        "configured": configured(core, args["config"]),
        "catalogue": catalogue(core, args["socket"], args.get("variables") or []),
    }
