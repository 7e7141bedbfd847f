# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: tls_model
short_description: Validate and normalise the certificates of the tls role
version_added: 0.1.0
author: groundwork developers
description:
  - Checks the certificate list of C(groundwork.server.tls) and the role's global settings against the
    semantic rules an argument spec cannot express, and returns them with every default filled in.
  - "Never raises for bad input; every problem is one line of RV(_value.errors) that names the
    certificate, the key, the value and the problem, for example
    C(tls_certificates[0] (shop): domains[1] '*.shop.example.com' is a wildcard, which HTTP-01 cannot validate
    (use provider internal_ca, selfsigned or provided))."
  - Provided certificates are parsed on the controller (with the Python package C(cryptography) that
    ansible-core depends on) - the certificate must cover the domains, the chain must link up, and the private
    key must belong to the certificate. A private key never appears in a message.
options:
  _input:
    description: The certificates (C(tls_certificates)).
    type: list
    elements: dict
    required: true
  acme_directory:
    description: V(letsencrypt), V(letsencrypt_staging) or an C(https://) URL.
    type: str
    default: letsencrypt
  acme_ca_bundle:
    description: PEM certificates that sign the ACME server's HTTPS certificate; empty for the system trust.
    type: str
    default: ""
  acme_email:
    description: Contact e-mail of the ACME account; empty for none.
    type: str
    default: ""
  acme_webroot:
    description: The shared ACME challenge webroot.
    type: str
    default: /var/lib/groundwork/acme
  renew_fraction:
    description: Renew when less than 1/N of the lifetime remains.
    type: int
    default: 3
  internal_ca_name:
    description: Name of the internal CA.
    type: str
    default: groundwork
  internal_ca_host:
    description: Where the internal CA key lives.
    type: str
    default: localhost
  internal_ca_dir:
    description: Directory of the internal CA on O(internal_ca_host).
    type: str
    default: ~/.local/share/groundwork/ca
  key_group:
    description: The group that may read private keys.
    type: str
    default: groundwork-tls
  key_group_members:
    description: Users added to O(key_group).
    type: list
    elements: str
    default: []
  protected_dirs:
    description:
      - Controller directories the internal CA must not live in (the playbook and inventory directories,
        each with the git repository that holds it), checked when O(internal_ca_host) is the controller.
    type: list
    elements: str
    default: []
  now:
    description: The current time as a UNIX timestamp (for tests); default the controller's clock.
    type: float
  certificates_var:
    description: The variable name used in messages.
    type: str
    default: tls_certificates
"""

EXAMPLES = r"""
- name: Check the certificates
  ansible.builtin.assert:
    that: __model.errors | length == 0
    fail_msg: "{{ __model.errors | join('\n') }}"
  vars:
    __model: "{{ tls_certificates | groundwork.server.tls_model(acme_directory=tls_acme_directory) }}"
"""

RETURN = r"""
_value:
  description: The normalised model.
  type: dict
  contains:
    certificates:
      description:
        - The certificates with C(name), C(domains) (lower case), C(provider), C(key_type) and C(days);
          provided ones also with C(certificate) (the leaf), C(chain) and C(private_key), as PEM.
      type: list
      elements: dict
    acme:
      description: C(directory) (the URL), C(ca_bundle), C(email) (or null), C(webroot), C(renew_fraction).
      type: dict
    errors:
      description: One message per problem; empty when the input is valid.
      type: list
      elements: str
"""


# The logic lives in plugin_utils/_tls_model.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def tls_model(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._tls_model import tls_model as run

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"tls_model": tls_model}
