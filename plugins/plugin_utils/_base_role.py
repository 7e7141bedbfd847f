# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork.server.base's decision, run by the action groundwork.server.role_plan
(plugin_utils/_role_action.py): validate the input (plugin_utils/_base_model.py), ask the
host for what the plan needs (the shared probe library and plugin_utils/_probes/base.py),
and plan (plugin_utils/_base_plan.py), rendering the role's files in one template lookup.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _base_role
"""

from __future__ import annotations

import json

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.groundwork.server.plugins.plugin_utils import _base_plan
from ansible_collections.groundwork.server.plugins.plugin_utils._base_model import base_model
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import CONTROL

# The variables base_model checks, as they are.
CHECKED = (
    "base_admin_users",
    "base_lockout_protection",
    "base_timezone",
    "base_hostname",
    "base_locale",
    "base_sshd_port",
    "base_sshd_client_alive_interval",
    "base_sshd_client_alive_count_max",
    "base_sshd_login_grace_time",
    "base_sshd_max_auth_tries",
    "base_apt_cache_valid_time",
    "base_journald_system_max_use",
    "base_unattended_upgrades_reboot_time",
    "base_packages",
    "base_sshd_kex_algorithms",
    "base_sshd_ciphers",
    "base_sshd_macs",
    "base_sshd_host_key_algorithms",
    "base_unattended_upgrades_origins",
    "base_unattended_upgrades_blocklist",
    "base_sysctl_extra",
    "base_timesync",
    "base_ntp_servers",
)
# Booleans ("yes" and "true" strings count as true, as in Ansible; anything else is refused).
FLAGS = (
    "base_unattended_upgrades",
    "base_unattended_upgrades_reboot",
    "base_sshd_allow_tcp_forwarding",
    "base_sshd_allow_agent_forwarding",
    "base_sysctl_forwarding",
)
# "auto" or a boolean.
AUTO = ("base_timesync_clock_control", "base_sysctl_apply")


def _flag(problems, name, value, auto=False):
    """A boolean as Ansible reads one (true, "yes", "false", ...), or "auto" where allowed;
    anything else is a problem (and counts as false)."""
    if auto and isinstance(value, str) and value.lower() == "auto":
        return "auto"
    try:
        if isinstance(value, str) and (value != value.strip() or CONTROL.search(value)):
            raise TypeError(value)  # Ansible would strip it; a line break is not a boolean
        return boolean(value, strict=True)
    except TypeError:
        allowed = "'auto', true or false" if auto else "true or false"
        problems.append(
            f"{name}: {json.dumps(value) if isinstance(value, str) else value!r} must be {allowed}."
        )
        return False


def model_of(options):
    """(model, problems) from the role's variables: the checked input, users with their defaults."""
    problems = []
    model = {name: options[name] for name in CHECKED}
    model["base_lockout_protection"] = _flag(
        problems, "base_lockout_protection", options["base_lockout_protection"]
    )
    checked = base_model(model)
    model.update({name: _flag(problems, name, options[name]) for name in FLAGS})
    model.update({name: _flag(problems, name, options[name], auto=True) for name in AUTO})
    for key in ("users", "users_present", "users_absent"):
        model[key] = checked[key]
    return model, checked["errors"] + problems


def validate(inputs, context):
    del context
    return model_of(inputs)


def request(model, context):
    del context
    return {
        "files": list(_base_plan.FILES),
        "packages": sorted({_base_plan.package_name(name) for name in _base_plan.packages(model)}),
        "units": list(_base_plan.UNITS),
        "probe": {
            "sshd_dropin_dir": _base_plan.SSHD_DROPIN_DIR,
            "users": [user["name"] for user in model["users"]],
            "locales": _base_plan.needs_locales(model["base_locale"]),
        },
    }


def plan(model, inspection, context):
    derived = _base_plan.derive(model, inspection)
    rendered = json.loads(context.render("files.j2", __base=derived))
    return _base_plan.decide(model, inspection, derived, rendered, context.check_mode)
