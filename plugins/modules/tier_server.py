#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: tier_server
short_description: Choose the role that serves a tier on a host
version_added: 0.1.0
description:
  - Reads the tier's choice variable of the host - C(groundwork_web_server) (V(nginx) or V(apache))
    for the load balancers, C(groundwork_database) (V(postgresql) or V(mariadb)) for the database
    servers - and returns the role that serves the tier there. The application servers always run
    C(groundwork.server.app).
  - An unknown value, or a server the collection does not ship yet, fails before any change, naming
    the variable, the value and what is allowed.
  - The playbooks of this collection dispatch through it (C(playbooks/tasks/tier_server.yml)), so no
    playbook names a web-server or database role. Set the variables per group or per host.
  - This is an action plugin that runs on the controller only.
author: groundwork developers (@groundwork)
extends_documentation_fragment:
  - groundwork.server.attributes.read_only
attributes:
  action:
    support: full
    description: Runs on the controller; the host is not contacted.
options:
  tier:
    description: The tier.
    type: str
    required: true
    choices: [loadbalancers, appservers, dbservers]
seealso:
  - module: groundwork.server.role_plan
"""

EXAMPLES = r"""
- name: Choose the role that serves the database tier
  groundwork.server.tier_server:
    tier: dbservers
  register: __server

- name: Apply it
  ansible.builtin.include_role:
    name: "{{ __server.role }}"
"""

RETURN = r"""
name:
  description: The short name of the chosen role.
  returned: success
  type: str
  sample: postgresql
role:
  description: The chosen role's fully qualified name.
  returned: success
  type: str
  sample: groundwork.server.postgresql
changes_group:
  description: The group the chosen role's C(plan) entry point puts a host into when it changes it.
  returned: success
  type: str
  sample: groundwork_postgresql_changes
tier_changes_group:
  description: The group of the tier's hosts that a run changes, whichever role serves them.
  returned: success
  type: str
  sample: groundwork_dbservers_changes
"""
