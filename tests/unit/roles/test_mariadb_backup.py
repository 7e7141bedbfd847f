# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""roles/mariadb/files/backup.sh and restore.sh without a server: the arguments they refuse,
and restore.sh's own functions (sourced by bash): the manifest comparison, SQL quoting and
the choice of the newest archive. The backup, verification and restores themselves need a
MariaDB server and run in the role's containers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[3] / "roles" / "mariadb" / "files"
BACKUP = FILES / "backup.sh"
RESTORE = FILES / "restore.sh"
BASH = shutil.which("bash") or "/bin/bash"


def run(program, *args):
    return subprocess.run([BASH, str(program), *args], capture_output=True, text=True, check=False)


def sourced(script, *args):
    """Run a bash snippet with restore.sh's functions defined; $1... are ARGS."""
    return subprocess.run(
        [BASH, "-c", f'source "{RESTORE}"\n{script}', "test", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        ((), 2, "usage: groundwork-mariadb-backup DIR KEEP [DATABASE...]"),
        (("/tmp/x",), 2, "usage:"),
        (("/tmp/x", "0"), 1, "KEEP must be the number of archives to keep (1 or more), not '0'"),
        (("/tmp/x", "two"), 1, "not 'two'"),
        (("/tmp/x", "3", "shop", "a b"), 1, "'a b' is not a database name this program accepts"),
        (("/tmp/x", "3", "-x"), 1, "'-x' is not a database name"),
        (("/tmp/x", "3", "db.table"), 1, "'db.table' is not a database name"),
        (("/tmp/x", "3", "o'brien"), 1, "is not a database name"),
        (("/tmp/x", "3", "sys"), 1, "sys is not a database to back up"),
        (("/tmp/x", "3", "performance_schema"), 1, "performance_schema is not a database to back up"),
    ],
)
def test_backup_refuses(args, status, message):
    result = run(BACKUP, *args)
    assert result.returncode == status
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [(), ("--help",), ("restore",), ("--dir",), ("--dir", "/tmp"), ("--bogus", "verify")],
)
def test_restore_usage(args):
    result = run(RESTORE, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: groundwork-mariadb-restore [--dir DIR] verify [ARCHIVE]")


def compare(tmp_path, want, got, place="the restored copy", label="restored"):
    (tmp_path / "want").write_text("".join(f"{line}\n" for line in want))
    (tmp_path / "got").write_text("".join(f"{line}\n" for line in got))
    files = (str(tmp_path / "want"), str(tmp_path / "got"))
    result = sourced('compare "$1" "$2" "$3" "$4"', *files, place, label)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


MANIFEST = ["other.t 2088475670", "shop.audit 1216635833", "shop.odd name 2865344526"]


def test_compare_same(tmp_path):
    assert compare(tmp_path, MANIFEST, MANIFEST) == []


def test_compare_empty(tmp_path):
    assert compare(tmp_path, [], []) == []


def test_compare_every_difference(tmp_path):
    got = ["shop.audit 1", "shop.odd name 2865344526", "shop.new 5", "shop.broken NULL"]
    assert compare(tmp_path, [*MANIFEST, "shop.broken 7"], got) == [
        "other.t: in the backup, missing from the restored copy",
        "shop.audit: checksum 1216635833 in the backup, 1 restored",
        "shop.broken: checksum 7 in the backup, NULL restored",
        "shop.new: in the restored copy, not in the backup's manifest",
    ]


def test_compare_names_with_spaces(tmp_path):
    assert compare(tmp_path, ["shop.odd name 1"], ["shop.odd name 2"]) == [
        "shop.odd name: checksum 1 in the backup, 2 restored"
    ]


def test_compare_live_wording(tmp_path):
    lines = compare(tmp_path, ["shop.t 1"], ["shop.t NULL"], "the live server", "in the live server")
    assert lines == ["shop.t: checksum 1 in the backup, NULL in the live server"]


def test_compare_manifest_lines_without_checksum(tmp_path):
    assert compare(tmp_path, ["garbage"], ["shop.t 1"]) == [
        "garbage: in the backup, missing from the restored copy",
        "shop.t: in the restored copy, not in the backup's manifest",
    ]


@pytest.mark.parametrize(
    ("value", "literal"),
    [("shop", "'shop'"), ("o'brien", "'o\\'brien'"), ("back\\slash", "'back\\\\slash'")],
)
def test_sql_str(value, literal):
    assert sourced('sql_str "$1"', value).stdout == literal


@pytest.mark.parametrize(
    ("value", "identifier"),
    [("shop", "`shop`"), ("odd name", "`odd name`"), ("we`ird", "`we``ird`")],
)
def test_sql_id(value, identifier):
    assert sourced('sql_id "$1"', value).stdout == identifier


def test_newest_archive(tmp_path):
    names = [
        "mariadb-20250101T000000Z.tar.gz",
        "mariadb-20250301T120000Z.tar.gz",
        "mariadb-20250201T000000Z.tar.zst",
        "mariadb-20250401T000000Z.tar.gz.failed",
        ".mariadb-20250501T000000Z.tar.gz.partial",
        "mariadb-latest.tar.gz",
        "notes.txt",
    ]
    for name in names:
        (tmp_path / name).write_text("")
    result = sourced('dir="$1"; pick_archive; echo "$archive"', str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "mariadb-20250301T120000Z.tar.gz")


def test_named_archive(tmp_path):
    (tmp_path / "copy.tar.gz").write_text("")
    result = sourced('cd "$1"; pick_archive copy.tar.gz; echo "$archive"', str(tmp_path))
    assert result.stdout.strip() == str(tmp_path / "copy.tar.gz")


def test_no_archive(tmp_path):
    (tmp_path / "mariadb-20250401T000000Z.tar.gz.failed").write_text("")
    result = sourced('dir="$1"; pick_archive', str(tmp_path))
    assert result.returncode == 1
    assert f"groundwork-mariadb-restore: no archive mariadb-*.tar.gz in {tmp_path}" in result.stderr
    missing = sourced("pick_archive /nonexistent.tar.gz")
    assert missing.returncode == 1
    assert "no archive /nonexistent.tar.gz" in missing.stderr
