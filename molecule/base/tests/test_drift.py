# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes made by hand on a converged host are found by the inspection and put back: the
time zone, an edited sshd drop-in, a file mode, an admin's keys."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

testinfra_hosts = ["ansible://base-target"]

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFake x"
WATCHED = [
    "/etc/ssh/sshd_config.d/00-groundwork.conf",
    "/etc/sysctl.d/90-groundwork.conf",
    "/home/bob/.ssh/authorized_keys",
]


def converge():
    result = subprocess.run(
        ["ansible-playbook", "-i", INVENTORY, str(SCENARIO / "converge.yml")],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return int(re.search(r"base-target\s*:.*changed=(\d+)", output).group(1)), output


def state(host):
    return {path: (host.file(path).sha256sum, host.file(path).mode) for path in WATCHED} | {
        "localtime": host.file("/etc/localtime").linked_to
    }


def test_changes_by_hand_are_put_back(host):
    converge()
    before = state(host)
    host.run(
        "ln -sf /usr/share/zoneinfo/Etc/UTC /etc/localtime;"
        " echo 'MaxAuthTries 9' >> /etc/ssh/sshd_config.d/00-groundwork.conf;"
        " chmod 0600 /etc/sysctl.d/90-groundwork.conf;"
        f" echo {OTHER_KEY!r} > /home/bob/.ssh/authorized_keys"
    )
    changed, output = converge()
    assert changed > 0, output
    assert state(host) == before
    assert host.run("sshd -T | grep -i '^maxauthtries 3$'").rc == 0
    changed, output = converge()
    assert changed == 0, output
