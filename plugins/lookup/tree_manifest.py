# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: tree_manifest
short_description: Every file and directory under a directory on the controller, with digests and modes
version_added: 0.1.0
author: groundwork developers (@groundwork)
description:
  - Walks a directory on the controller and returns, for every file and directory below it, its
    kind, its permission bits and, for a file, the SHA-256 digest of its content; keyed by the
    path relative to the directory.
  - Symbolic links are followed, as M(ansible.builtin.copy) follows them by default when it copies
    a directory, so the manifest describes what such a copy writes.
  - Together with M(groundwork.server.host_info) and the C(groundwork.server.files_changed) filter
    it tells on the controller whether a copy of the directory would change anything on a host.
options:
  _terms:
    description: Absolute paths of directories on the controller.
    required: true
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Copy the application only when a file differs
  ansible.builtin.copy:
    src: /srv/build/shop/
    dest: /srv/shop/releases/2.1/
    mode: preserve
  when: >-
    lookup('groundwork.server.tree_manifest', '/srv/build/shop') | dict2items
    | selectattr('value.state', 'eq', 'file') | length > 0
"""

RETURN = r"""
_raw:
  description:
    - One manifest per directory. Each maps a relative path (V(app.py), V(static/site.css)) to
      C(state) (V(file) or V(directory)), C(mode) (octal, for example V(0644)) and, for files, C(sha256).
  type: list
  elements: dict
"""


import hashlib
import os
import stat

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase


def _digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(root):
    """{relative path: {"state", "mode"[, "sha256"]}} of everything below ``root``."""
    if not os.path.isdir(root):
        raise AnsibleLookupError(f"tree_manifest: {root!r} is not a directory on the controller")
    entries = {}
    for directory, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        for name in dirnames + sorted(filenames):
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            try:
                info = os.stat(path)
            except OSError as exc:
                raise AnsibleLookupError(f"tree_manifest: cannot read {path!r}: {exc.strerror}") from None
            mode = f"{stat.S_IMODE(info.st_mode):04o}"
            if stat.S_ISDIR(info.st_mode):
                entries[relative] = {"state": "directory", "mode": mode}
            elif stat.S_ISREG(info.st_mode):
                entries[relative] = {"state": "file", "mode": mode, "sha256": _digest(path)}
    return dict(sorted(entries.items()))


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return [manifest(os.path.expanduser(str(term))) for term in terms]
