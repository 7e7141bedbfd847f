# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of groundwork.server.host_info (documentation: plugins/modules/host_info.py).

One shell command on the host, no module: ``<python> -c <bootstrap> <probe> <request>``,
where the probe (plugin_utils/_host_probe.py) and the request travel compressed and
base64-encoded, so that nothing in them needs shell quoting. A role's whole no-op
inspection costs one command instead of one module run (AnsiballZ, imports, arguments)
per question.
"""

from __future__ import annotations

from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import ProbeAction, read_host

ARGUMENT_SPEC = {
    "program": {"type": "str"},
    "argv": {"type": "list", "elements": "str", "default": []},
    "files": {"type": "list", "elements": "str", "default": []},
    "dirs": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ProbeAction):
    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.start(tmp, task_vars, ARGUMENT_SPEC)
        answer, error = read_host(self, task_vars, args)
        if error:
            result["failed"] = True
            result["msg"] = error
            return result
        result.update(answer)
        return result
