# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base role's input checks: one message per problem, naming the variable and the value."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._base_model import base_model

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKbNbLnVZ1qNNpZb6Sgq8XmPQBB8o8p3N7dkm1GHUaOF alice@laptop"


def options(**changes):
    base = {
        "base_admin_users": [{"name": "alice", "ssh_keys": [KEY]}],
        "base_lockout_protection": True,
        "base_timezone": "Etc/UTC",
        "base_hostname": "",
        "base_locale": "C.UTF-8",
        "base_sshd_port": 22,
        "base_sshd_client_alive_interval": 300,
        "base_sshd_client_alive_count_max": 3,
        "base_sshd_login_grace_time": 30,
        "base_sshd_max_auth_tries": 3,
        "base_apt_cache_valid_time": 3600,
        "base_journald_system_max_use": "500M",
        "base_unattended_upgrades_reboot_time": "02:00",
        "base_packages": ["less", "vim-tiny:amd64", "curl=7.88.1-10"],
        "base_sshd_kex_algorithms": ["curve25519-sha256"],
        "base_sshd_ciphers": ["chacha20-poly1305@openssh.com"],
        "base_sshd_macs": ["hmac-sha2-512-etm@openssh.com"],
        "base_sshd_host_key_algorithms": ["ssh-ed25519"],
        "base_unattended_upgrades_origins": ["origin=Debian,codename=${distro_codename}-updates"],
        "base_unattended_upgrades_blocklist": ["linux-"],
        "base_sysctl_extra": {"vm.swappiness": 10, "net.core.somaxconn": "4096"},
        "base_timesync": "chrony",
        "base_ntp_servers": ["2.debian.pool.ntp.org", "192.0.2.5"],
    }
    base.update(changes)
    return base


def test_good_input_has_no_errors_and_users_get_their_defaults():
    model = base_model(
        options(base_admin_users=[{"name": "alice", "ssh_keys": [KEY]}, {"name": "bob", "state": "absent"}])
    )
    assert model["errors"] == []
    alice, bob = model["users"]
    assert alice == {
        "name": "alice",
        "state": "present",
        "ssh_keys": [KEY],
        "sudo": True,
        "sudo_nopasswd": True,
        "shell": "/bin/bash",
        "comment": "",
        "groups": [],
        "remove_home": True,
    }
    assert model["users_present"] == [alice]
    assert model["users_absent"] == [bob]


CASES = {
    "user name": (
        {"base_admin_users": [{"name": "Alice", "ssh_keys": [KEY]}]},
        'base_admin_users[0].name: "Alice" is not a valid admin user name',
    ),
    "root": ({"base_admin_users": [{"name": "root", "ssh_keys": [KEY]}]}, 'base_admin_users[0].name: "root"'),
    "bad key": (
        {"base_admin_users": [{"name": "alice", "ssh_keys": [KEY, "ssh-rsa AAA"]}]},
        'base_admin_users[0].ssh_keys[1]: "ssh-rsa AAA" is not a valid OpenSSH public key',
    ),
    "long bad key is cut": (
        {"base_admin_users": [{"name": "alice", "ssh_keys": [KEY, "x" * 60]}]},
        f'base_admin_users[0].ssh_keys[1]: "{"x" * 37}..." is not a valid OpenSSH public key',
    ),
    "shell": (
        {"base_admin_users": [{"name": "alice", "ssh_keys": [KEY], "shell": "bash"}]},
        'base_admin_users[0].shell: "bash" is not an absolute path',
    ),
    "comment": (
        {"base_admin_users": [{"name": "alice", "ssh_keys": [KEY], "comment": "a:b"}]},
        "base_admin_users[0].comment: \"a:b\" must be a string and must not contain ':' or line breaks",
    ),
    "boolean option": (
        {"base_admin_users": [{"name": "alice", "ssh_keys": [KEY], "sudo": "maybe"}]},
        'base_admin_users[0].sudo: "maybe" must be true or false.',
    ),
    "group": (
        {"base_admin_users": [{"name": "alice", "ssh_keys": [KEY], "groups": ["Adm"]}]},
        'base_admin_users[0].groups[0]: "Adm" is not a valid group name',
    ),
    "duplicate": (
        {"base_admin_users": [{"name": "alice", "ssh_keys": [KEY]}, {"name": "alice", "state": "absent"}]},
        'base_admin_users: user names must be unique, but ["alice"] appear more than once.',
    ),
    "lockout": (
        {"base_admin_users": [{"name": "alice", "sudo": False, "ssh_keys": [KEY]}]},
        'base_admin_users: ["alice"] has no present user with ssh_keys and sudo.',
    ),
    "time zone": (
        {"base_timezone": "Mars/Olympus_Mons"},
        'base_timezone: "Mars/Olympus_Mons" is not a time zone',
    ),
    "host name": ({"base_hostname": "bad_name"}, 'base_hostname: "bad_name" is not a valid host name'),
    "locale": ({"base_locale": "english"}, 'base_locale: "english" is not a locale name'),
    "port": (
        {"base_sshd_port": 0},
        "base_sshd_port: 0 is not valid (expected a whole number from 1 to 65535).",
    ),
    "boolean port": ({"base_sshd_port": True}, "base_sshd_port: true is not valid"),
    "size": (
        {"base_journald_system_max_use": "lots"},
        'base_journald_system_max_use: "lots" is not valid (expected a size',
    ),
    "time of day": (
        {"base_unattended_upgrades_reboot_time": "25:00"},
        'base_unattended_upgrades_reboot_time: "25:00"',
    ),
    "package": (
        {"base_packages": ["less", "Bad Name"]},
        'base_packages[1]: "Bad Name" is not valid (expected a Debian',
    ),
    "algorithm": ({"base_sshd_ciphers": ["aes 128"]}, 'base_sshd_ciphers[0]: "aes 128" is not valid'),
    "origin": ({"base_unattended_upgrades_origins": ['a"b']}, "base_unattended_upgrades_origins[0]:"),
    "sysctl name": (
        {"base_sysctl_extra": {"Vm": 1}},
        'base_sysctl_extra: "Vm" is not valid (expected a kernel',
    ),
    "sysctl value": (
        {"base_sysctl_extra": {"vm.swappiness": "a\nb"}},
        'base_sysctl_extra["vm.swappiness"]: "a\\nb" is not valid (expected a number or a string',
    ),
    "sysctl boolean": (
        {"base_sysctl_extra": {"vm.swappiness": True}},
        'base_sysctl_extra["vm.swappiness"]: true',
    ),
    "no ntp servers": (
        {"base_ntp_servers": []},
        'base_ntp_servers: [] is empty, but base_timesync is "chrony"',
    ),
    "ntp server": (
        {"base_ntp_servers": ["bad host!"]},
        'base_ntp_servers[0]: "bad host!" is not a host name or IP',
    ),
}


@pytest.mark.parametrize(("changes", "message"), CASES.values(), ids=CASES.keys())
def test_each_problem_is_reported_naming_the_variable(changes, message):
    errors = base_model(options(**changes))["errors"]
    assert any(message in error for error in errors), errors


def test_a_private_key_is_never_shown():
    secret = "-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA -----END OPENSSH PRIVATE KEY-----"
    errors = base_model(options(base_admin_users=[{"name": "alice", "ssh_keys": [KEY, secret]}]))["errors"]
    assert errors == [
        "base_admin_users[0].ssh_keys[1]: (a private key, not shown) is not a valid OpenSSH public key"
        " (expected '<type> <base64> [comment]' on one line, without control characters, with type one of"
        " ssh-ed25519, ecdsa-sha2-nistp256/384/521,"
        " ssh-rsa of at least 2048 bits, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com or"
        " their -cert-v01@openssh.com forms)."
    ]


def test_no_time_daemon_needs_no_servers_and_lockout_protection_can_be_off():
    model = base_model(
        options(base_timesync="none", base_ntp_servers=[], base_lockout_protection=False, base_admin_users=[])
    )
    assert model["errors"] == []


def test_every_problem_at_once():
    errors = base_model(options(base_sshd_port=0, base_timezone="x", base_locale="y"))["errors"]
    assert len(errors) == 3
