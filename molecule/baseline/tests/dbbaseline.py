# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the database baselines (test_db_postgresql.py, test_db_mariadb.py) read from the
hosts: the servers' own answers on their hosts, and real connection attempts, TLS
handshakes (STARTTLS of each protocol) and logins from bl-app (the application server the
firewall lets in) and bl-client (which it must not let in). No attempt uses a real password.
"""

from __future__ import annotations

import base64
import functools
import textwrap

import testinfra

# The application server (allowed by the app-to-db flow) and the client (in no flow).
APP = "bl-app"
CLIENT = "bl-client"
# A password that is certainly not the account's (the real one is never sent or shown).
WRONG_PASSWORD = "not-the-password"  # noqa: S105 - wrong on purpose


@functools.cache
def host(name):
    return testinfra.get_host(f"docker://{name}")


@functools.cache
def address(name):
    """The IPv4 address of a scenario host, as bl-app resolves it."""
    found = host(APP).check_output(f"getent ahostsv4 {name} | awk 'NR == 1 {{print $1}}'")
    assert found, f"bl-app cannot resolve {name}"
    return found


def python(name, script, *args):
    """Runs a Python script on a host (passed base64-encoded: no quoting), returns stdout."""
    encoded = base64.b64encode(textwrap.dedent(script).encode()).decode()
    quoted = " ".join(f"'{arg}'" for arg in args)
    result = host(name).run(f"echo {encoded} | base64 -d | timeout 60 python3 - {quoted}")
    assert result.rc == 0, f"{name}: probe failed: {result.stderr}"
    return result.stdout.strip()


PORT_PROBE = """
    import socket, sys
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
        print("open")
    except OSError as error:
        print("closed", type(error).__name__)
"""


def reachable(source, target, port):
    """Whether a TCP connection from `source` to `target`:`port` is accepted."""
    return python(source, PORT_PROBE, address(target), str(port)).startswith("open")


def handshake(target, port, starttls, options):
    """(True, cipher) when the server completes a TLS handshake with bl-app's `options`."""
    result = host(APP).run(
        f"echo | timeout 10 openssl s_client -starttls {starttls} -connect {address(target)}:{port} {options}"
    )
    cipher = ""
    for line in result.stdout.splitlines():
        if line.startswith("New,") and "Cipher is" in line:
            cipher = line.rsplit(" ", 1)[-1]
    return result.rc == 0 and cipher not in ("", "(NONE)"), cipher


def tls_protocol_accepted(target, port, starttls, protocol):
    """Whether the server completes a handshake with only `protocol` (tls1 .. tls1_3); the
    client at security level 0 so that it offers the old protocols at all."""
    cipher = "" if protocol == "tls1_3" else "-cipher 'DEFAULT:@SECLEVEL=0'"
    return handshake(target, port, starttls, f"-{protocol} {cipher}")[0]


def accepted_tls12_outside(target, port, starttls, allowed):
    """The TLS 1.2 suites outside `allowed` that the server accepts: bl-app offers every suite
    its OpenSSL knows (security level 0) except `allowed`; each one the server picks is
    recorded and taken out of the offer, until the server refuses the rest."""
    found = []
    offer = [
        c
        for c in host(APP).check_output("openssl ciphers 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'").split(":")
        if c not in allowed
    ]
    while offer and len(found) < 60:
        ok, cipher = handshake(target, port, starttls, f"-tls1_2 -cipher '{':'.join(offer)}:@SECLEVEL=0'")
        if not ok or cipher not in offer:
            break
        found.append(cipher)
        offer.remove(cipher)
    return found


def mode_of(name, path):
    """(octal mode, owner, group, kind) of a path on a host (a link is followed)."""
    mode, owner, group, kind = host(name).check_output(f"stat -L -c '%a %U %G %F' {path}").split(" ", 3)
    return int(mode, 8), owner, group, kind
