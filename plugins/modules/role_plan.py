#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: role_plan
short_description: Validate a role's input, inspect the host once and plan the role's changes
version_added: 0.1.0
description:
  - The decision step every role of this collection takes before it changes anything, in
    one task - validate, inspect, plan.
  - B(Validate) on the controller - the role's variables against its model (references,
    paths, strings that end up in files, numbers). Any problem fails the task before the host is
    contacted, naming the variable, the value and what is allowed.
  - B(Inspect) the host with one command - the shared probe library of the collection (packages,
    units, files and their digests, directories) and the role's own probe.
  - B(Plan) on the controller - the changes the role makes, each with its kind, target and reason,
    and the values the role's applying tasks need. Files are compared with the same code that
    M(groundwork.server.service_config) applies them with.
  - Internal to the roles of this collection; their C(tasks/decide.yml) calls it. This is an
    action plugin; it honours C(become) for the inspection.
author: groundwork developers (@groundwork)
extends_documentation_fragment:
  - groundwork.server.attributes.read_only
  - groundwork.server.attributes.one_command
options:
  role:
    description:
      - The role whose decision to make; its variables are read from the play.
      - Required unless O(step=inspect).
    type: str
    choices: [base, firewall, tls, nginx, apache, postgresql, mariadb, app, dns]
  step:
    description:
      - V(validate) only validates the input (nothing is read from the host).
      - V(plan) does all three steps. It plans from the run's inspection of the host (the host fact
        C(groundwork_inspection)) when that covers what the role asks, else it reads the host itself.
        A plan that changes something clears that fact, so the roles after it read the host anew.
      - V(inspect) validates every role of O(roles) (and of O(tiers)) with the play's variables and the
        roles' defaults, and reads everything they will ask with one command, kept as the host fact
        C(groundwork_inspection). A role whose input does not validate is left out (it reports its
        problems itself, before it changes anything), and so is V(dns) where C(playbooks/site.yml) does not
        apply it (C(groundwork_dns), see O(step=decide)).
      - V(decide) makes the decision of every role C(playbooks/site.yml) applies to the host - base,
        firewall, dns, tls and the role that serves each of its tiers - from the run's inspection
        (O(step=inspect) first), with the play's variables and each role's defaults, without reading the
        host again (the database roles read their objects once) and without changing anything. It returns
        the roles that run (RV(run)) - the first that changes the host and every role after it. A role that
        cannot be decided here (input with problems, hosts to read outside the play, a CA on another host)
        runs and decides itself. A tier whose choice of server is not a role of the collection fails the task.
        The task puts the host into the groups of RV(groups) as M(ansible.builtin.group_by) would - the host
        joins a group of its own kind, C(groundwork_decided_<digest of the groups>), which becomes a child of
        each of them (hosts with the same groups share it). Set C(changed_when) to V(false) on the task - the
        strategy reports a new group as a change, but nothing on the host changes.
      - With O(step=decide), the role dns is among the roles as the variable C(groundwork_dns) says - V(auto)
        (the default) when the inventory has a DNS server for the zone (a host in C(dns_servers_group), or
        C(dns_primary)) or C(dns_mode) is V(update), V(true) always, V(false) never; any other value fails
        the task.
    type: str
    choices: [plan, validate, inspect, decide]
    default: plan
  roles:
    description: With O(step=inspect), the roles that will run on the host.
    type: list
    elements: str
    choices: [base, firewall, tls, nginx, apache, postgresql, mariadb, app, dns]
    default: []
  tiers:
    description:
      - With O(step=inspect), also the roles that serve the tiers the host is in (C(groundwork_web_server),
        C(groundwork_database), the application role), as M(groundwork.server.tier_server) chooses them.
    type: bool
    default: false
notes:
  - A plan that carries secrets (file contents with passwords) is hidden from the output like C(no_log).
seealso:
  - module: groundwork.server.service_config
  - module: groundwork.server.host_info
"""

EXAMPLES = r"""
- name: Read once what every role will ask on each host
  groundwork.server.role_plan:
    step: inspect
    roles: [base, firewall, dns, tls]
    tiers: true

- name: Decide which roles change the host, from that inspection, and group the hosts by them
  groundwork.server.role_plan:
    step: decide
  register: __decided
  changed_when: false

- name: Validate the input, inspect the host and plan the changes
  groundwork.server.role_plan:
    role: nginx
  register: __nginx_plan

- name: Show the plan
  ansible.builtin.debug:
    msg: "{{ __nginx_plan.summary }}"
  when: __nginx_plan.changes | length > 0
"""

RETURN = r"""
changes:
  description: What the role changes on this host; empty when the host is as configured.
  returned: success
  type: list
  elements: dict
  contains:
    kind:
      description: What kind of thing changes - V(package), V(file), V(service), V(user), ...
      type: str
    target:
      description: The package, path, unit, ... that changes.
      type: str
    reason:
      description: Why it changes.
      type: str
  sample:
    - {kind: file, target: /etc/nginx/sites-enabled/shop.conf, reason: content differs}
summary:
  description:
    - RV(changes) as lines of text; with O(step=decide), a line for each role of RV(run), with its reason.
  returned: success
  type: list
  elements: str
  sample: ["file /etc/nginx/sites-enabled/shop.conf: content differs"]
kinds:
  description: The kinds of RV(changes), sorted, each once.
  returned: success
  type: list
  elements: str
roles:
  description: With O(step=inspect), the roles whose questions the inspection answered.
  returned: success and O(step=inspect)
  type: list
  elements: str
left_out:
  description: With O(step=inspect), the roles left out of the inspection and why (they read the host later).
  returned: success and O(step=inspect)
  type: dict
report:
  description:
    - With O(step=inspect) when the firewall role was inspected, what the firewall role publishes as
      C(firewall_host_report) (the management connection and the host's addresses).
  returned: success, O(step=inspect) and the firewall role inspected
  type: str
run:
  description:
    - With O(step=decide), the roles that run on the host, in the order C(playbooks/site.yml) applies them.
  returned: success and O(step=decide)
  type: list
  elements: str
  sample: [tls, postgresql]
groups:
  description:
    - With O(step=decide), the groups the host joins, one or two for each role of RV(run) -
      C(groundwork_base_changes), C(groundwork_firewall_changes), C(groundwork_dns_changes),
      C(groundwork_tls_changes), and for a tier's
      role the role's group and the tier's (C(groundwork_dbservers_changes), ...).
  returned: success and O(step=decide)
  type: list
  elements: str
add_group:
  description:
    - With O(step=decide) and at least one group in RV(groups), the group the host joins; it is a child
      of each group of RV(groups) (RV(parent_groups)).
  returned: success, O(step=decide) and RV(groups) not empty
  type: str
  sample: groundwork_decided_3f2a9c0e41d7
parent_groups:
  description: With O(step=decide), the same list as RV(groups), for the strategy that applies RV(add_group).
  returned: success, O(step=decide) and RV(groups) not empty
  type: list
  elements: str
reasons:
  description: With O(step=decide), why each role of RV(run) runs.
  returned: success and O(step=decide)
  type: dict
problems:
  description: Always empty on success (a problem fails the task).
  returned: success
  type: list
  elements: str
"""
