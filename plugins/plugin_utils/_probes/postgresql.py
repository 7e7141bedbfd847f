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
generated, ...; "active" when ``systemctl is-active`` does). Standard library only; reads only.
"""

from __future__ import annotations

import glob
import grp
import os
import re


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
    }
