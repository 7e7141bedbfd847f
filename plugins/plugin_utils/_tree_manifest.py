# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Digests and modes of a directory tree on the controller (the app role's release source),
in the form the shared file comparison reads.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._tree_manifest import manifest
"""

from __future__ import annotations

import os
import stat

from ansible.errors import AnsibleError
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import file_digest


def manifest(root):
    """{relative path: {"state", "mode"[, "sha256"]}} of everything below ``root``."""
    if not os.path.isdir(root):
        raise AnsibleError(f"{root!r} is not a directory on the controller")
    entries = {}
    for directory, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        for name in dirnames + sorted(filenames):
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            try:
                info = os.stat(path)
            except OSError as exc:
                raise AnsibleError(f"cannot read {path!r}: {exc.strerror}") from None
            mode = f"{stat.S_IMODE(info.st_mode):04o}"
            if stat.S_ISDIR(info.st_mode):
                entries[relative] = {"state": "directory", "mode": mode}
            elif stat.S_ISREG(info.st_mode):
                entries[relative] = {"state": "file", "mode": mode, "sha256": file_digest(path)}
    return dict(sorted(entries.items()))
