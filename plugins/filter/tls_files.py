# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: tls_files
short_description: Every file the groundwork.server.tls role writes on a host
version_added: 0.1.0
author: groundwork developers
description:
  - From the plan of the C(groundwork.server.tls_plan) filter, the file specs of one
    M(groundwork.server.service_config) transaction - the public files of every certificate (kept
    ones as the host has them, new ones as issued in this run), provided private keys (marked
    secret), placeholder markers, the ACME renewal specs and CA bundle, the internal CA in the
    trust store (other groundwork trust files removed), and the renewal program with its units.
options:
  _input:
    description: The plan (C(groundwork.server.tls_plan)).
    type: dict
    required: true
  model:
    description: The certificate model (C(groundwork.server.tls_model)).
    type: dict
    required: true
  host:
    description: What the role's inspection reported (its C(trust_files)).
    type: dict
  issued:
    description: The certificates issued in this run, by name (PEM).
    type: dict
  options:
    description:
      - The role's paths and settings - C(dir), C(spec_dir), C(acme_ca_file), C(trust_file), C(program),
        C(unit_dir), C(units), C(ca) (the internal CA certificate or null), C(trust), C(has_acme),
        C(key_group), C(key_group_now), C(program_text) and C(unit_texts) (by unit).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write the files of the plan
  groundwork.server.service_config:
    files: >-
      {{ plan | groundwork.server.tls_files(model=model, host=inspection, issued={}, options=options) }}
"""

RETURN = r"""
_value:
  description: File specs (C(path), C(content), C(state), C(mode), C(group), C(secret)).
  type: list
  elements: dict
"""


# The logic lives in plugin_utils/_tls_files.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def tls_files(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._tls_files import tls_files as run

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"tls_files": tls_files}
