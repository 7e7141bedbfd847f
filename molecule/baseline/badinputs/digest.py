# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state of a converged host that no refused input may change, one line per part.

``<part> <digest>`` for the configuration and data directories of every role, and
``unit <name> <ActiveState> <SubState> <MainPID> <ExecMainStartTimestamp>`` for every service
the collection runs. side_effect.yml runs it (ansible.builtin.raw: python3 -c, one process
and one systemctl on the host) before the first case and after each; two runs on an untouched host print the
same lines. Configuration: every entry's path, type, mode, owner, size, mtime (links: their
target) and every file's sha256. Data directories: the directories only (a database, a
cluster, a schema's directory), with type, mode and owner - the servers create, grow and
remove files in them on their own while they run (WAL segments, statistics, the free-space
and visibility maps autovacuum adds, temporary files), so their files say nothing about a
change a role made. Backups: every entry's path, type, mode and owner. The application's name comes as
the first argument (empty on hosts without the app role).
"""

import glob
import hashlib
import os
import stat
import subprocess
import sys

APP = sys.argv[1] if len(sys.argv) > 1 else ""
CONFIG = {
    "nginx": ["/etc/nginx"],
    "apache": ["/etc/apache2"],
    "postgresql-conf": ["/etc/postgresql", "/etc/postgresql-common"],
    "mariadb-conf": ["/etc/mysql"],
    "nftables": ["/etc/nftables.conf", "/etc/nftables.d", "/etc/nftables"],
    "ssh": ["/etc/ssh"],
    "groundwork": [*sorted(glob.glob("/etc/groundwork*")), "/var/lib/groundwork", "/usr/local/sbin"],
    "tls": ["/etc/ssl/groundwork", "/usr/local/share/ca-certificates", "/etc/ssl/certs"],
    "systemd": ["/etc/systemd/system", "/etc/systemd/journald.conf.d", "/etc/systemd/timesyncd.conf.d"],
    "base": [
        "/etc/sudoers.d",
        "/etc/sysctl.d",
        "/etc/apt/apt.conf.d",
        "/etc/chrony",
        "/etc/default/locale",
        "/etc/passwd",
        "/etc/group",
        "/etc/shadow",
        "/etc/hostname",
        "/etc/timezone",
        "/etc/localtime",
        "/home",
    ],
}
if APP:
    CONFIG["app"] = [f"/etc/{APP}", f"/srv/{APP}"]
DATA = {
    "postgresql-data": ["/var/lib/postgresql"],
    "mariadb-data": ["/var/lib/mysql"],
}
BACKUPS = {"backups": ["/var/backups/postgresql", "/var/backups/mariadb"]}
UNITS = ["nginx.service", "apache2.service", "mariadb.service", "ssh.service", "nftables.service"]
PROPERTIES = ["Id", "ActiveState", "SubState", "MainPID", "ExecMainStartTimestamp"]


def entries(top):
    """Every path under ``top`` (itself included), on its file system, sorted."""
    if not os.path.lexists(top):
        return
    yield top
    if os.path.isdir(top) and not os.path.islink(top):
        device = os.lstat(top).st_dev
        for root, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if os.lstat(os.path.join(root, d)).st_dev == device]
            for name in sorted(dirs + files):
                yield os.path.join(root, name)


def describe(path, full):
    info = os.lstat(path)
    kind = stat.S_IFMT(info.st_mode)
    line = f"{path} {kind:o} {stat.S_IMODE(info.st_mode):o} {info.st_uid}:{info.st_gid}"
    if stat.S_ISLNK(info.st_mode):
        line += " -> " + os.readlink(path)
    if full:
        line += f" {info.st_size} {info.st_mtime_ns}"
        if stat.S_ISREG(info.st_mode):
            with open(path, "rb") as handle:
                line += " " + hashlib.sha256(handle.read()).hexdigest()
    return line


def digest(tops, full, directories_only=False):
    total = hashlib.sha256()
    for top in tops:
        for path in entries(top):
            if directories_only and not os.path.isdir(path):
                continue
            try:
                total.update(describe(path, full).encode("utf-8", "surrogateescape") + b"\n")
            except FileNotFoundError:
                total.update(f"{path} vanished\n".encode("utf-8", "surrogateescape"))
    return total.hexdigest()[:16]


def units():
    """The services' states, with one systemctl: the clusters' postgresql@ instances from
    /etc/postgresql/<version>/<cluster>, the collection's own units from /etc/systemd/system."""
    names = UNITS + ([f"{APP}.service"] if APP else [])
    for cluster in glob.glob("/etc/postgresql/*/*"):
        version, name = cluster.split("/")[-2:]
        names.append(f"postgresql@{version}-{name}.service")
    names += [os.path.basename(unit) for unit in glob.glob("/etc/systemd/system/groundwork-*.[st]*")]
    command = ["systemctl", "show", "--property=" + ",".join(PROPERTIES), "--", *sorted(set(names))]
    shown = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    lines = []
    for block in shown.strip().split("\n\n"):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if values.get("Id"):
            lines.append("unit " + " ".join(values.get(key, "") for key in PROPERTIES))
    return sorted(lines)


def main():
    for part, tops in CONFIG.items():
        print(part, digest(tops, True))
    for part, tops in DATA.items():
        print(part, digest(tops, False, directories_only=True))
    for part, tops in BACKUPS.items():
        print(part, digest(tops, False))
    for line in units():
        print(line)


main()
