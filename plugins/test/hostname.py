# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import ipaddress
import re

DOCUMENTATION = r"""
name: hostname
short_description: Is a string a valid host name (RFC 1123), optionally an IP address
version_added: 0.1.0
author: groundwork developers
description:
  - True for host names made of dot-separated labels of 1 to 63 letters, digits and
    hyphens that neither start nor end with a hyphen, at most 253 characters in all.
  - With O(allow_ip=true) IPv4 and IPv6 addresses are accepted as well.
options:
  _input:
    description: The host name.
    type: raw
    required: true
  allow_ip:
    description: Also accept an IPv4 or IPv6 address.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Check an NTP server name
  ansible.builtin.assert:
    that: server is groundwork.server.hostname(allow_ip=true)
"""

RETURN = r"""
_value:
  description: V(true) when the input is a valid host name (or address, when allowed).
  type: bool
"""

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def hostname(value, allow_ip=False):
    """Test: is ``value`` an RFC 1123 host name (or, with allow_ip, an IP address)."""
    if not isinstance(value, str) or not value:
        return False
    if allow_ip:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            pass
        else:
            return True
    if len(value) > 253:
        return False
    return all(_LABEL.fullmatch(label) for label in value.split("."))


class TestModule:
    """Ansible test plugin: groundwork.server.hostname."""

    def tests(self):
        return {"hostname": hostname}
