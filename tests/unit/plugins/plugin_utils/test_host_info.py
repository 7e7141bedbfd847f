# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""host_info's command and probe: built on the controller, run here as the host would."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _host_probe as probe
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import (
    build_command,
    pack,
    parse_answer,
)

PROBE = Path(probe.__file__).read_text(encoding="utf-8")


def run_on_host(args):
    """The command exactly as the action plugin sends it, run by a shell here."""
    command = build_command(sys.executable, PROBE, args)
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False)
    return parse_answer(done.returncode, done.stdout, done.stderr)


def test_file_states_of_every_kind(tmp_path):
    regular = tmp_path / "regular"
    regular.write_text("hello\n")
    regular.chmod(0o640)
    (tmp_path / "link").symlink_to("regular")
    (tmp_path / "dir").mkdir()
    answer, error = run_on_host(
        {"files": [str(regular), str(tmp_path / "link"), str(tmp_path / "dir"), str(tmp_path / "none")]}
    )
    assert error is None
    files = answer["files"]
    assert files[str(regular)] == {
        "state": "file",
        "sha256": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
        "size": 6,
        "owner": probe._name(__import__("pwd").getpwuid, os.getuid()),
        "uid": os.getuid(),
        "group": probe._name(__import__("grp").getgrgid, os.getgid()),
        "gid": os.getgid(),
        "mode": "0640",
    }
    assert files[str(tmp_path / "link")] == {"state": "link", "target": "regular"}
    directory = files[str(tmp_path / "dir")]
    assert directory["state"] == "directory" and directory["uid"] == os.getuid()
    assert directory["mode"] == f"{(tmp_path / 'dir').stat().st_mode & 0o7777:04o}"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert run_on_host({"files": [str(fifo)]})[0]["files"][str(fifo)] == {"state": "other"}
    assert files[str(tmp_path / "none")] == {"state": "absent"}
    assert answer["info"] is None


def test_directory_entries_with_their_kinds(tmp_path):
    (tmp_path / "a.conf").write_text("")
    (tmp_path / "b").symlink_to("a.conf")
    (tmp_path / "sub").mkdir()
    answer, error = run_on_host({"dirs": [str(tmp_path), str(tmp_path / "missing")]})
    assert error is None
    assert answer["dirs"] == {
        str(tmp_path): {"a.conf": "file", "b": "link", "sub": "dir"},
        str(tmp_path / "missing"): {},
    }


@pytest.mark.parametrize(
    "argv",
    [[], ["plain"], ["with space", "it's", "$HOME", "`id`", '"quoted"', "ünïcode", "line\nbreak"]],
)
def test_the_program_gets_its_arguments_untouched(argv):
    program = "import json, sys\nprint(json.dumps({'argv': sys.argv[1:], 'name': __name__}))\n"
    answer, error = run_on_host({"program": program, "argv": argv})
    assert error is None
    assert answer["info"] == {"argv": argv, "name": "__main__"}


@pytest.mark.parametrize(
    ("program", "expected"),
    [
        ("import sys\nsys.exit('no way')", "the inspection exited with 'no way'"),
        ("raise ValueError('bad input')", "ValueError: bad input"),
        ("print('not json')", "the inspection printed no JSON document"),
        ("def broken(:\n", "SyntaxError"),
    ],
)
def test_a_failing_program_fails_with_its_reason(program, expected):
    answer, error = run_on_host({"program": program})
    assert answer is None
    assert "exit code 3" in error
    assert expected in error


def test_a_program_exiting_zero_still_answers():
    answer, error = run_on_host({"program": "import json, sys\nprint(json.dumps([1]))\nsys.exit(0)"})
    assert error is None
    assert answer["info"] == [1]


def test_the_command_needs_no_quoting_beyond_the_words():
    command = build_command("/usr/bin/python3", "print('$x')", {"program": 'print("`id`")'})
    words = shlex.split(command)
    assert words[0] == "/usr/bin/python3"
    assert words[1] == "-c"
    # probe and request: base64 only
    assert all(
        set(word) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        for word in words[3:]
    )
    assert pack("x") != pack("y")


@pytest.mark.parametrize(
    ("rc", "stdout", "stderr", "message"),
    [
        (1, "", "sudo: a password is required", "exit code 1): sudo: a password is required"),
        (127, "", "", "exit code 127): no output"),
        (0, "", "", "printed no JSON answer"),
        (0, "[1, 2]", "", "unexpected answer"),
        (0, '{"files": {}, "dirs": {}}', "", "unexpected answer"),
    ],
)
def test_bad_answers(rc, stdout, stderr, message):
    answer, error = parse_answer(rc, stdout, stderr)
    assert answer is None
    assert message in error


def test_a_banner_before_the_answer_is_ignored():
    answer, error = parse_answer(0, 'Welcome!\n{"os": {}, "files": {}, "dirs": {}}\n', "")
    assert error is None
    assert answer == {
        "os": {},
        "files": {},
        "dirs": {},
        "info": None,
        "packages": {},
        "units": {},
        "probes": {},
    }


def test_the_release_of_this_machine():
    answer, error = run_on_host({})
    assert error is None
    release = answer["os"]
    assert set(release) == {"id", "name", "version_id", "codename", "version", "container"}
    fields = dict(
        line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
    )
    assert release["id"] == fields["ID"].strip('"')
    assert release["codename"] == fields.get("VERSION_CODENAME", "").strip('"')


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"run/systemd/container": "lxc\n"}, "lxc"),
        ({".dockerenv": ""}, "docker"),
        ({"run/.containerenv": ""}, "podman"),
        ({}, "none"),
    ],
)
def test_container_detection(tmp_path, monkeypatch, files, expected):
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    real_exists, real_isdir, real_read = probe.os.path.exists, probe.os.path.isdir, probe.read
    monkeypatch.setattr(probe.os.path, "exists", lambda p: real_exists(str(tmp_path) + p))
    monkeypatch.setattr(probe.os.path, "isdir", lambda p: real_isdir(str(tmp_path) + p))
    monkeypatch.setattr(probe, "read", lambda p, strip=False: real_read(str(tmp_path) + p, strip))
    assert probe.container() == expected


def test_os_release_fields(tmp_path, monkeypatch):
    texts = {
        "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\n'
        'VERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n',
        "/etc/debian_version": "13.2\n",
    }
    monkeypatch.setattr(probe, "read", lambda p, strip=False: texts.get(p, "").strip() or None)
    monkeypatch.setattr(probe, "container", lambda: "none")
    assert probe.os_release() == {
        "id": "debian",
        "name": "Debian GNU/Linux",
        "version_id": "13",
        "codename": "trixie",
        "version": "13.2",
        "container": "none",
    }
    texts["/etc/debian_version"] = "trixie/sid\n"
    texts["/etc/os-release"] = texts["/etc/os-release"].replace('VERSION_ID="13"\n', "")
    assert probe.os_release()["version"] == "trixie/sid"


def test_the_answer_is_one_line_of_json(tmp_path):
    request = pack(json.dumps({"files": [str(tmp_path)]}))
    done = subprocess.run(
        [sys.executable, str(Path(probe.__file__)), "unused", request],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(done.stdout.splitlines()) == 1
    assert json.loads(done.stdout)["files"][str(tmp_path)]["state"] == "directory"
