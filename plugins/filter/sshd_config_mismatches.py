# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: sshd_config_mismatches
short_description: Compare the effective sshd configuration with the wanted settings
version_added: 0.1.0
author: groundwork developers
description:
  - Parses the output of C(sshd -T) (one C(keyword value) pair per line, keywords in
    lower case) and returns every wanted setting whose effective value differs.
  - Keywords are compared case-insensitively. A keyword printed several times (such as
    C(port)) is compared as its values joined by single spaces.
  - Wanted values may be strings, integers, booleans (rendered V(yes)/V(no), as sshd
    prints them) or lists (joined with commas, as for algorithm lists).
options:
  _input:
    description: The standard output of C(sshd -T).
    type: str
    required: true
  wanted:
    description: Mapping of sshd keyword to the wanted value.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Read the effective configuration
  ansible.builtin.command: /usr/sbin/sshd -T
  register: effective
  changed_when: false

- name: Fail when a setting is not in effect
  ansible.builtin.assert:
    that: effective.stdout | groundwork.server.sshd_config_mismatches(wanted) | length == 0
  vars:
    wanted:
      PasswordAuthentication: false
      Port: 22
      Ciphers: [chacha20-poly1305@openssh.com, aes256-gcm@openssh.com]
"""

RETURN = r"""
_value:
  description: One entry per differing setting, sorted by keyword.
  type: list
  elements: dict
  contains:
    key:
      description: The keyword in lower case.
      type: str
    wanted:
      description: The wanted value as sshd would print it.
      type: str
    effective:
      description: The effective value, or V(null) when sshd does not print the keyword.
      type: str
"""


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
        raise AnsibleFilterError("sshd_config_mismatches: input must be the text printed by 'sshd -T'")
    if not isinstance(wanted, dict):
        raise AnsibleFilterError("sshd_config_mismatches: 'wanted' must be a mapping of keyword to value")
    effective = parse_sshd_t(output)
    mismatches = []
    for key in sorted(wanted, key=str.lower):
        want = _render(wanted[key])
        values = effective.get(key.lower())
        have = " ".join(values) if values is not None else None
        if have is None or have.lower() != want.lower():
            mismatches.append({"key": key.lower(), "wanted": want, "effective": have})
    return mismatches


class FilterModule:
    """Ansible filter plugin: groundwork.server.sshd_config_mismatches."""

    def filters(self):
        return {"sshd_config_mismatches": sshd_config_mismatches}
