# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The probe of groundwork.server.base: ``inspect(args, core)`` runs on the host inside the
shared probe library (plugin_utils/_host_probe.py, which passes its generic probes as
``core``). Standard library only, read-only.

``args``: {"sshd_dropin_dir", "users": [names], "locales": bool}. The answer: the other sshd
drop-ins (text and file state), the algorithms of the installed OpenSSH and the effective
sshd configuration ("sshd -T"), host name, time zone, locales, the admin users (account,
groups, home, authorized keys). Packages, units and the role's own files are the generic
part of the same inspection.
"""

from __future__ import annotations

import grp
import os
import pwd
import socket

SSHD = "/usr/sbin/sshd"


def _text(path):
    """The exact text of a file (line endings kept), or None when it is not UTF-8 text."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _ok(core, argv):
    """What a program printed when it exited 0, else None."""
    done = core.run(argv)
    return done.stdout if done is not None and done.returncode == 0 else None


def sshd_dropins(core, directory):
    """{path: {"content", "file": file state}} of the regular *.conf files in the drop-in directory."""
    found = {}
    for name, kind in core.dir_entries(directory).items():
        if name.endswith(".conf") and kind == "file":
            path = os.path.join(directory, name)
            found[path] = {"content": _text(path), "file": core.file_state(path)}
    return found


def ssh_algorithms(core):
    supported = {}
    for query in ("kex", "cipher", "mac", "key-sig"):
        out = _ok(core, ["/usr/bin/ssh", "-Q", query])
        if out is None:
            return None
        supported[query] = out.split()
    return supported


def sshd_effective(core):
    """{"installed", "output" (sshd -T), "error"}: output None when sshd is missing or refused."""
    if not os.path.exists(SSHD):
        return {"installed": False, "output": None, "error": None}
    done = core.run([SSHD, "-T"])
    if done is not None and done.returncode == 0:
        return {"installed": True, "output": done.stdout, "error": None}
    error = (done.stderr or done.stdout).strip() if done is not None else "could not be started"
    return {"installed": True, "output": None, "error": error[-2000:]}


def user(name):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    keys = os.path.join(entry.pw_dir, ".ssh", "authorized_keys")
    return {
        "home_exists": os.path.isdir(entry.pw_dir),
        "shell": entry.pw_shell,
        "gecos": entry.pw_gecos,
        "groups": sorted(group.gr_name for group in grp.getgrall() if name in group.gr_mem),
        "authorized_keys": {"content": _text(keys)} if os.path.lexists(keys) else None,
    }


def inspect(args, core):
    locales = _ok(core, ["/usr/bin/locale", "-a"]) if args.get("locales") else None
    static = core.read("/etc/hostname")
    try:
        localtime = os.readlink("/etc/localtime")
    except OSError:
        localtime = None
    return {
        "sshd_dropins": sshd_dropins(core, args["sshd_dropin_dir"]),
        "ssh_algorithms": ssh_algorithms(core),
        "sshd": sshd_effective(core),
        "hostname": {"current": socket.gethostname(), "static": None if static is None else static.strip()},
        "localtime": localtime,
        "locales": locales.split() if locales else [],
        "users": {name: user(name) for name in args.get("users") or []},
    }
