# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: app_release_plan
short_description: Decide which release of the app role goes live and which release directories go
version_added: 0.1.0
author: groundwork developers
description:
  - Given the state of an application's releases on a host, returns the release that C(current) must
    point to (O(version), or with O(rollback) the release that went live before it), the history of live
    releases after the switch, and the release directories beyond O(kept) to remove.
  - "The history lists the releases that went live and passed their health check, oldest first; the
    releases are ordered by when they last went live, and releases that never did (a failed deploy) count
    as the oldest."
options:
  _input:
    description:
      - The state found on the host - C(current) (the release C(current) points to, or null),
        C(releases) (the release directories) and C(history).
    type: dict
    required: true
  version:
    description: The release to deploy (C(app_version)).
    type: str
    required: true
  rollback:
    description: Return to the release that went live before O(version) instead.
    type: bool
    default: false
  kept:
    description: How many release directories to keep, the live one included.
    type: int
    default: 3
"""

EXAMPLES = r"""
- name: Plan the release
  ansible.builtin.set_fact:
    __plan: "{{ {'current': '1', 'releases': ['1'], 'history': ['1']}
                | groundwork.server.app_release_plan('2') }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    target:
      description: The release to run, or null when O(rollback) has nothing to return to.
      type: str
    history:
      description: The history after the switch (only releases that remain, at most 50).
      type: list
      elements: str
    remove:
      description: Release directories to remove.
      type: list
      elements: str
    error:
      description: Why there is no target (rollback without a previous release), or an empty string.
      type: str
"""


# The logic lives in plugin_utils/_app_release_plan.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def app_release_plan(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._app_release_plan import (
        app_release_plan as run,
    )

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"app_release_plan": app_release_plan}
