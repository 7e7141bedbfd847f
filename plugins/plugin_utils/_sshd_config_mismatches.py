# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which of the wanted sshd settings the effective configuration (what ``sshd -T`` prints)
does not apply; the base role's plan (plugin_utils/_base_plan.py) checks a host with it.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._sshd_config_mismatches import (
        sshd_config_mismatches)
"""

from __future__ import annotations

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
