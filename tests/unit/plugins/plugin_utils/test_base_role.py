# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base role's three steps as groundwork.server.role_plan calls them."""

from __future__ import annotations

import json

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _base_plan as bp
from ansible_collections.groundwork.server.plugins.plugin_utils import _base_role

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKbNbLnVZ1qNNpZb6Sgq8XmPQBB8o8p3N7dkm1GHUaOF alice@laptop"
DEFAULTS = {
    "base_admin_users": [{"name": "alice", "ssh_keys": [KEY]}, {"name": "carol", "state": "absent"}],
    "base_lockout_protection": True,
    "base_hostname": "",
    "base_timezone": "Etc/UTC",
    "base_locale": "C.UTF-8",
    "base_timesync": "chrony",
    "base_ntp_servers": ["2.debian.pool.ntp.org"],
    "base_timesync_clock_control": "auto",
    "base_unattended_upgrades": "yes",
    "base_unattended_upgrades_reboot": False,
    "base_unattended_upgrades_reboot_time": "02:00",
    "base_unattended_upgrades_origins": [],
    "base_unattended_upgrades_blocklist": [],
    "base_packages": ["less", "curl=7.88.1-10"],
    "base_apt_cache_valid_time": 3600,
    "base_journald_system_max_use": "500M",
    "base_sysctl_forwarding": "false",
    "base_sysctl_apply": "auto",
    "base_sysctl_extra": {},
    "base_sshd_port": 22,
    "base_sshd_kex_algorithms": ["curve25519-sha256"],
    "base_sshd_ciphers": ["chacha20-poly1305@openssh.com"],
    "base_sshd_macs": ["hmac-sha2-512-etm@openssh.com"],
    "base_sshd_host_key_algorithms": ["ssh-ed25519"],
    "base_sshd_client_alive_interval": 300,
    "base_sshd_client_alive_count_max": 3,
    "base_sshd_login_grace_time": 30,
    "base_sshd_max_auth_tries": 3,
    "base_sshd_allow_tcp_forwarding": False,
    "base_sshd_allow_agent_forwarding": False,
}


class Context:
    check_mode = False

    def __init__(self):
        self.rendered = []

    def render(self, template, **extra):
        self.rendered.append((template, extra["__base"]))
        return json.dumps({name: f"{name}\n" for name in extra["__base"]["templates"]})


def test_validate_converts_flags_and_fills_users():
    model, problems = _base_role.validate(DEFAULTS, Context())
    assert problems == []
    assert model["base_unattended_upgrades"] is True and model["base_sysctl_forwarding"] is False
    assert model["base_timesync_clock_control"] == "auto"
    assert [user["name"] for user in model["users_present"]] == ["alice"]
    assert model["users_present"][0]["shell"] == "/bin/bash"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"base_sshd_port": 0},
            ["base_sshd_port: 0 is not valid (expected a whole number from 1 to 65535)."],
        ),
        (
            {"base_lockout_protection": "true", "base_admin_users": [{"name": "alice", "state": "absent"}]},
            [
                'base_admin_users: ["alice"] has no present user with ssh_keys and sudo.'
                " The role turns off root login and passwords, so nobody could administer this host."
                " Add such a user, or set"
                " base_lockout_protection to false if access is managed elsewhere."
            ],
        ),
        ({"base_lockout_protection": "false", "base_admin_users": []}, []),
    ],
)
def test_validate_reports_problems(changes, expected):
    _model, problems = _base_role.validate({**DEFAULTS, **changes}, Context())
    assert problems == expected


def test_request_names_what_the_plan_reads():
    model, _problems = _base_role.validate(DEFAULTS, Context())
    request = _base_role.request(model, Context())
    assert request["files"] == list(bp.FILES)
    assert "curl" in request["packages"] and "curl=7.88.1-10" not in request["packages"]
    assert request["units"] == list(bp.UNITS)
    assert request["probe"] == {
        "sshd_dropin_dir": "/etc/ssh/sshd_config.d",
        "users": ["alice", "carol"],
        "locales": False,
    }


def test_plan_renders_once_and_plans_a_fresh_host():
    model, _problems = _base_role.validate(DEFAULTS, Context())
    inspection = {
        "os": {
            "id": "debian",
            "name": "Debian GNU/Linux",
            "version_id": "13",
            "version": "13.1",
            "codename": "trixie",
            "container": "docker",
        },
        "files": {path: {"state": "absent"} for path in bp.FILES},
        "packages": {},
        "units": {},
        "probe": {
            "sshd_dropins": {},
            "ssh_algorithms": None,
            "sshd": {"installed": False, "output": None, "error": None},
            "hostname": {"current": "h", "static": "h"},
            "localtime": "/usr/share/zoneinfo/Etc/UTC",
            "locales": [],
            "users": {"alice": None, "carol": None},
        },
    }
    context = Context()
    plan = _base_role.plan(model, inspection, context)
    assert len(context.rendered) == 1 and context.rendered[0][0] == "files.j2"
    result = plan.result()
    assert result["problems"] == []
    assert result["kinds"] == ["file", "keys", "link", "package", "service", "user"]
    assert result["files"]["system"][0]["path"] == "/etc/locale.conf"
    assert result["files"]["chrony"][2]["content"] == "chrony_unit\n"
    assert result["packages_missing"] == result["packages"]
    assert set(result["steps"]) >= {"packages", "system_files", "chrony_files", "sshd_files"}
    # the sudo rules and the system files: one transaction with both checkers
    assert result["system_files"][0]["path"] == "/etc/sudoers.d/groundwork-admins"
    assert len(result["system_files"]) == len(result["files"]["sudoers"]) + len(result["files"]["system"])
    assert "/usr/sbin/visudo -c -q" in result["system_validate"][2]
