# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base role's probe (plugin_utils/_probes/base.py), run as groundwork.server.role_plan
runs it: inside the shared probe library, on this machine."""

from __future__ import annotations

import getpass
import os

from ansible_collections.groundwork.server.tests.unit.probe_runner import run_role_probe


def inspect(args):
    return run_role_probe("base", args)


def test_the_probe_reads_drop_ins_users_and_the_host(tmp_path):
    (tmp_path / "00-groundwork.conf").write_text("PermitRootLogin no\r\n")
    (tmp_path / "50-cloud-init.conf").write_text("PasswordAuthentication yes\n")
    (tmp_path / "60-binary.conf").write_bytes(b"\xff\xfe")
    (tmp_path / "README").write_text("not a drop-in\n")
    os.symlink("/etc/hostname", tmp_path / "70-link.conf")
    me = getpass.getuser()
    answer = inspect({"sshd_dropin_dir": str(tmp_path), "users": [me, "no-such-user-x"], "locales": False})
    dropins = answer["sshd_dropins"]
    assert sorted(dropins) == [
        str(tmp_path / name) for name in ("00-groundwork.conf", "50-cloud-init.conf", "60-binary.conf")
    ]
    # line endings are kept: the corrected file is written back as it was read
    assert dropins[str(tmp_path / "00-groundwork.conf")]["content"] == "PermitRootLogin no\r\n"
    assert dropins[str(tmp_path / "60-binary.conf")]["content"] is None
    assert dropins[str(tmp_path / "50-cloud-init.conf")]["file"]["state"] == "file"
    assert answer["users"]["no-such-user-x"] is None
    mine = answer["users"][me]
    assert set(mine) == {"home_exists", "shell", "gecos", "groups", "authorized_keys"}
    assert answer["locales"] == []
    assert set(answer["hostname"]) == {"current", "static"}
    assert set(answer["sshd"]) == {"installed", "output", "error"}
    if not answer["sshd"]["installed"]:
        assert answer["sshd"]["output"] is None


def test_the_probe_lists_locales_when_asked(tmp_path):
    answer = inspect({"sshd_dropin_dir": str(tmp_path / "missing"), "users": [], "locales": True})
    assert answer["sshd_dropins"] == {}
    assert answer["users"] == {}
    assert isinstance(answer["locales"], list)
