# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of groundwork.server.tier_server (documentation: plugins/modules/tier_server.py).

Which role serves a tier on this host, from the tier's choice variable
(``groundwork_web_server``, ``groundwork_database``) and the contracts module; runs on the
controller only."""

from __future__ import annotations

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import ProbeAction

ARGUMENT_SPEC = {"tier": {"type": "str", "required": True, "choices": [t["tier"] for t in contracts.TIERS]}}


class ActionModule(ProbeAction):
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.start(tmp, task_vars, ARGUMENT_SPEC)
        tier = contracts.TIER_BY_NAME[args["tier"]]
        var = tier["choice_var"]
        value = self._templar.template(task_vars.get(var)) if var else None
        name, problem = contracts.choose_server(args["tier"], value)
        if problem:
            result["failed"] = True
            result["msg"] = problem
            return result
        result.update(
            name=name,
            role=f"{contracts.COLLECTION}.{name}",
            changes_group=contracts.CHANGES_GROUPS[name],
            tier_changes_group=contracts.tier_changes_group(args["tier"]),
        )
        return result
