# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The logic of the files_changed filter (plugins/filter/files_changed.py documents it).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._files_changed import files_changed
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import files_plan


def files_changed(specs, states, owned_dirs=None, entries=None):
    if not isinstance(specs, list) or not isinstance(states, dict):
        raise AnsibleFilterError(
            "files_changed expects a list of file specs and the dict of host_info's files"
        )
    return [path for path, _action in files_plan(specs, states, owned_dirs, entries)]
