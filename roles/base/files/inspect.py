# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print what groundwork.server.base needs to know about the host, as JSON.

Argument: one JSON object {"packages", "files", "sshd_dropin_dir", "users", "units",
"locales"}. Read-only: package states, the content and attributes of the files the role
writes, the other sshd drop-ins, the algorithms of the installed OpenSSH and the effective
sshd configuration ("sshd -T"), host name, time zone, locales, the admin users (account,
groups, home, authorized keys) and the state of systemd units. The role decides on the
controller what has to change, and runs only those tasks.
"""

import grp
import json
import os
import pwd
import socket
import stat
import subprocess
import sys


def run(argv):
    try:
        # Fixed programs by absolute path; the arguments come from the role.
        done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError:
        return None
    return done if done.returncode == 0 else None


def run_any(argv):
    """Like run(), but also the output of a non-zero exit (dpkg-query exits 1 for unknown packages)."""
    try:
        # Fixed programs by absolute path; the arguments come from the role.
        return subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError:
        return None


def name_of(database, number):
    try:
        return database(number)[0]
    except KeyError:
        return str(number)


def read_file(path):
    """Content (None when not UTF-8 text), owner, group and mode of a regular file; None otherwise."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return {"link": os.readlink(path)}
    if not stat.S_ISREG(info.st_mode):
        return {"other": True}
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            content = handle.read()
    except (OSError, UnicodeDecodeError):
        content = None
    return {
        "content": content,
        "owner": name_of(pwd.getpwuid, info.st_uid),
        "group": name_of(grp.getgrgid, info.st_gid),
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
    }


def packages(names):
    states = dict.fromkeys(names, "not-installed")
    done = run_any(
        ["/usr/bin/dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n", *names]
    )
    for line in done.stdout.splitlines() if done else []:
        name, _sep, state = line.partition(" ")
        if name in states:
            states[name] = state
    return states


def ssh_algorithms():
    supported = {}
    for query in ("kex", "cipher", "mac", "key-sig"):
        done = run(["/usr/bin/ssh", "-Q", query])
        if done is None:
            return None
        supported[query] = done.stdout.split()
    return supported


def sshd_dropins(directory):
    found = {}
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return found
    for name in names:
        path = os.path.join(directory, name)
        if name.endswith(".conf") and os.path.isfile(path) and not os.path.islink(path):
            found[path] = read_file(path)
    return found


def user(name):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    groups = sorted(g.gr_name for g in grp.getgrall() if name in g.gr_mem)
    keys = os.path.join(entry.pw_dir, ".ssh", "authorized_keys")
    return {
        "home": entry.pw_dir,
        "home_exists": os.path.isdir(entry.pw_dir),
        "shell": entry.pw_shell,
        "gecos": entry.pw_gecos,
        "groups": groups,
        "ssh_dir": read_dir(os.path.join(entry.pw_dir, ".ssh")),
        "authorized_keys": read_file(keys) if os.path.lexists(keys) else None,
    }


def read_dir(path):
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return {"other": True}
    return {
        "owner": name_of(pwd.getpwuid, info.st_uid),
        "group": name_of(grp.getgrgid, info.st_gid),
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
    }


def units(names):
    """{unit: {"enabled": UnitFileState, "active": ActiveState}}, from one systemctl call."""
    states = {name: {"enabled": "unknown", "active": "unknown"} for name in names}
    if not names:
        return states
    done = run(["/usr/bin/systemctl", "show", "--property=UnitFileState,ActiveState", "--", *names])
    blocks = done.stdout.strip("\n").split("\n\n") if done else []
    if len(blocks) != len(names):
        return states
    for name, block in zip(names, blocks, strict=True):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        states[name] = {
            "enabled": values.get("UnitFileState") or "unknown",
            "active": values.get("ActiveState") or "unknown",
        }
    return states


def main():
    args = json.loads(sys.argv[1])
    sshd = run(["/usr/sbin/sshd", "-T"]) if os.path.exists("/usr/sbin/sshd") else None
    locales = run(["/usr/bin/locale", "-a"]) if args.get("locales") else None
    try:
        with open("/etc/hostname", encoding="utf-8") as handle:
            static_hostname = handle.read().strip()
    except OSError:
        static_hostname = None
    try:
        localtime = os.readlink("/etc/localtime")
    except OSError:
        localtime = None
    report = {
        "packages": packages(args["packages"]),
        "files": {path: read_file(path) for path in args["files"]},
        "sshd_dropins": sshd_dropins(args["sshd_dropin_dir"]),
        "ssh_algorithms": ssh_algorithms(),
        "sshd_effective": sshd.stdout if sshd else None,
        "hostname": {"current": socket.gethostname(), "static": static_hostname},
        "localtime": localtime,
        "locales": locales.stdout.split() if locales else [],
        "users": {name: user(name) for name in args["users"]},
        "units": units(args["units"]),
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
