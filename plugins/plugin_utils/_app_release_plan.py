# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which release of groundwork.server.app goes live and which release directories go (used
by plugins/plugin_utils/_app_role.py).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._app_release_plan import app_release_plan
"""

from __future__ import annotations


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
