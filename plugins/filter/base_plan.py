# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: base_plan
short_description: What the groundwork.server.base role changes on a host
version_added: 0.1.0
author: groundwork developers
description:
  - From what the role's read-only inspection reported about a host, decides on the controller
    which files differ (content, owner, group, mode), which admin users and SSH keys differ,
    which lines of other sshd drop-ins contradict the role's settings (they are commented out),
    which units are not enabled and running, and whether the effective sshd configuration
    (C(sshd -T)) applies the hardened settings.
  - RV(_value.todo) lists every kind of change, each naming what differs; empty when the host
    is as configured, so that the role runs none of its changing tasks.
  - With O(sshd=true) it returns only the sshd settings (the algorithm lists cut down to what the
    host's OpenSSH supports, O(_input) being what C(ssh -Q) printed).
options:
  _input:
    description:
      - What the inspection reported (roles/base/files/inspect.py); with O(sshd=true) its C(ssh_algorithms).
    type: raw
    required: true
  model:
    description: The output of the C(groundwork.server.base_model) filter.
    type: dict
  specs:
    description:
      - The role's file specs by group (C(system), C(sudoers), C(chrony), C(timesyncd), C(sshd)), each
        naming its template (C(template)) instead of a content.
    type: dict
  rendered:
    description: The rendered templates by name (the role's C(templates/files.j2)).
    type: dict
  settings:
    description: The sshd settings (this filter with O(sshd=true)).
    type: dict
  options:
    description:
      - The role's variables the decisions read, with C(packages_missing), C(unit_ok) (units enabled and
        active), C(builtin_locales), C(apt_timers) and C(locale_link) (Debian 13 - C(/etc/default/locale) must
        link to C(../locale.conf)).
    type: dict
    required: true
  sshd:
    description: Return the sshd settings instead of the plan.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Decide what changes
  ansible.builtin.set_fact:
    decision: >-
      {{ inspection | groundwork.server.base_plan(model=model, specs=specs, rendered=rendered,
                                                  settings=settings, options=options) }}
"""

RETURN = r"""
_value:
  description: The plan (or with O(sshd=true) the sshd settings by keyword).
  type: dict
  contains:
    files:
      description: The file specs by group, with their contents.
      type: dict
    todo:
      description: One entry per kind of change; empty when nothing changes.
      type: list
      elements: str
    changed:
      description: The paths of the files that differ.
      type: list
      elements: str
    files_sshd:
      description: The role's sshd drop-in and the other drop-ins it corrects.
      type: list
      elements: dict
    sshd_changes:
      description: The paths among RV(_value.files_sshd) that differ.
      type: list
      elements: str
    users:
      description: Present admin users the user module would change.
      type: list
      elements: str
    key_updates:
      description: Admin users whose authorized_keys does not hold exactly their keys.
      type: list
      elements: str
    algorithm_problems:
      description: Algorithm lists none of whose algorithms the host's OpenSSH supports.
      type: list
      elements: str
    sshd_mismatches:
      description: Settings the effective sshd configuration does not apply (null when it was not read).
      type: list
      elements: dict
"""


# The logic lives in plugin_utils/_base_plan.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def base_plan(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._base_plan import base_plan as run

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"base_plan": base_plan}
