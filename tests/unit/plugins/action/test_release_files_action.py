# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugin of release_files: how it splits a tree into module runs, and a real run
through ansible-playbook on the local connection with a tree over the inline limit (compared
first, then sent in batches, a large file transferred on its own), its no-op and check mode."""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
import sys
from pathlib import Path

import yaml
from ansible_collections.groundwork.server.plugins.action.release_files import (
    INLINE_FILE,
    INLINE_TOTAL,
    batches,
    entries_of,
)

ROOT = Path(__file__).resolve().parents[4]


def test_batches_keep_runs_under_the_limit_and_large_files_apart():
    sizes = {"a": 3, "b": 4, "c": 2, "big": 11, "d": 5}
    groups, alone = batches(["a", "b", "c", "big", "d"], sizes, total=8, single=10)
    assert groups == [["a", "b"], ["c", "d"]]
    assert alone == ["big"]
    assert batches([], {}) == ([], [])
    # a file of exactly the limits still goes inline, alone in its batch
    assert batches(["x", "y"], {"x": INLINE_FILE, "y": INLINE_FILE}, total=INLINE_FILE) == (
        [["x"], ["y"]],
        [],
    )
    assert INLINE_FILE < INLINE_TOTAL


def test_entries_carry_modes_and_checksums_of_files_only():
    tree = {
        "static": {"state": "directory", "mode": "0755"},
        "static/a.css": {"state": "file", "mode": "0640", "sha256": "0" * 64},
    }
    assert entries_of(tree) == [
        {"path": "static", "state": "directory"},
        {"path": "static/a.css", "state": "file", "mode": "0640", "sha256": "0" * 64},
    ]


def play(tmp_path, *options, fails=False):
    owner = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Copy a tree",
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Copy the tree",
                            "groundwork.server.release_files": {
                                "src": str(tmp_path / "src"),
                                "dest": str(tmp_path / "dest"),
                                "owner": owner,
                                "group": group,
                                "directory_mode": "0750",
                            },
                            "register": "copied",
                        },
                        {"name": "Show the result", "ansible.builtin.debug": {"var": "copied"}},
                    ],
                }
            ],
            sort_keys=False,
        )
    )
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_HOME=str(tmp_path / ".ansible"),
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
    )
    result = subprocess.run(
        # the module runs on this Python (the one the tests run on), not on a discovered one
        [
            "ansible-playbook",
            "-i",
            "localhost,",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            str(playbook),
            *options,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (result.returncode != 0) == fails, result.stdout[-4000:] + result.stderr[-2000:]
    recap = result.stdout.split("PLAY RECAP", 1)[1]
    return result.stdout, "changed=1" in recap


def test_a_tree_over_the_inline_limit_is_copied_then_left_alone(tmp_path):
    src = tmp_path / "src"
    (src / "lib").mkdir(parents=True)
    (src / "app.py").write_text("print('hi')\n")
    os.chmod(src / "app.py", 0o755)  # noqa: S103 - an executable of the application
    big = os.urandom(INLINE_FILE + 4096)
    (src / "lib" / "big.bin").write_bytes(big)
    medium = [os.urandom(INLINE_FILE - 1024 * part) for part in range(1, 5)]
    for index, data in enumerate(medium):
        (src / "lib" / f"part{index}.bin").write_bytes(data)
    assert sum(p.stat().st_size for p in src.rglob("*") if p.is_file()) > INLINE_TOTAL
    dest = tmp_path / "dest"

    _out, changed = play(tmp_path)
    assert changed
    assert (dest / "lib" / "big.bin").read_bytes() == big
    assert [(dest / "lib" / f"part{i}.bin").read_bytes() for i in range(4)] == medium
    assert os.stat(dest / "app.py").st_mode & 0o777 == 0o755
    assert os.stat(dest / "lib").st_mode & 0o777 == 0o750

    _out, changed = play(tmp_path)
    assert not changed

    (dest / "lib" / "part2.bin").write_bytes(b"drifted")
    os.chmod(dest / "app.py", 0o700)
    out, changed = play(tmp_path, "--check", "--diff")
    assert changed and (dest / "lib" / "part2.bin").read_bytes() == b"drifted"
    assert "lib/part2.bin: sha256" in out and "app.py: sha256" in out
    _out, changed = play(tmp_path)
    assert changed
    assert (dest / "lib" / "part2.bin").read_bytes() == medium[2]
    assert os.stat(dest / "app.py").st_mode & 0o777 == 0o755
    # the module's content never shows: neither inline (no_log) nor in the result
    out, _changed = play(tmp_path, "-vvv")
    assert "content" not in out.split("TASK [Show the result]", 1)[1]


def test_a_small_tree_is_written_by_one_run_and_a_missing_source_is_named(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("print('hi')\n")
    out, changed = play(tmp_path)
    assert changed and (tmp_path / "dest" / "app.py").read_text() == "print('hi')\n"
    assert "wrote 1 file in" in out
    (src / "app.py").unlink()
    src.rmdir()
    out, _changed = play(tmp_path, fails=True)
    assert (
        f"src: {str(src)!r}" in out or f"src: cannot read {str(src)!r}" in out or "src: Could not find" in out
    ), out
