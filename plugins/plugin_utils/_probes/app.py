# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The probe of groundwork.server.app: ``inspect(args, core)`` runs on the host inside the
shared probe library (plugin_utils/_host_probe.py, which passes its generic probes as
``core``). Standard library only, read-only.

``args``: {"app_dir", "user", "group"}. The answer: the release ``current`` points to, the
release directories, the history of releases that went live, which releases have a
virtualenv, and the application's account. Packages, the unit's state and the digests and
attributes of the role's files are the generic part of the same inspection.
"""

from __future__ import annotations

import grp
import os
import pwd


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
    }
