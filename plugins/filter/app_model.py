# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: app_model
short_description: Validate the input of the app role and derive its environment file
version_added: 0.1.0
author: groundwork developers
description:
  - Checks the variables of C(groundwork.server.app) against the rules an argument spec cannot
    express and returns what the role renders from them.
  - "Never raises for bad input; every problem is one line of RV(_value.errors) that names the
    variable, the value and what is allowed, for example
    C(app_port: 80 is not a port from 1024 to 65535)."
  - The result holds the database password (in RV(_value.env_content)), so it must be kept in a
    variable set with C(no_log).
options:
  _input:
    description: The role's variables as a dictionary, keys without the C(app_) prefix.
    type: dict
    required: true
  playbook_dir:
    description: Relative O(_input.source) paths are resolved against this directory on the controller.
    type: str
    default: "."
  inventory_hosts:
    description: Every host of the inventory (C(groups['all'])), to check O(_input.balancers).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Check the input
  ansible.builtin.assert:
    that: __model.errors | length == 0
    fail_msg: "{{ __model.errors | join('\n') }}"
  vars:
    __model: "{{ {'name': app_name, 'version': app_version} | groundwork.server.app_model }}"
"""

RETURN = r"""
_value:
  description: The checked input and what is derived from it.
  type: dict
  contains:
    errors:
      description: One message per problem; empty when the input is valid.
      type: list
      elements: str
    source:
      description: The absolute controller path of the source (when valid).
      type: str
    source_kind:
      description: V(directory), V(archive) or V(none) (rollback without a source).
      type: str
    database_url:
      description: The libpq URL built from C(app_database), or an empty string.
      type: str
    env_content:
      description: The environment file (C(KEY="value") lines, systemd's EnvironmentFile syntax).
      type: str
"""


# The logic lives in plugin_utils/_app_model.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def app_model(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._app_model import app_model as run

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"app_model": app_model}
