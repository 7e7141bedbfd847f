# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A configuration that "sshd -t" rejects is never activated and leaves no trace."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import testinfra

testinfra_hosts = ["ansible://base-target"]

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
PUBKEY = (Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "id_base.pub").read_text().strip()
DROPIN = "/etc/ssh/sshd_config.d/00-groundwork.conf"
BROKEN = "/etc/ssh/sshd_config.d/50-broken.conf"


def test_rejected_sshd_configuration_is_rolled_back(host):
    peer = testinfra.get_host("ansible://base-peer", ansible_inventory=INVENTORY)
    before = host.file(DROPIN).sha256sum
    # Another drop-in that sshd cannot parse: the role's own drop-in is fine on its own,
    # the complete configuration is not.
    host.run(f"printf 'NoSuchOption yes\\n' > {BROKEN}")
    try:
        extra = {
            "base_timezone": "Europe/Berlin",
            "base_packages": ["less"],
            "base_ntp_servers": ["base-peer"],
            "base_journald_system_max_use": "200M",
            "base_sshd_max_auth_tries": 5,
            "base_admin_users": [
                {"name": "alice", "comment": "Alice Admin", "ssh_keys": [PUBKEY]},
                {
                    "name": "bob",
                    "comment": "Bob Operator",
                    "sudo_nopasswd": False,
                    "groups": ["adm"],
                    "ssh_keys": [PUBKEY],
                },
                {"name": "carol", "state": "absent"},
            ],
        }
        result = subprocess.run(
            ["ansible-playbook", "-i", INVENTORY, str(SCENARIO / "bad_input.yml"), "-e", json.dumps(extra)],
            capture_output=True,
            text=True,
            check=False,
            env=os.environ | {"ANSIBLE_NOCOLOR": "1"},
            timeout=300,
        )
        output = result.stdout + result.stderr
        assert result.returncode != 0, output
        assert "sshd rejected the new configuration" in output
        assert "NoSuchOption" in output  # sshd's own verdict is passed on
        assert "RUNNING HANDLER [groundwork.server.base : Reload the SSH service]" not in output
        assert host.file(DROPIN).sha256sum == before
        leftovers = host.run("ls /etc/ssh/sshd_config.d").stdout.split()
        assert sorted(leftovers) == ["00-cloud-init.conf", "00-groundwork.conf", "50-broken.conf"]
    finally:
        host.run(f"rm -f {BROKEN}")
    assert host.check_output("/usr/sbin/sshd -T | grep -i '^maxauthtries'") == "maxauthtries 3"
    login = peer.run(
        "ssh -i /root/.ssh/id_base -o BatchMode=yes -o StrictHostKeyChecking=no "
        "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR alice@base-target true"
    )
    assert login.rc == 0, login.stderr
