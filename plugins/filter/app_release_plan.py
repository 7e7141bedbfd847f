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


def _q(value):
    return repr(value) if isinstance(value, str) else str(value)


def app_release_plan(state, version, rollback=False, kept=3):
    """Which release goes live and which release directories go.

    ``state`` is what the role found on the host: ``current`` (the release ``current``
    points to, or null), ``releases`` (release directories) and ``history`` (the releases
    that went live and passed the health check, oldest first). Returns ``target``,
    ``history`` (after this run, when the target passes), ``remove`` and ``error``.
    """
    releases = list(state.get("releases") or [])
    history = list(state.get("history") or [])
    version = str(version)
    error = ""
    target = version
    if rollback:
        target = None
        if version in history:
            last = len(history) - 1 - history[::-1].index(version)
            for candidate in reversed(history[:last]):
                if candidate != version and candidate in releases:
                    target = candidate
                    break
        if target is None:
            deployed = ", ".join(_q(r) for r in dict.fromkeys(reversed(history))) or "none"
            error = (
                f"app_rollback: there is no release before {_q(version)} to return to"
                f" (releases that went live, newest first: {deployed})"
            )
    new_history = history if target is None or history[-1:] == [target] else [*history, target]
    # Newest first by when each release last went live; never-live ones (failed) are oldest.
    recency = {name: index for index, name in enumerate(new_history)}
    ordered = sorted(releases, key=lambda name: recency.get(name, -1), reverse=True)
    keep = {target} if target else set(releases)
    remove = []
    for name in ordered:
        if name in keep:
            continue
        if len(keep) < int(kept):
            keep.add(name)
        else:
            remove.append(name)
    # The history only names releases that are still there (and keeps the file short).
    remaining = (set(releases) - set(remove)) | {target}
    new_history = [name for name in new_history if name in remaining][-50:]
    return {"target": target, "history": new_history, "remove": sorted(remove), "error": error}


class FilterModule:
    """Ansible filter plugin: groundwork.server.app_release_plan."""

    def filters(self):
        return {"app_release_plan": app_release_plan}
