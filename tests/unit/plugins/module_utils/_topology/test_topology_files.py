# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing the picture: rendered only when the DOT source changed, atomically, sidecar last."""

from __future__ import annotations

import os

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._topology import files

SOURCE = "digraph topology {\n}\n"


class FakeDot:
    """Stands in for Graphviz: writes '<format> of <source>' to the -o path."""

    def __init__(self, fail=None):
        self.calls = []
        self.fail = fail

    def __call__(self, argv):
        self.calls.append(argv)
        program, fmt, _o, out, source = argv
        assert program == "/usr/bin/dot" and _o == "-o"
        if self.fail == fmt:
            return 1, "", "Error: syntax error in line 1\n"
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(f"{fmt[2:]} of {text}")
        return 0, "", ""


def move(src, dest):
    os.replace(src, dest)


def write(directory, run, source=SOURCE, formats=("svg", "png"), check_mode=False):
    return files.write(source, str(directory), "arch", list(formats), "/usr/bin/dot", run, move, check_mode)


def test_first_run_renders_every_format_and_keeps_the_source(tmp_path):
    run = FakeDot()
    directory = tmp_path / "out" / "nested"
    outcome = write(directory, run)
    assert outcome.changed is True
    assert outcome.dot_path == str(directory / "arch.dot")
    assert outcome.paths == {"svg": str(directory / "arch.svg"), "png": str(directory / "arch.png")}
    assert (directory / "arch.dot").read_text() == SOURCE
    assert (directory / "arch.svg").read_text() == "svg of " + SOURCE
    assert (directory / "arch.png").read_text() == "png of " + SOURCE
    assert [argv[1] for argv in run.calls] == ["-Tsvg", "-Tpng"]
    assert sorted(os.listdir(directory)) == ["arch.dot", "arch.png", "arch.svg"]  # no temporaries left
    assert outcome.diff["before"] == "" and outcome.diff["after"] == SOURCE


def test_same_source_renders_nothing(tmp_path):
    write(tmp_path, FakeDot())
    run = FakeDot()
    outcome = write(tmp_path, run)
    assert outcome.changed is False and run.calls == []


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_changed_source_or_a_missing_image_renders_again(tmp_path, check_mode):
    write(tmp_path, FakeDot())
    (tmp_path / "arch.png").unlink()
    run = FakeDot()
    assert write(tmp_path, run, check_mode=check_mode).changed is True
    new = "digraph topology {\n  a;\n}\n"
    outcome = write(tmp_path, run, source=new, check_mode=check_mode)
    assert outcome.changed is True
    assert outcome.diff == {
        "before_header": str(tmp_path / "arch.dot"),
        "after_header": str(tmp_path / "arch.dot"),
        "before": SOURCE,
        "after": new,
    }
    if check_mode:
        assert run.calls == [] and not (tmp_path / "arch.png").exists()
        assert (tmp_path / "arch.dot").read_text() == SOURCE
    else:
        assert (tmp_path / "arch.png").read_text() == "png of " + new


def test_check_mode_creates_no_directory(tmp_path):
    outcome = write(tmp_path / "missing", FakeDot(), check_mode=True)
    assert outcome.changed is True and not (tmp_path / "missing").exists()


def test_one_format_only(tmp_path):
    run = FakeDot()
    outcome = write(tmp_path, run, formats=["svg"])
    assert list(outcome.paths) == ["svg"] and len(run.calls) == 1
    assert not (tmp_path / "arch.png").exists()


def test_a_graphviz_failure_keeps_the_old_source_so_the_next_run_tries_again(tmp_path):
    write(tmp_path, FakeDot())
    new = "digraph topology {\n  b;\n}\n"
    with pytest.raises(files.RenderError, match=r"dot could not render PNG \(exit 1\): Error: syntax error"):
        write(tmp_path, FakeDot(fail="-Tpng"), source=new)
    assert (tmp_path / "arch.dot").read_text() == SOURCE
    assert sorted(os.listdir(tmp_path)) == ["arch.dot", "arch.png", "arch.svg"]
    assert write(tmp_path, FakeDot(), source=new).changed is True


def test_an_unusable_directory_is_named(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(files.RenderError, match="cannot create the output directory"):
        write(tmp_path / "file" / "sub", FakeDot())


def test_read_text(tmp_path):
    assert files.read_text(str(tmp_path / "none")) is None
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    assert files.read_text(str(tmp_path / "bin")) == ""
