# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print what groundwork.server.postgresql needs to know about the host, as JSON.

Argument: one JSON object {"versions" (Debian release -> PostgreSQL major version),
"hook_dir", "backup_dir", "packages"}. Standard library only; reads, never writes. The
PostgreSQL version is Debian's for the release in /etc/os-release; its cluster "main" is
the one the role manages.
"""

import glob
import grp
import json
import os
import re
import subprocess
import sys

NO_LIMIT = 2**60


def read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def memtotal_mb():
    match = re.search(r"^MemTotal:\s+(\d+) kB", read("/proc/meminfo") or "", re.MULTILINE)
    return int(match.group(1)) // 1024 if match else None


def _limit(path):
    text = (read(path) or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < NO_LIMIT else None


def cgroup_memory():
    """The smallest memory limit on the cgroup path of PID 1 (the container, if any): v2, then v1.

    Walking up the path covers a private cgroup namespace (the limit at the root) and the host's
    namespace mounted into a container (the limit on the container's cgroup).
    """
    limits = []
    for line in (read("/proc/1/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _hierarchy, controllers, path = parts
        if controllers == "":
            base, name = "/sys/fs/cgroup", "memory.max"
        elif "memory" in controllers.split(","):
            base, name = "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
        else:
            continue
        path = path.strip("/")
        steps = path.split("/") if path else []
        for depth in range(len(steps), -1, -1):
            limit = _limit(os.path.join(base, *steps[:depth], name))
            if limit is not None:
                limits.append(limit)
    return str(min(limits)) if limits else "max"


def packages(names):
    try:
        # A fixed program; the arguments are package names from the role.
        result = subprocess.run(  # noqa: S603
            ["/usr/bin/dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return {}
    states = {}
    for line in result.stdout.splitlines():
        name, _sep, status = line.partition(" ")
        states[name] = status.strip()
    return states


def include_dir(conf_dir):
    text = read(os.path.join(conf_dir, "postgresql.conf")) or ""
    return bool(re.search(r"^\s*include_dir\s*=?\s*'conf\.d'", text, re.MULTILINE))


def systemd(unit):
    """Whether a unit is enabled and whether it is active."""
    states = []
    for verb in ("is-enabled", "is-active"):
        try:
            # A fixed program; the unit name comes from the role.
            result = subprocess.run(["/usr/bin/systemctl", verb, unit], capture_output=True, check=False)  # noqa: S603
        except OSError:
            return {"enabled": False, "active": False}
        states.append(result.returncode == 0)
    return {"enabled": states[0], "active": states[1]}


def directory(path):
    try:
        info = os.stat(path)
    except OSError:
        return None
    import pwd

    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        owner = group = None
    return {"owner": owner, "group": group, "mode": f"{info.st_mode & 0o7777:04o}"}


def release():
    for line in (read("/etc/os-release") or "").splitlines():
        key, _sep, value = line.partition("=")
        if key.strip() == "VERSION_ID":
            return value.strip().strip("\"'")
    return ""


def main():
    args = json.loads(sys.argv[1])
    version = args["versions"].get(release())
    conf_dir = f"/etc/postgresql/{version}/main"
    service = f"postgresql@{version}-main.service"
    groups = sorted(g.gr_name for g in grp.getgrall() if "postgres" in g.gr_mem)
    print(
        json.dumps(
            {
                "version": version,
                "memtotal_mb": memtotal_mb(),
                "cgroup_memory": cgroup_memory(),
                "cpus": len(os.sched_getaffinity(0)),
                "packages": packages(args["packages"]),
                "include_dir": include_dir(conf_dir),
                "postgres_groups": groups,
                "hooks": sorted(glob.glob(os.path.join(args["hook_dir"], "*.d", "postgresql"))),
                "service": systemd(service),
                "backup_timer": systemd("groundwork-postgresql-backup.timer"),
                "backup_dir": directory(args["backup_dir"]),
            }
        )
    )


if __name__ == "__main__":
    main()
