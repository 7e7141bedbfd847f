# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork.server.release_files (the module's side) in a temporary directory: what it
writes, what it leaves, check mode, content it refuses, and paths that could leave dest (the
action plugin's side is tests/unit/plugins/action/test_release_files_action.py; the end-to-end use is
molecule/app and every stack scenario)."""

from __future__ import annotations

import base64
import grp
import hashlib
import os
import pwd
import stat

import pytest
from ansible_collections.groundwork.server.plugins.modules import release_files as module

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def file_entry(path, data, mode="0644", inline=True):
    entry = {"path": path, "state": "file", "mode": mode, "sha256": hashlib.sha256(data).hexdigest()}
    entry["content"] = base64.b64encode(data).decode() if inline else None
    entry["staged"] = None
    return entry


def directory_entry(path):
    return {"path": path, "state": "directory", "mode": None, "sha256": None, "content": None, "staged": None}


def params(where, entries, **changes):
    return {
        "src": "/controller/app",
        "dest": str(where),
        "owner": OWNER,
        "group": GROUP,
        "directory_mode": "0750",
        "entries": entries,
        **changes,
    }


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


TREE = [
    directory_entry("static"),
    file_entry("app.py", b"print('hello')\n", "0755"),
    file_entry("static/site.css", b"body {}\n"),
    file_entry("static/logo.bin", bytes(range(256)) * 4),
]


def test_a_tree_is_written_with_its_modes_and_a_second_run_changes_nothing(tmp_path):
    dest = tmp_path / "release"
    result = module.run(params(dest, TREE), check_mode=False)
    assert result["changed"]
    assert sorted(result["written"]) == ["app.py", "static/logo.bin", "static/site.css"]
    assert result["created"] == [".", "static"]
    assert (dest / "static" / "logo.bin").read_bytes() == bytes(range(256)) * 4
    assert mode(dest) == 0o750 and mode(dest / "static") == 0o750
    assert mode(dest / "app.py") == 0o755 and mode(dest / "static" / "site.css") == 0o644
    # no temporary file is left behind
    assert sorted(os.listdir(dest)) == ["app.py", "static"]
    again = module.run(params(dest, TREE), check_mode=False)
    assert not again["changed"] and again["written"] == again["fixed"] == again["created"] == []
    assert again["diff"]["before"] == again["diff"]["after"] == ""


def test_check_mode_predicts_the_run_and_writes_nothing(tmp_path):
    dest = tmp_path / "release"
    predicted = module.run(params(dest, TREE), check_mode=True)
    assert not dest.exists()
    assert predicted["changed"] and sorted(predicted["written"]) == [
        "app.py",
        "static/logo.bin",
        "static/site.css",
    ]
    module.run(params(dest, TREE), check_mode=False)
    (dest / "app.py").write_text("changed\n")
    os.chmod(dest / "static" / "site.css", 0o600)
    predicted = module.run(params(dest, [{**e, "content": None} for e in TREE]), check_mode=True)
    assert predicted["written"] == ["app.py"] and predicted["fixed"] == ["static/site.css"]
    assert (dest / "app.py").read_text() == "changed\n" and mode(dest / "static" / "site.css") == 0o600
    real = module.run(params(dest, TREE), check_mode=False)
    assert real["written"] == predicted["written"] and real["fixed"] == predicted["fixed"]
    assert mode(dest / "static" / "site.css") == 0o644
    assert "app.py: sha256" in real["diff"]["before"] and "app.py: sha256" in real["diff"]["after"]


def test_files_that_differ_without_content_are_reported_missing_and_left_alone(tmp_path):
    dest = tmp_path / "release"
    module.run(params(dest, TREE), check_mode=False)
    (dest / "app.py").write_text("old\n")
    result = module.run(params(dest, [{**e, "content": None} for e in TREE]), check_mode=False)
    assert result["missing"] == ["app.py"] and not result["changed"]
    assert (dest / "app.py").read_text() == "old\n"


def test_other_files_in_dest_are_left_alone(tmp_path):
    dest = tmp_path / "release"
    dest.mkdir(mode=0o750)
    (dest / "local.txt").write_text("mine\n")
    module.run(params(dest, TREE), check_mode=False)
    assert (dest / "local.txt").read_text() == "mine\n"


def test_a_staged_file_is_checked_and_copied(tmp_path):
    dest = tmp_path / "release"
    data = os.urandom(3000)
    staged = tmp_path / "staged"
    staged.write_bytes(data)
    entry = {**file_entry("big.bin", data, inline=False), "staged": str(staged)}
    module.run(params(dest, [entry]), check_mode=False)
    assert (dest / "big.bin").read_bytes() == data
    staged.write_bytes(b"tampered")
    (dest / "big.bin").write_bytes(b"old")
    with pytest.raises(module.ReleaseFilesError, match="does not match its sha256"):
        module.run(params(dest, [entry]), check_mode=False)
    assert (dest / "big.bin").read_bytes() == b"old"


def test_content_that_does_not_match_its_checksum_is_refused(tmp_path):
    entry = {**file_entry("app.py", b"one"), "content": base64.b64encode(b"two").decode()}
    with pytest.raises(module.ReleaseFilesError, match="does not match its sha256"):
        module.run(params(tmp_path / "release", [entry]), check_mode=False)
    assert not (tmp_path / "release" / "app.py").exists()
    bad = {**file_entry("app.py", b"one"), "content": "not base64!"}
    with pytest.raises(module.ReleaseFilesError, match="not base64"):
        module.run(params(tmp_path / "release", [bad]), check_mode=False)


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "a/../../b", "a//b", "./a", "", "a/\0b", "a/."])
def test_paths_that_could_leave_dest_are_refused_before_anything_is_written(tmp_path, path):
    with pytest.raises(module.ReleaseFilesError, match="is not a path inside dest"):
        module.run(params(tmp_path / "release", [file_entry(path, b"x")]), check_mode=False)
    assert not (tmp_path / "release").exists()


def test_nothing_is_written_through_a_symbolic_link(tmp_path):
    dest = tmp_path / "release"
    dest.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "static").symlink_to(outside)
    with pytest.raises(module.ReleaseFilesError, match="symbolic link"):
        module.run(params(dest, TREE), check_mode=False)
    assert os.listdir(outside) == []
    link = tmp_path / "link"
    link.symlink_to(outside)
    with pytest.raises(module.ReleaseFilesError, match="symbolic link"):
        module.run(params(link, TREE), check_mode=False)


def test_a_symbolic_link_where_a_file_belongs_is_replaced_not_followed(tmp_path):
    dest = tmp_path / "release"
    dest.mkdir()
    target = tmp_path / "target"
    target.write_text("keep\n")
    (dest / "app.py").symlink_to(target)
    module.run(params(dest, [file_entry("app.py", b"new\n")]), check_mode=False)
    assert target.read_text() == "keep\n"
    assert not os.path.islink(dest / "app.py") and (dest / "app.py").read_text() == "new\n"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"directory_mode": "999"}, "directory_mode: '999' is not a mode"),
        ({"directory_mode": "017777"}, "directory_mode: '017777' is not a mode"),
        ({"owner": "no-such-user-here"}, "owner: the user 'no-such-user-here' does not exist"),
        ({"group": "no-such-group-here"}, "group: the group 'no-such-group-here' does not exist"),
        ({"dest": "relative/release"}, "dest: 'relative/release' is not an absolute path"),
    ],
)
def test_bad_parameters_name_the_parameter_and_write_nothing(tmp_path, changes, message):
    with pytest.raises(module.ReleaseFilesError, match=message):
        module.run(params(tmp_path / "release", TREE, **changes), check_mode=False)
    assert not (tmp_path / "release").exists()


def test_bad_entries_are_refused(tmp_path):
    dest = tmp_path / "release"
    with pytest.raises(module.ReleaseFilesError, match=r"mode of 'app\.py'"):
        module.run(params(dest, [file_entry("app.py", b"x", mode="rwx")]), check_mode=False)
    with pytest.raises(module.ReleaseFilesError, match=r"sha256 of 'app\.py'"):
        module.run(params(dest, [{**file_entry("app.py", b"x"), "sha256": "abc"}]), check_mode=False)
    with pytest.raises(module.ReleaseFilesError, match="listed twice"):
        module.run(params(dest, [file_entry("app.py", b"x"), file_entry("app.py", b"y")]), check_mode=False)
    assert not dest.exists()


def test_a_missing_parent_fails_in_a_real_run_and_is_predicted_in_check_mode(tmp_path):
    dest = tmp_path / "missing" / "release"
    with pytest.raises(module.ReleaseFilesError, match="the parent of"):
        module.run(params(dest, TREE), check_mode=False)
    predicted = module.run(params(dest, TREE), check_mode=True)
    assert predicted["created"] == [".", "static"]
    assert sorted(predicted["written"]) == ["app.py", "static/logo.bin", "static/site.css"]
