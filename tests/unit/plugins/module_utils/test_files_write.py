# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way service_config and release_files put a file in place, and read an owner, a
group and a mode: on real files in a temporary directory."""

from __future__ import annotations

import grp
import os
import pwd
import stat

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import octal_mode
from ansible_collections.groundwork.server.plugins.module_utils._files.write import (
    group_id,
    replace_file,
    user_id,
)

UID, GID = os.getuid(), os.getgid()


def _entries(directory):
    return sorted(os.listdir(directory))


@pytest.mark.parametrize("durable", [True, False])
def test_the_content_owner_and_mode_replace_the_old_file(tmp_path, durable):
    path = tmp_path / "app.conf"
    path.write_bytes(b"old\n")
    os.chmod(path, 0o644)
    replace_file(str(path), UID, GID, 0o640, data=b"new\n", durable=durable)
    assert path.read_bytes() == b"new\n"
    info = path.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o640, UID, GID)
    assert _entries(tmp_path) == ["app.conf"]


def test_a_staged_file_is_copied_whole(tmp_path):
    staged = tmp_path / "staged"
    staged.write_bytes(os.urandom(3 << 20))
    path = tmp_path / "big.bin"
    replace_file(str(path), UID, GID, 0o600, source=str(staged), durable=False)
    assert path.read_bytes() == staged.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_setuid_and_setgid_bits_survive_the_owner_and_the_content(tmp_path):
    path = tmp_path / "helper"
    replace_file(str(path), UID, GID, 0o6750, data=b"#!/bin/sh\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o6750


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_one(tmp_path):
    path = tmp_path / "app.conf"
    path.write_bytes(b"old\n")
    with pytest.raises(FileNotFoundError):
        replace_file(str(path), UID, GID, 0o644, source=str(tmp_path / "missing"))
    assert path.read_bytes() == b"old\n"
    assert _entries(tmp_path) == ["app.conf"]


def test_a_symbolic_link_at_the_path_is_replaced_not_written_through(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"keep\n")
    path = tmp_path / "link"
    path.symlink_to(target)
    replace_file(str(path), UID, GID, 0o644, data=b"new\n")
    assert not path.is_symlink()
    assert path.read_bytes() == b"new\n"
    assert target.read_bytes() == b"keep\n"


def test_names_and_numbers_of_users_and_groups():
    user = pwd.getpwuid(UID).pw_name
    group = grp.getgrgid(GID).gr_name
    assert user_id(user) == UID
    assert group_id(group) == GID
    # a number that names no account is taken as the number
    assert user_id("4242421") == 4242421
    assert group_id("4242421") == 4242421
    assert user_id("no-such-user-here") is None
    assert group_id("no-such-group-here") is None


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        ("644", 0o644),
        ("0644", 0o644),
        ("2750", 0o2750),
        ("07777", 0o7777),
        (0o640, 0o640),
        # not modes: other notations, digits that are not octal, too many, out of range
        ("0o644", None),
        ("rw-r--r--", None),
        ("0999", None),
        ("017777", None),
        ("64", None),
        ("", None),
        (" 0644", None),
        (0o10000, None),
        (-1, None),
        (True, None),
        (None, None),
    ],
)
def test_a_mode_is_an_octal_string_of_three_or_four_digits(value, mode):
    assert octal_mode(value) == mode
