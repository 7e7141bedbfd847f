# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import hashlib

import pytest
from ansible.errors import AnsibleError
from ansible_collections.groundwork.server.plugins.plugin_utils._tree_manifest import manifest


def test_files_directories_modes_and_digests(tmp_path):
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "app.py").chmod(0o755)
    (tmp_path / "static").mkdir()
    (tmp_path / "static").chmod(0o750)
    (tmp_path / "static" / "site.css").write_text("body {}\n")
    (tmp_path / "static" / "site.css").chmod(0o640)
    (tmp_path / ".hidden").write_text("")
    (tmp_path / ".hidden").chmod(0o600)
    assert manifest(str(tmp_path)) == {
        ".hidden": {"state": "file", "mode": "0600", "sha256": hashlib.sha256(b"").hexdigest()},
        "app.py": {"state": "file", "mode": "0755", "sha256": hashlib.sha256(b"print('hi')\n").hexdigest()},
        "static": {"state": "directory", "mode": "0750"},
        "static/site.css": {
            "state": "file",
            "mode": "0640",
            "sha256": hashlib.sha256(b"body {}\n").hexdigest(),
        },
    }


def test_links_are_followed_like_copy_does(tmp_path):
    (tmp_path / "real").write_text("x")
    (tmp_path / "real").chmod(0o644)
    (tmp_path / "alias").symlink_to("real")
    (tmp_path / "sub").mkdir()
    (tmp_path / "linked").symlink_to("sub", target_is_directory=True)
    (tmp_path / "sub" / "f").write_text("y")
    (tmp_path / "sub" / "f").chmod(0o644)
    result = manifest(str(tmp_path))
    assert result["alias"] == result["real"]
    assert result["linked"]["state"] == "directory"
    assert result["linked/f"] == result["sub/f"]


def test_not_a_directory(tmp_path):
    with pytest.raises(AnsibleError, match="is not a directory on the controller"):
        manifest(str(tmp_path / "missing"))
