# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print what groundwork.server.app finds on the host, as JSON. Read-only.

Argument: one JSON object {"app_dir", "unit", "user", "group", "packages"}.
The release `current` points to, the release directories, the history of releases that
went live, which releases have a virtualenv, the unit's state, the application's account
and the dpkg state of the role's packages. The files the role writes are read by
groundwork.server.host_info itself (digests, owner, group and mode).
"""

import grp
import json
import os
import pwd
import subprocess
import sys


def run(argv):
    try:
        # Fixed programs by absolute path; the arguments come from the role.
        return subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError:
        return None


def packages(names):
    states = dict.fromkeys(names, "not-installed")
    done = run(["/usr/bin/dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names])
    for line in done.stdout.splitlines() if done else []:
        name, _sep, state = line.partition(" ")
        if name in states:
            states[name] = state
    return states


def account(user, group):
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


def unit_state(unit):
    done = run(["/usr/bin/systemctl", "show", "--property=ActiveState,UnitFileState", "--", unit])
    values = dict(line.split("=", 1) for line in (done.stdout if done else "").splitlines() if "=" in line)
    return values.get("ActiveState") == "active", values.get("UnitFileState") or "unknown"


def main():
    args = json.loads(sys.argv[1])
    app_dir = args["app_dir"]
    releases_dir = os.path.join(app_dir, "releases")
    try:
        releases = sorted(n for n in os.listdir(releases_dir) if os.path.isdir(os.path.join(releases_dir, n)))
    except FileNotFoundError:
        releases = []
    current = None
    link = os.path.join(app_dir, "current")
    if os.path.islink(link):
        current = os.path.basename(os.readlink(link).rstrip("/"))
    try:
        with open(os.path.join(app_dir, "history"), encoding="utf-8") as handle:
            history = [line.strip() for line in handle if line.strip()]
    except FileNotFoundError:
        history = []
    venvs = [n for n in releases if os.path.isdir(os.path.join(releases_dir, n, ".venv"))]
    active, enabled = unit_state(args["unit"])
    report = {
        "current": current,
        "releases": releases,
        "history": history,
        "venvs": venvs,
        "active": active,
        "enabled": enabled,
        "account": account(args["user"], args["group"]),
        "packages": packages(args["packages"]),
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
