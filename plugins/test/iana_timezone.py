# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import functools
import zoneinfo

from ansible.errors import AnsibleError

DOCUMENTATION = r"""
name: iana_timezone
short_description: Is a string a time zone name of the IANA time zone database
version_added: 0.1.0
author: groundwork developers
description:
  - True for names such as V(Etc/UTC), V(UTC) or V(Europe/Berlin) that the controller's
    IANA time zone database knows (Python's C(zoneinfo), which reads the system's
    C(/usr/share/zoneinfo) or the C(tzdata) Python package).
  - Abbreviations and offsets such as V(CEST) or V(+02:00) are refused.
  - Raises an error when the controller has no time zone database at all, rather than
    calling every name invalid.
options:
  _input:
    description: The time zone name.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check a time zone name on the controller
  ansible.builtin.assert:
    that: tz is groundwork.server.iana_timezone
"""

RETURN = r"""
_value:
  description: V(true) when the name is in the IANA time zone database.
  type: bool
"""


@functools.lru_cache(maxsize=1)
def _known_zones():
    return frozenset(zoneinfo.available_timezones())


def iana_timezone(value):
    """Test: is ``value`` a time zone name known to the IANA database on the controller."""
    zones = _known_zones()
    if not zones:
        raise AnsibleError(
            "No IANA time zone database found on the controller: install the system package "
            "'tzdata' or the Python package 'tzdata'."
        )
    return isinstance(value, str) and value in zones


class TestModule:
    """Ansible test plugin: groundwork.server.iana_timezone."""

    def tests(self):
        return {"iana_timezone": iana_timezone}
