# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The logic of the files_changed filter (plugins/filter/files_changed.py documents it).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._files_changed import files_changed
"""

from __future__ import annotations

import hashlib
import posixpath

from ansible.errors import AnsibleFilterError


def _mode(value):
    try:
        return int(str(value), 8)
    except ValueError:
        return None


def _same_account(wanted, name, number):
    wanted = str(wanted)
    return wanted == name or (wanted.isdigit() and int(wanted) == number)


def _attributes_differ(spec, state, default_mode):
    """Owner, group and mode; for a directory only those the spec names."""
    defaults = {"owner": "root", "group": "root", "mode": default_mode}
    if default_mode is None:
        defaults = {"owner": None, "group": None, "mode": None}
    for key, default in defaults.items():
        wanted = spec.get(key) or default
        if wanted is None:
            continue
        if key == "mode":
            if _mode(wanted) != _mode(state.get("mode")):
                return True
        elif not _same_account(wanted, state.get(key), state.get("uid" if key == "owner" else "gid")):
            return True
    return False


def differs(spec, state):
    """Whether the file differs from the spec (as service_config, file or copy compare it)."""
    if state is None:
        return True
    wanted = spec.get("state", "present")
    if wanted == "absent":
        return state.get("state") != "absent"
    if wanted == "directory":
        return state.get("state") != "directory" or _attributes_differ(spec, state, None)
    if wanted == "link":
        return state.get("state") != "link" or state.get("target") != spec.get("src")
    content, digest = spec.get("content"), spec.get("sha256")
    if state.get("state") != "file" or (content is None and digest is None):
        return True
    if digest is None:
        digest = hashlib.sha256(str(content).encode("utf-8")).hexdigest()
    return digest != state.get("sha256") or _attributes_differ(spec, state, "0644")


def files_changed(specs, states, owned_dirs=None, entries=None):
    if not isinstance(specs, list) or not isinstance(states, dict):
        raise AnsibleFilterError(
            "files_changed expects a list of file specs and the dict of host_info's files"
        )
    changed = []
    managed = set()
    for spec in specs:
        path = posixpath.normpath(str(spec.get("path", "")))
        managed.add(path)
        if differs(spec, states.get(path, states.get(spec.get("path")))):
            changed.append(path)
    for directory in owned_dirs or []:
        directory = posixpath.normpath(str(directory))
        listing = (entries or {}).get(directory)
        if listing is None:
            changed.append(directory)
            continue
        for name, kind in sorted(listing.items()):
            path = posixpath.join(directory, name)
            if path not in managed and kind in ("file", "link"):
                changed.append(path)
    return changed
