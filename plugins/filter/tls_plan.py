# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: tls_plan
short_description: Decide what the tls role does with each certificate of a host
version_added: 0.1.0
author: groundwork developers
description:
  - Compares the certificates a host should have (the output of C(groundwork.server.tls_model)) with what
    the role's inspection found on the host, and decides per certificate - keep it, issue it (a new key and
    certificate), write a placeholder for an ACME certificate that is not issued yet, mark an existing
    certificate as a placeholder (it was not issued through ACME), or leave an ACME certificate to the
    renewal program.
  - A C(selfsigned) or C(internal_ca) certificate is issued again when its files are missing or unreadable,
    its key does not match, its names (SANs, compared as a set) or key type differ, it was not issued by the
    right issuer, or less than 1/O(renew_fraction) of its lifetime remains.
  - The result holds no private key material.
options:
  _input:
    description: The certificates of the host (C(certificates) of the C(tls_model) result).
    type: list
    elements: dict
    required: true
  host:
    description: The inspection of the host (the JSON the role's C(files/inspect.py) prints).
    type: dict
    required: true
  ca_certificate:
    description: The internal CA certificate (PEM), or null when it does not exist (yet).
    type: str
  renew_fraction:
    description: Issue again when less than 1/N of the lifetime remains.
    type: int
    default: 3
  key_group:
    description: The group private keys belong to.
    type: str
    default: groundwork-tls
  placeholder_days:
    description: Lifetime of the temporary self-signed certificate of an ACME certificate.
    type: int
    default: 90
  now:
    description: The current time as a UNIX timestamp (for tests); default the controller's clock.
    type: float
"""

EXAMPLES = r"""
- name: Decide what to do with each certificate
  ansible.builtin.set_fact:
    __plan: >-
      {{ __model.certificates | groundwork.server.tls_plan(host=__inspect.stdout | from_json,
         ca_certificate=__ca_pem, renew_fraction=tls_renew_fraction) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    certificates:
      description:
        - One entry per certificate - C(name), C(provider), C(domains), C(key_type), C(days), C(action)
          (V(keep), V(issue), V(placeholder), V(mark), V(acme) or V(write)), C(reasons), C(pending) (an
          ACME certificate the renewal program still has to issue), and C(cert) and C(chain) (the current
          PEM files).
      type: list
      elements: dict
    issue:
      description: The certificates that get a new key and certificate, with C(signer) V(self) or V(ca).
      type: list
      elements: dict
    pending:
      description: Names of the ACME certificates the renewal program still has to issue.
      type: list
      elements: str
    dirs:
      description: Names whose directory is missing or has the wrong owner or mode.
      type: list
      elements: str
    key_attributes:
      description: Names whose existing private key has the wrong owner, group or mode.
      type: list
      elements: str
    summary:
      description: One line per certificate that changes, with the reasons.
      type: list
      elements: str
"""


# The logic lives in plugin_utils/_tls_plan.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def tls_plan(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._tls_plan import tls_plan as run

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"tls_plan": tls_plan}
