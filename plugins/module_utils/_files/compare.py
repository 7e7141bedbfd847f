# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one answer to "does this file differ": used by the plans on the controller (from an
inspection's file states) and by service_config on the host (from the files themselves).

A *spec* is what a role wants at a path::

    {"path", "state": "present" | "absent" | "directory" | "link",
     "content" (text) or "sha256", "owner", "group", "mode", "src" (a link's target)}

An *observed state* is what the probe (plugin_utils/_host_probe.py ``file_state``) reports::

    {"state": "absent"} | {"state": "file", "sha256", "owner", "uid", "group", "gid", "mode"}
    | {"state": "directory", ...attributes} | {"state": "link", "target"} | {"state": "other"}

Owner and group compare by name or by number, so the host's side may pass numbers it resolved.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.module_utils._files.compare import (
        file_action, files_plan, stray_files, file_digest, octal_mode)
"""

from __future__ import annotations

import hashlib
import posixpath
import re

DEFAULT_ATTRIBUTES = {"owner": "root", "group": "root", "mode": "0644"}
MODE = re.compile(r"0?[0-7]{3,4}")


def digest(content):
    """The sha256 of a file's content (text is written as UTF-8)."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    return hashlib.sha256(content).hexdigest()


def file_digest(path):
    """The sha256 of a file's content, read in blocks."""
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            sha.update(block)
    return sha.hexdigest()


def octal_mode(value):
    """The permission bits ``value`` names: a number, or an octal string of three or four
    digits with an optional leading 0 ('644', '0644', '2750'), at most 07777. None when it
    is neither: the callers that take a mode as input name their option in the error."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 0o7777 else None
    if isinstance(value, str) and MODE.fullmatch(value):
        return int(value, 8)
    return None


def _same_account(wanted, name, number):
    wanted = str(wanted)
    return wanted == name or (wanted.isdigit() and number is not None and int(wanted) == int(number))


def attributes_differ(spec, observed, defaults=None):
    """Owner, group and mode; ``defaults`` fill what the spec leaves out (None: compare only those named)."""
    for key in ("owner", "group", "mode"):
        wanted = spec.get(key)
        if wanted is None and defaults is not None:
            wanted = defaults[key]
        if wanted is None:
            continue
        if key == "mode":
            mode = octal_mode(wanted)
            if mode is None or mode != octal_mode(observed.get("mode")):
                return True
        elif not _same_account(wanted, observed.get(key), observed.get("uid" if key == "owner" else "gid")):
            return True
    return False


def file_action(spec, observed):
    """What bringing the path to the spec takes: None (nothing), "create", "update",
    "attributes" or "remove". An unknown observed state (None) counts as different."""
    wanted = spec.get("state") or "present"
    now = (observed or {}).get("state") if observed is not None else None
    if wanted == "absent":
        return None if now == "absent" else "remove"
    if observed is None:
        return "update"
    if wanted == "directory":
        if now != "directory":
            return "create" if now == "absent" else "update"
        return "attributes" if attributes_differ(spec, observed) else None
    if wanted == "link":
        if now == "link" and observed.get("target") == spec.get("src"):
            return None
        return "create" if now == "absent" else "update"
    if now == "absent":
        return "create"
    wanted_digest = spec.get("sha256")
    if wanted_digest is None and spec.get("content") is not None:
        wanted_digest = digest(spec["content"])
    if now != "file" or wanted_digest is None or wanted_digest != observed.get("sha256"):
        return "update"
    return "attributes" if attributes_differ(spec, observed, DEFAULT_ATTRIBUTES) else None


def stray_files(owned_dirs, entries, managed):
    """Files and links in the directories a role owns that no spec names (they go away).
    ``entries`` is {directory: {name: kind}}; a directory missing from it was not read, and is
    listed itself (whatever it holds is unknown)."""
    stray = []
    for directory in owned_dirs or []:
        directory = posixpath.normpath(str(directory))
        listing = (entries or {}).get(directory)
        if listing is None:
            stray.append(directory)
            continue
        for name, kind in sorted(listing.items()):
            path = posixpath.join(directory, name)
            if path not in managed and kind in ("file", "link"):
                stray.append(path)
    return stray


def files_plan(specs, observed, owned_dirs=None, entries=None):
    """[(path, action)] for every spec that differs and every stray file ("remove")."""
    changes = []
    managed = set()
    for spec in specs:
        path = posixpath.normpath(str(spec.get("path", "")))
        managed.add(path)
        action = file_action(spec, observed.get(path, observed.get(spec.get("path"))))
        if action:
            changes.append((path, action))
    unread = {posixpath.normpath(str(d)) for d in owned_dirs or []} - set(entries or {})
    for path in stray_files(owned_dirs, entries, managed):
        changes.append((path, "unknown" if path in unread else "remove"))
    return changes
