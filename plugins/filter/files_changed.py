# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: files_changed
short_description: The files of a service_config transaction that differ from what the host has
version_added: 0.1.0
author: groundwork developers
description:
  - Compares file specs as M(groundwork.server.service_config) takes them with the file states
    M(groundwork.server.host_info) read from the host, the same way the module compares them -
    content (by its SHA-256 digest), owner, group and mode of every present file, the absence
    of every absent one, and (with O(owned_dirs)) the files and links in owned directories
    that no spec names.
  - A spec may give C(sha256) (the digest of the content) instead of C(content), for files
    whose content the controller knows only by its digest.
  - Two more kinds of spec, for what M(ansible.builtin.file) keeps - C(state=directory)
    (a directory; C(owner), C(group) and C(mode) are compared only when given) and
    C(state=link) with C(src) (a symbolic link to exactly that target).
  - Returns the paths that differ. An empty list means that the module would change nothing,
    so a role can skip the module run altogether.
  - A path whose state was not read counts as changed, so the comparison can only err on the
    side of running the module.
options:
  _input:
    description:
      - The file specs (C(path), C(content) or C(sha256), C(state) - V(present), V(absent),
        V(directory) or V(link) -, C(owner), C(group), C(mode), C(src) for links).
    type: list
    elements: dict
    required: true
  states:
    description: RV(groundwork.server.host_info#module:files) of the host.
    type: dict
    required: true
  owned_dirs:
    description: Directories the transaction owns (O(groundwork.server.service_config#module:owned_dirs)).
    type: list
    elements: str
    default: []
  entries:
    description: RV(groundwork.server.host_info#module:dirs) of the host, which must cover O(owned_dirs).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Apply the configuration only when a file differs
  groundwork.server.service_config:
    files: "{{ files }}"
    owned_dirs: [/etc/nginx/sites-enabled]
  when: >-
    files | groundwork.server.files_changed(inspect.files, owned_dirs=['/etc/nginx/sites-enabled'],
                                            entries=inspect.dirs) | length > 0
"""

RETURN = r"""
_value:
  description: The differing paths, in the order of the specs, then the leftovers in owned directories.
  type: list
  elements: str
"""


# The logic lives in plugin_utils/_files_changed.py: Ansible loads every filter file of a collection
# whenever one of its filters is used (in every worker process), so the files stay small
# and only the filter a task calls imports its code.


def files_changed(*args, **kwargs):
    from ansible_collections.groundwork.server.plugins.plugin_utils._files_changed import files_changed as run

    return run(*args, **kwargs)


class FilterModule:
    def filters(self):
        return {"files_changed": files_changed}
