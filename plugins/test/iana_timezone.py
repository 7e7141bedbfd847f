# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import functools
import os
import zoneinfo
from importlib import resources

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
def _packaged_zones():
    """The zones of the tzdata Python package, when it is installed (Python reads it when the
    system has no database)."""
    try:
        return frozenset(resources.files("tzdata").joinpath("zones").read_text().split())
    except (ImportError, OSError):
        return frozenset()


def _zone_file(key):
    """Whether a system database has a compiled zone of this name (what zoneinfo would load)."""
    for root in zoneinfo.TZPATH:
        try:
            with open(os.path.join(root, key), "rb") as handle:
                if handle.read(4) == b"TZif":
                    return True
        except OSError:
            continue
    return False


def _has_database():
    return any(os.path.isdir(root) for root in zoneinfo.TZPATH) or bool(_packaged_zones())


def iana_timezone(value):
    """Test: is ``value`` a time zone name known to the IANA database on the controller.

    The same names as zoneinfo.available_timezones(), checked for the one name (that function
    reads every file of the database, which costs each Ansible worker tens of milliseconds).
    """
    if not isinstance(value, str) or not value:
        return False
    parts = value.split("/")
    if (
        any(part in ("", ".", "..") for part in parts)
        or parts[0] in ("right", "posix")
        or value == "posixrules"
    ):
        return False
    if "\\" in value or "\0" in value:
        return False
    if _zone_file(value) or value in _packaged_zones():
        return True
    if not _has_database():
        raise AnsibleError(
            "No IANA time zone database found on the controller: install the system package "
            "'tzdata' or the Python package 'tzdata'."
        )
    return False


class TestModule:
    """Ansible test plugin: groundwork.server.iana_timezone."""

    def tests(self):
        return {"iana_timezone": iana_timezone}
