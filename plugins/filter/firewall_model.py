# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: firewall_model
short_description: Validate the firewall role's input and resolve flows into the rules of one host
version_added: 0.1.0
author: groundwork developers
description:
  - Checks the flows, services, admin sources, extra rules and egress settings of
    C(groundwork.server.firewall) against the semantic rules an argument spec cannot express, and
    computes the inbound rules of one host (O(host)) from the flows whose C(to) groups contain it.
  - "A flow C({from: appservers, to: dbservers, port: 5432}) becomes, on every host of C(dbservers), one
    rule per address family that accepts TCP port 5432 from the addresses of the hosts of C(appservers).
    C(from) may also be V(any), IP addresses and networks, or a list mixing groups and networks."
  - "The addresses of a source host are its C(firewall_addresses) host variable when it is set; otherwise
    the addresses the host itself reports (O(reports): the source addresses of its default IPv4 and IPv6
    routes, read by the role with one command) together with its C(ansible_host) when that is an IP
    address."
  - "Never raises for bad input; every problem is one line of RV(_value.errors) that names the variable,
    the item (with its name), the key and the value, for example that C(port 70000) of C(firewall_flows[1])
    is out of range."
  - Without O(reports) (the first pass, before the host is contacted) addresses are not resolved;
    RV(_value.needs) then lists the hosts whose addresses the second pass needs.
options:
  _input:
    description: The flows (C(firewall_flows)).
    type: list
    elements: dict
    required: true
  host:
    description: The inventory name of the host whose rules are computed.
    type: str
    required: true
  groups:
    description: The inventory's groups (the C(groups) variable).
    type: dict
    default: {}
  hostvars:
    description: The C(hostvars) variable, to read C(firewall_addresses) and C(ansible_host) of source hosts.
    type: dict
    default: {}
  reports:
    description:
      - What the hosts reported (the standard output of the role's read-only inspection), by inventory name;
        V(null) for a host that could not be read. Omit it for the first pass.
    type: dict
  outside:
    description:
      - Registered loop results of the inspection delegated to source hosts outside the play (C(item) is
        the host) - M(groundwork.server.host_info) results (the report in C(info.report)) or command
        results (the report in C(stdout)); merged into O(reports).
    type: list
    elements: dict
    default: []
  admin_sources:
    description: Networks that may always open SSH connections (C(firewall_admin_sources)).
    type: list
    elements: str
    default: []
  ssh_port:
    description: The port SSH is allowed on.
    type: int
    default: 22
  ssh_rate:
    description: Rate limit of new SSH connections from other sources, like V(10/minute).
    type: str
    default: 10/minute
  ssh_burst:
    description: Burst of that rate limit, in packets.
    type: int
    default: 20
  services:
    description: Well-known services this host offers to any source (C(firewall_services)).
    type: list
    elements: str
    default: []
  rules:
    description: Extra nft rules for the input chain (C(firewall_rules)).
    type: list
    elements: str
    default: []
  egress_restrict:
    description: Whether outbound traffic is restricted to O(egress_allow).
    type: bool
    default: false
  egress_allow:
    description: Allowed outbound destinations (C(firewall_egress_allow)), shaped like flows with C(to).
    type: list
    elements: dict
    default: []
  log_drops:
    description: Whether dropped packets are logged.
    type: bool
    default: true
  log_rate:
    description: Rate limit of the drop log, like V(5/minute).
    type: str
    default: 5/minute
  icmp_echo_rate:
    description: Rate limit of accepted ICMP and ICMPv6 echo requests, like V(10/second).
    type: str
    default: 10/second
  confirm_timeout:
    description: Seconds after which the host restores the previous rules unless confirmed; V(0) for none.
    type: int
    default: 60
"""

EXAMPLES = r"""
- name: Check the flows and compute this host's rules
  ansible.builtin.assert:
    that: __model.errors | length == 0
    fail_msg: "{{ __model.errors | join('\n') }}"
  vars:
    __model: >-
      {{ firewall_flows | groundwork.server.firewall_model(host=inventory_hostname, groups=groups,
           hostvars=hostvars, reports={inventory_hostname: __report.stdout},
           admin_sources=firewall_admin_sources, ssh_port=firewall_ssh_port) }}
"""

RETURN = r"""
_value:
  description: The model of the host's table.
  type: dict
  contains:
    errors:
      description: One message per problem; empty when the input is valid.
      type: list
      elements: str
    warnings:
      description: Things that are valid but probably not what was meant.
      type: list
      elements: str
    needs:
      description: Hosts whose addresses the rules of O(host) need and that have no C(firewall_addresses).
      type: list
      elements: str
    own:
      description:
        - What O(host) reported - C(controller) (the client address of the SSH management connection, or
          null), C(connection_port) (the port it arrived on), C(addresses), C(packages) (name to dpkg status).
      type: dict
    admin:
      description: C(v4) and C(v6) - the admin sources, collapsed.
      type: dict
    controller:
      description:
        - The controller address to allow SSH from - C(address) and C(family) (V(v4) or V(v6)), or null when
          there is none or the admin sources already cover it.
      type: dict
    ssh:
      description: C(port), C(rate) and C(burst).
      type: dict
    inbound:
      description:
        - Accept rules of the input chain - C(comment), C(proto), C(ports) (nft syntax), C(any) (from every
          source) or C(v4) and C(v6) (source addresses and networks, collapsed).
      type: list
      elements: dict
    rules:
      description: The extra rules, checked.
      type: list
      elements: str
    egress:
      description: C(restrict) and C(allow) (rules shaped like RV(_value.inbound), for destinations).
      type: dict
    log:
      description: C(drops) and C(rate).
      type: dict
    icmp_echo_rate:
      description: The echo request rate limit.
      type: str
    addresses:
      description: The resolved addresses of every host the rules refer to.
      type: dict
"""


# The logic lives in plugin_utils/_firewall_model.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def firewall_model(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._firewall_model import (
        firewall_model as run,
    )

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"firewall_model": firewall_model}
