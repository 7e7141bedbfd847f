# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: base_model
short_description: The checked input of the groundwork.server.base role
version_added: 0.1.0
author: groundwork developers
description:
  - Checks the role's variables beyond the types the argument spec checked - admin user
    names, SSH public keys (a private key is never shown), shells, comments, groups, unique
    names, lockout protection, the time zone (against the controller's IANA database), host
    name, locale, numbers, sizes, times, package and algorithm names, kernel parameters and
    NTP servers.
  - Returns one message per problem, each naming the variable, the item and the value, and
    the admin users with every option filled in from its default.
options:
  _input:
    description: The role's variables by name (C(base_admin_users), C(base_timezone), ...).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the input
  ansible.builtin.assert:
    that: model.errors | length == 0
    fail_msg: "{{ model.errors | join('\n') }}"
  vars:
    model: >-
      {{ {'base_admin_users': base_admin_users, 'base_timezone': base_timezone}
         | groundwork.server.base_model }}
"""

RETURN = r"""
_value:
  description: The model.
  type: dict
  contains:
    errors:
      description: One message per problem; empty when the input is good.
      type: list
      elements: str
    users:
      description: The admin users, every option filled in.
      type: list
      elements: dict
    users_present:
      description: The users with C(state=present).
      type: list
      elements: dict
    users_absent:
      description: The users with C(state=absent).
      type: list
      elements: dict
"""


# The logic lives in plugin_utils/_base_model.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def base_model(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._base_model import base_model as run

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"base_model": base_model}
