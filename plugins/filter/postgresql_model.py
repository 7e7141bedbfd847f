# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: postgresql_model
short_description: Validate the PostgreSQL role's input and compute pg_hba.conf and listen_addresses
version_added: 0.1.0
author: groundwork developers
description:
  - Checks the roles, databases, grants, settings and client networks of C(groundwork.server.postgresql)
    against the rules an argument spec cannot express - names, duplicates, a database owner or grant role
    that is not declared, a grant on an unknown database, privileges that do not fit the object, invalid
    networks, a password given in clear while O(require_vaulted) is set - and returns one message per
    problem that names the variable, the item, the key and the value. It never raises for bad input.
  - "Computes the client authentication of O(host): C(local all postgres peer) first, then
    C(local all all scram-sha-256), then C(hostssl <database> <roles> <network> scram-sha-256) for every
    network that may reach O(port) - from the flows (C(firewall_flows), resolved by the
    C(groundwork.server.firewall_model) filter, whose messages are passed on) and O(networks). The roles
    of a database are its owner and the roles granted something on it (members of a granted group role
    included) that may log in. Nothing uses C(trust), no line is a plain C(host) line, C(postgres) never
    gets a network line."
  - "A flow from V(any) (or a network of V(0.0.0.0/0) or V(::/0)) is refused unless O(allow_any) is set;
    then its lines use C(0.0.0.0/0) and C(::/0), still TLS-only and scram-sha-256."
  - "C(listen_addresses) is V(*) when some network may connect, V(localhost) otherwise."
options:
  _input:
    description: The login and group roles (C(postgresql_roles)).
    type: list
    elements: dict
    required: true
  databases:
    description: C(postgresql_databases).
    type: list
    elements: dict
    default: []
  grants:
    description: C(postgresql_grants).
    type: list
    elements: dict
    default: []
  settings:
    description: C(postgresql_settings), the overrides of the tuned settings.
    type: dict
    default: {}
  networks:
    description: Extra client networks (C(postgresql_client_networks)).
    type: list
    elements: str
    default: []
  flows:
    description: C(firewall_flows).
    type: list
    elements: dict
    default: []
  host:
    description: The inventory name of the database server.
    type: str
    required: true
  groups:
    description: The C(groups) variable.
    type: dict
    default: {}
  hostvars:
    description: The C(hostvars) variable.
    type: dict
    default: {}
  reports:
    description: What hosts reported, as for C(groundwork.server.firewall_model); omit in the first pass.
    type: dict
  outside:
    description:
      - Registered loop results of the inspection delegated to flow sources, as for C(firewall_model).
    type: list
    elements: dict
    default: []
  port:
    description: The port PostgreSQL listens on.
    type: int
    default: 5432
  require_vaulted:
    description: Refuse passwords that are not vaulted values.
    type: bool
    default: false
  allow_any:
    description: Accept flows from V(any) (and C(0.0.0.0/0), C(::/0)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Check the input
  ansible.builtin.assert:
    that: __model.errors | length == 0
    fail_msg: "{{ __model.errors | join('\n') }}"
  vars:
    __model: >-
      {{ postgresql_roles | groundwork.server.postgresql_model(databases=postgresql_databases,
           grants=postgresql_grants, flows=firewall_flows, host=inventory_hostname, groups=groups,
           hostvars=hostvars) }}
"""

RETURN = r"""
_value:
  description: The model.
  type: dict
  contains:
    errors:
      description: One message per problem; empty when the input is valid.
      type: list
      elements: str
    warnings:
      description: Valid but probably not meant.
      type: list
      elements: str
    needs:
      description: Hosts whose addresses the client networks need (first pass).
      type: list
      elements: str
    roles:
      description: The roles, normalised (C(name), C(password), C(login), C(member_of), C(state)).
      type: list
      elements: dict
    databases:
      description:
        - The databases, normalised (C(name), C(owner), C(encoding), C(locale), C(extensions), C(state)).
      type: list
      elements: dict
    grants:
      description: The grants, normalised (C(role), C(database), C(on), C(schema), C(privileges), C(state)).
      type: list
      elements: dict
    networks:
      description: The client networks (CIDR).
      type: list
      elements: str
    hba:
      description: The lines of C(pg_hba.conf), columns separated by blanks.
      type: list
      elements: str
    listen_addresses:
      description: V(*) or V(localhost).
      type: str
"""


# The logic lives in plugin_utils/_postgresql_model.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def postgresql_model(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._postgresql_model import (
        postgresql_model as run,
    )

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"postgresql_model": postgresql_model}
