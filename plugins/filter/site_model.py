# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: site_model
short_description: Validate and normalise the web site model shared by the nginx and apache roles
version_added: 0.1.0
author: groundwork developers
description:
  - Checks a list of sites and a list of upstreams against the semantic rules the argument spec
    cannot express, and returns them with every default filled in, ready for a template.
  - "Never raises for bad input; every problem is returned in RV(_value.errors) as one line that
    names the variable, the site, the key and the value, for example
    C(nginx_sites[0] (shop): tls.certificate 'www' is not a known certificate (known: 'shop'))."
  - Upstream servers given as an inventory group are expanded to one server per host of the group,
    addressed by the host's C(ansible_host) (or its inventory name) and the given port.
options:
  _input:
    description: The sites (for example C(nginx_sites)).
    type: list
    elements: dict
    required: true
  upstreams:
    description: The upstreams the sites may proxy to.
    type: list
    elements: dict
    default: []
  certificates:
    description: Names of the certificates the sites may refer to.
    type: list
    elements: str
    default: []
  groups:
    description: The inventory's groups (the C(groups) variable), to expand group servers.
    type: dict
    default: {}
  hostvars:
    description: The C(hostvars) variable, to look up C(ansible_host) of group members.
    type: dict
    default: {}
  sites_var:
    description: The variable name used in messages for the sites.
    type: str
    default: sites
  upstreams_var:
    description: The variable name used in messages for the upstreams.
    type: str
    default: upstreams
  defaults:
    description: Site-level defaults (C(client_max_body_size), C(hsts_max_age), C(security_headers)).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Validate the sites
  ansible.builtin.assert:
    that: __model.errors | length == 0
    fail_msg: "{{ __model.errors | join('\n') }}"
  vars:
    __model: >-
      {{ nginx_sites | groundwork.server.site_model(upstreams=nginx_upstreams,
         certificates=nginx_certificates, groups=groups, hostvars=hostvars,
         sites_var='nginx_sites', upstreams_var='nginx_upstreams') }}
"""

RETURN = r"""
_value:
  description: The normalised model.
  type: dict
  contains:
    sites:
      description: The sites with every key filled in; C(locations[].upstream) holds the upstream itself.
      type: list
      elements: dict
    upstreams:
      description: The upstreams with their servers expanded.
      type: list
      elements: dict
    certificates:
      description: The certificate names the sites use, sorted.
      type: list
      elements: str
    errors:
      description: One message per problem; empty when the input is valid.
      type: list
      elements: str
"""


# The logic lives in plugin_utils/_site_model.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def site_model(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import site_model as run

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"site_model": site_model}
