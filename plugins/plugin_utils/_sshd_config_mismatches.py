# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which of the wanted sshd settings the effective configuration (what ``sshd -T`` prints)
does not apply; the base role's plan (plugin_utils/_base_plan.py) checks a host with it.

The same file is the checker of the base role's sshd transaction (groundwork.server.
service_config's ``validate``): run on the host as ``python3 -c <this file> <wanted as JSON>
<drop-in>``, it runs ``sshd -t`` and then compares ``sshd -T`` of the candidate files with the
wanted settings, so a configuration whose effect differs is taken back before sshd reloads.
It imports only the standard library.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._sshd_config_mismatches import (
        sshd_config_mismatches)
"""

from __future__ import annotations

import json
import subprocess
import sys

SSHD = "/usr/sbin/sshd"

# Keywords an sshd accepts but "sshd -T" does not print on every release: Debian 12's
# OpenSSH 9.2 reads DebianBanner (a Debian patch) but leaves it out of the dump, 13's prints
# it. Absent from the dump, such a setting cannot be verified and is not a mismatch.
NOT_ALWAYS_DUMPED = frozenset({"debianbanner"})


def _render(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def parse_sshd_t(output):
    """Parse ``sshd -T`` output into {keyword: [values...]}."""
    effective = {}
    for line in output.splitlines():
        line = line.strip()
        if not line:
            continue
        key, _sep, value = line.partition(" ")
        effective.setdefault(key.lower(), []).append(value.strip())
    return effective


def sshd_config_mismatches(output, wanted):
    """Return [{key, wanted, effective}] for every wanted setting sshd does not apply."""
    if not isinstance(output, str):
        raise TypeError("sshd_config_mismatches: input must be the text printed by 'sshd -T'")
    if not isinstance(wanted, dict):
        raise TypeError("sshd_config_mismatches: 'wanted' must be a mapping of keyword to value")
    effective = parse_sshd_t(output)
    mismatches = []
    for key in sorted(wanted, key=str.lower):
        want = _render(wanted[key])
        values = effective.get(key.lower())
        have = " ".join(values) if values is not None else None
        if have is None and key.lower() in NOT_ALWAYS_DUMPED:
            continue
        if have is None or have.lower() != want.lower():
            mismatches.append({"key": key.lower(), "wanted": want, "effective": have})
    return mismatches


def mismatch_message(mismatches, dropin):
    lines = "".join(
        f"{m['key']} is {json.dumps(m['effective'])}, wanted {json.dumps(m['wanted'])}; " for m in mismatches
    )
    return (
        f"The effective sshd configuration ('sshd -T') differs from {dropin}: {lines}"
        "a setting in /etc/ssh/sshd_config before its Include line wins over the drop-ins; move or remove it."
    )


def check_candidate(wanted, dropin, run=subprocess.run):
    """(exit code, message) of the candidate configuration: sshd's own check, then its effect."""
    for argv in ([SSHD, "-t"], [SSHD, "-T"]):
        done = run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return done.returncode, (done.stderr or done.stdout).strip()
    mismatches = sshd_config_mismatches(done.stdout, wanted)
    return (1, mismatch_message(mismatches, dropin)) if mismatches else (0, "")


if __name__ == "__main__":
    CODE, MESSAGE = check_candidate(json.loads(sys.argv[1]), sys.argv[2])
    if MESSAGE:
        print(MESSAGE, file=sys.stderr)
    sys.exit(CODE)
