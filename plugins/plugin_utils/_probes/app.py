# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The probe of groundwork.server.app: ``inspect(args, core)`` runs on the host inside the
shared probe library (plugin_utils/_host_probe.py, which passes its generic probes as
``core``). Standard library only, read-only.

``args``: {"app_dir", "user", "group", "unit", "watched"}. The answer: the release
``current`` points to, the release directories, the history of releases that went live,
which releases have a virtualenv, the application's account, and which of the ``watched``
paths (the environment file, the unit, ``current``) changed after the running service
started (``stale``: a run that wrote them and died before the restart left it so).
Packages, the unit's state and the digests and attributes of the role's files are the
generic part of the same inspection.
"""

from __future__ import annotations

import grp
import os
import pwd
import time


def account(user, group):
    """The user's primary group, shell, home and comment (None when it does not exist), and
    whether the group exists."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        user_info = None
    else:
        try:
            primary = grp.getgrgid(entry.pw_gid).gr_name
        except KeyError:
            primary = str(entry.pw_gid)
        user_info = {
            "group": primary,
            "shell": entry.pw_shell,
            "home": entry.pw_dir,
            "comment": entry.pw_gecos,
        }
    try:
        grp.getgrnam(group)
        group_exists = True
    except KeyError:
        group_exists = False
    return {"user": user_info, "group": group_exists}


def stale(unit, paths, core):
    """The ``paths`` changed after the main process of ``unit`` started (none when it does
    not run). The start is systemd's monotonic timestamp, turned into wall-clock time here."""
    done = core.run(
        ["/usr/bin/systemctl", "show", "--property=ExecMainStartTimestampMonotonic,MainPID", "--", unit]
    )
    values = dict(line.split("=", 1) for line in (done.stdout if done else "").splitlines() if "=" in line)
    if (
        values.get("MainPID", "0") in ("", "0")
        or not values.get("ExecMainStartTimestampMonotonic", "").isdigit()
    ):
        return []
    started = time.time() - (time.monotonic() - int(values["ExecMainStartTimestampMonotonic"]) / 1e6)
    changed = []
    for path in paths:
        try:
            if os.lstat(path).st_mtime > started:
                changed.append(path)
        except OSError:
            continue
    return changed


def inspect(args, core):
    app_dir = args["app_dir"]
    releases_dir = os.path.join(app_dir, "releases")
    releases = sorted(name for name, kind in core.dir_entries(releases_dir).items() if kind == "dir")
    link = core.file_state(os.path.join(app_dir, "current"))
    current = os.path.basename(link["target"].rstrip("/")) if link["state"] == "link" else None
    history = [line.strip() for line in (core.read(os.path.join(app_dir, "history")) or "").splitlines()]
    venvs = [name for name in releases if os.path.isdir(os.path.join(releases_dir, name, ".venv"))]
    return {
        "current": current,
        "releases": releases,
        "history": [name for name in history if name],
        "venvs": venvs,
        "account": account(args["user"], args["group"]),
        "stale": stale(args["unit"], args["watched"], core) if args.get("unit") else [],
    }
