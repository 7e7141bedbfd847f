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

from ansible.plugins.action import ActionBase
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import (
    PROBE,
    build_command,
    interpreter,
    parse_answer,
)

ARGUMENT_SPEC = {
    "program": {"type": "str"},
    "argv": {"type": "list", "elements": "str", "default": []},
    "files": {"type": "list", "elements": "str", "default": []},
    "dirs": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True
    # Read-only: the same command runs in check mode.
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        del validation
        command = build_command(interpreter(task_vars, self._templar), PROBE.read(), args)
        done = self._low_level_execute_command(command, sudoable=True)
        answer, error = parse_answer(done.get("rc"), done.get("stdout", ""), done.get("stderr", ""))
        result["changed"] = False
        if error:
            result["failed"] = True
            result["msg"] = error
            return result
        result.update(answer)
        return result
