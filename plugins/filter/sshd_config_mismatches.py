# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

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


# The logic lives in plugin_utils/_sshd_config_mismatches.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def sshd_config_mismatches(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._sshd_config_mismatches import (
        sshd_config_mismatches as run,
    )

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"sshd_config_mismatches": sshd_config_mismatches}
