# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import re

DOCUMENTATION = r"""
name: posix_username
short_description: Is a string a portable user name
version_added: 0.1.0
author: groundwork developers
description:
  - True for names that Debian's C(useradd) and C(adduser) accept without C(--force-badname)
    and that every POSIX tool handles safely
    (1 to 32 characters of lower-case letters, digits, C(_) and C(-), starting with a letter or C(_)).
  - Names made only of digits, names with upper-case letters, dots, spaces or a leading
    C(-) are refused.
options:
  _input:
    description: The user name.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check a user name
  ansible.builtin.assert:
    that: user_name is groundwork.server.posix_username
"""

RETURN = r"""
_value:
  description: V(true) when the input is a portable user name.
  type: bool
"""

_USERNAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


def posix_username(value):
    """Test: is ``value`` a portable POSIX user name (Debian's default NAME_REGEX, at most 32 chars)."""
    return isinstance(value, str) and _USERNAME.fullmatch(value) is not None


class TestModule:
    """Ansible test plugin: groundwork.server.posix_username."""

    def tests(self):
        return {"posix_username": posix_username}
