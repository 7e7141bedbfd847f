# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input fails before anything changes, with a message naming variable and value."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import valid_vars

testinfra_hosts = ["ansible://base-target"]

SCENARIO = Path(__file__).resolve().parents[1]
PLAYBOOK = SCENARIO / "bad_input.yml"
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
PRIVATE_KEY_LINE = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"

# What the role manages; none of it may change when the input is bad.
WATCHED = [
    "/etc/passwd",
    "/etc/group",
    "/etc/ssh/sshd_config.d/00-groundwork.conf",
    "/etc/ssh/sshd_config.d/00-cloud-init.conf",
    "/etc/sudoers.d/groundwork-admins",
    "/etc/chrony/chrony.conf",
    "/etc/apt/apt.conf.d/52groundwork-unattended-upgrades",
    "/etc/sysctl.d/90-groundwork.conf",
    "/etc/default/locale",
]


def with_user(index, **changes):
    variables = valid_vars()
    variables["base_admin_users"][index].update(changes)
    return variables


CASES = {
    "wrong type for the port": (
        {**valid_vars(), "base_sshd_port": "twenty-two"},
        ["base_sshd_port", "twenty-two"],
    ),
    "wrong type for a user option": (
        with_user(0, sudo="maybe"),
        ["base_admin_users", "sudo", "maybe"],
    ),
    "malformed SSH key": (
        with_user(1, ssh_keys=["ssh-rsa AAA"]),
        ["base_admin_users[1].ssh_keys[0]", "ssh-rsa AAA", "is not a valid OpenSSH public key"],
    ),
    "invalid user name": (
        with_user(0, name="Alice Admin"),
        ["base_admin_users[0].name", "Alice Admin", "is not a valid admin user name"],
    ),
    "unknown time zone": (
        {**valid_vars(), "base_timezone": "Mars/Olympus_Mons"},
        ["base_timezone", "Mars/Olympus_Mons", "IANA"],
    ),
    "no admin left": (
        {**valid_vars(), "base_admin_users": [{"name": "alice", "state": "absent"}]},
        ["base_admin_users", "no present user with ssh_keys and sudo"],
    ),
}


def snapshot(host):
    return {path: host.file(path).sha256sum if host.file(path).exists else None for path in WATCHED} | {
        "/etc/localtime": host.file("/etc/localtime").linked_to,
        "home directories": host.check_output("ls /home"),
    }


def run_playbook(variables, tmp_path):
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps(variables))
    return subprocess.run(
        ["ansible-playbook", "-i", INVENTORY, str(PLAYBOOK), "-e", f"@{extra}"],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
        timeout=300,
    )


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_early_and_changes_nothing(host, tmp_path, case):
    variables, expected = CASES[case]
    before = snapshot(host)
    result = run_playbook(variables, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    assert "changed=0" in output
    assert snapshot(host) == before


def test_a_pasted_private_key_is_refused_without_being_shown(host, tmp_path):
    private = f"-----BEGIN OPENSSH PRIVATE KEY----- {PRIVATE_KEY_LINE} -----END OPENSSH PRIVATE KEY-----"
    before = snapshot(host)
    result = run_playbook(with_user(0, ssh_keys=[private]), tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "base_admin_users[0].ssh_keys[0]" in output
    assert "(a private key, not shown)" in output
    assert PRIVATE_KEY_LINE not in output
    assert snapshot(host) == before
