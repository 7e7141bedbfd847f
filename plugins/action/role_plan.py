# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of groundwork.server.role_plan (documentation: plugins/modules/role_plan.py);
the logic is in plugin_utils/_role_action.py."""

from __future__ import annotations

from ansible_collections.groundwork.server.plugins.plugin_utils._role_action import RoleAction


class ActionModule(RoleAction):
    pass
