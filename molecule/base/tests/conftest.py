# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the base scenario's tests share: the valid input of the runs they start themselves."""

from __future__ import annotations

import os
from pathlib import Path

PUBKEY = (Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "id_base.pub").read_text().strip()


def valid_vars():
    return {
        "base_timezone": "Europe/Berlin",
        "base_packages": ["less"],
        "base_ntp_servers": ["base-peer"],
        "base_journald_system_max_use": "200M",
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
