# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The check of groundwork.server.apache, run on the whole candidate configuration before it
goes live (by groundwork.server.service_config, and by the certificates' renewal hooks):

1. Apache's own configuration test (apache2ctl -t): syntax, every module present;
2. every certificate of a virtual host matches its private key (Apache's test does not load
   them; a graceful reload with a wrong pair would stop the server);
3. every port of a Listen directive is free or already Apache's (a graceful reload that
   cannot bind a port stops the server too).

Prints what is wrong and exits 1; exits 0 when the configuration can go live.
"""

import glob
import os
import re
import subprocess
import sys

APACHE_DIR = "/etc/apache2"
CONFIG_GLOBS = ("sites-enabled/*.conf", "conf-enabled/*.conf")
LISTEN = re.compile(r"^\s*Listen\s+(?:\[?[0-9A-Fa-f.:]*\]?:)?([0-9]+)", re.IGNORECASE | re.MULTILINE)
CERTIFICATE = re.compile(r"^\s*SSLCertificate(File|KeyFile)\s+\"?([^\"\s]+)\"?", re.IGNORECASE | re.MULTILINE)
SERVER = ("apache2",)


def run(argv):
    """A command of fixed programs with paths from the configuration (no shell)."""
    return subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603


def configuration_test():
    done = run(["/usr/sbin/apache2ctl", "-t"])
    if done.returncode != 0:
        return [line for line in (done.stderr + done.stdout).splitlines() if line.strip()] or [
            "apache2ctl -t failed"
        ]
    return []


def public_key(argv):
    done = run(argv)
    return done.stdout.strip() if done.returncode == 0 else None


def certificate_problems():
    problems = []
    for pattern in CONFIG_GLOBS:
        for path in sorted(glob.glob(os.path.join(APACHE_DIR, pattern))):
            with open(path, encoding="utf-8", errors="replace") as handle:
                pairs, current = [], {}
                for kind, value in CERTIFICATE.findall(handle.read()):
                    current[kind.lower()] = value
                    if "file" in current and "keyfile" in current:
                        pairs.append((current["file"], current["keyfile"]))
                        current = {}
            for certificate, key in pairs:
                cert_key = public_key(["/usr/bin/openssl", "x509", "-noout", "-pubkey", "-in", certificate])
                if cert_key is None:
                    problems.append(f"{path}: the certificate {certificate} cannot be read")
                    continue
                own_key = public_key(["/usr/bin/openssl", "pkey", "-pubout", "-in", key])
                if own_key is None:
                    problems.append(f"{path}: the private key {key} cannot be read")
                elif own_key != cert_key:
                    problems.append(
                        f"{path}: the certificate {certificate} does not match the private key {key}"
                    )
    return problems


def listening():
    """{port: set of socket inodes} of the TCP sockets listening on this host."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A":
                found.setdefault(int(fields[1].rsplit(":", 1)[1], 16), set()).add(fields[9])
    return found


def owners(inodes):
    """The names of the processes holding the sockets ``inodes``."""
    names = set()
    for fd_dir in glob.glob("/proc/[0-9]*/fd"):
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        links = set()
        for fd in fds:
            try:
                links.add(os.readlink(os.path.join(fd_dir, fd)))
            except OSError:  # closed meanwhile: the others still count
                continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            try:
                with open(os.path.join(os.path.dirname(fd_dir), "comm"), encoding="utf-8") as handle:
                    names.add(handle.read().strip())
            except OSError:
                names.add("?")
    return names


def port_problems():
    ports = set()
    paths = [os.path.join(APACHE_DIR, "ports.conf")]
    paths += sorted(glob.glob(os.path.join(APACHE_DIR, "conf-enabled", "*.conf")))
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                ports.update(int(port) for port in LISTEN.findall(handle.read()))
        except OSError:
            continue
    taken = listening()
    problems = []
    for port in sorted(ports):
        if port not in taken:
            continue
        others = owners(taken[port]) - set(SERVER)
        if others:
            problems.append(f"port {port} is already in use by {', '.join(sorted(others))}")
    return problems


def main():
    problems = configuration_test()
    if not problems:
        problems = certificate_problems() + port_problems()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
