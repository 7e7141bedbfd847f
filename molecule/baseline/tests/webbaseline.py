# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the web baselines (test_web_nginx.py, test_web_apache.py) read from the hosts: real
requests and TLS handshakes from bl-client, and the servers' effective configuration."""

from __future__ import annotations

import functools
import re

import testinfra

# Mozilla's server-side TLS guidance, "intermediate": TLS 1.2 and 1.3; for TLS 1.2 only
# these AEAD suites with forward secrecy (https://wiki.mozilla.org/Security/Server_Side_TLS).
MOZILLA_INTERMEDIATE_TLS12 = frozenset(
    {
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    }
)
# dev-sec's nginx-12 list: the same AEAD suites plus four CBC suites Mozilla's
# intermediate profile no longer offers.
DEVSEC_CBC = ("ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES128-SHA256")


@functools.cache
def host(name):
    return testinfra.get_host(f"docker://{name}")


@functools.cache
def address(name):
    return host("bl-client").check_output(f"getent ahostsv4 {name} | awk 'NR == 1 {{print $1}}'")


def headers(web, name, path="/", method="GET", insecure=False):
    """Status and response headers ({lower-case name: [values]}) of one HTTPS request from the
    client, and the body (`insecure`: whatever certificate the server presents)."""
    command = (
        'body="$(mktemp)"; '
        f"curl --silent --max-time 10 {'--insecure ' if insecure else ''}--request {method} "
        f"--resolve {name}:443:{address(web)} "
        f"--dump-header - --output \"$body\" 'https://{name}{path}'; "
        'echo "--body--"; head -c 4096 "$body"; rm -f "$body"'
    )
    out = host("bl-client").run(command).stdout
    head, _sep, body = out.partition("--body--\n")
    status = 0
    found = {}
    for line in head.splitlines():
        if line.startswith("HTTP/"):
            status, found = int(line.split()[1]), {}
        elif ":" in line:
            key, _colon, value = line.partition(":")
            found.setdefault(key.strip().lower(), []).append(value.strip())
    return status, found, body


def handshake(web, name, options):
    """True when the web host completes a TLS handshake with the client's `options`."""
    result = host("bl-client").run(
        f"echo | timeout 10 openssl s_client -connect {address(web)}:443 -servername {name} {options}"
    )
    return result.rc == 0 and "Cipher is (NONE)" not in result.stdout and "CONNECTED" in result.stdout


def accepted_tls12_ciphers(web, name):
    """Every TLS 1.2 suite the client's OpenSSL knows (security level 0: the weak ones too)
    that the server accepts, tried one at a time in one run on the client."""
    script = (
        "for c in $(openssl ciphers 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' | tr ':' ' '); do "
        f"echo | timeout 5 openssl s_client -connect {address(web)}:443 -servername {name} "
        '-tls1_2 -cipher "$c:@SECLEVEL=0" >/dev/null 2>&1 && echo "$c"; done; true'
    )
    return set(host("bl-client").check_output(script).split())


def tls_protocol_accepted(web, name, protocol):
    """Whether the server completes a handshake with only `protocol` (tls1, tls1_1, tls1_2,
    tls1_3); the client at security level 0 so that it offers the old ones at all."""
    cipher = "" if protocol == "tls1_3" else "-cipher 'DEFAULT:@SECLEVEL=0'"
    return handshake(web, name, f"-{protocol} {cipher}")


def processes(web, comm):
    """[(uid, cmdline)] of the host's processes named `comm`, read from /proc."""
    script = (
        f'for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = {comm} ] || continue; '
        "printf '%s %s\\n' \"$(awk '/^Uid:/ {print $2}' $d/status)\" \"$(tr '\\0' ' ' < $d/cmdline)\"; done"
    )
    rows = []
    for line in host(web).check_output(script).splitlines():
        uid, _space, cmdline = line.partition(" ")
        rows.append((int(uid), cmdline.strip()))
    return rows


def mode_of(web, path):
    """(octal mode, owner, group) of a path on the web host."""
    mode, owner, group = host(web).check_output(f"stat -c '%a %U %G' {path}").split()
    return int(mode, 8), owner, group


def max_age(value):
    match = re.search(r"max-age=(\d+)", value)
    return int(match.group(1)) if match else 0
