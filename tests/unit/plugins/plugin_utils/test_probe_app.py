# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The app role's probe (plugin_utils/_probes/app.py), run as groundwork.server.role_plan
runs it: inside the shared probe library, on this machine."""

from __future__ import annotations

import getpass
import grp
import os
import pwd

from ansible_collections.groundwork.server.tests.unit.probe_runner import run_role_probe


def inspect(args):
    return run_role_probe("app", args)


def test_the_app_inspection_of_a_host_without_the_app(tmp_path):
    args = {"app_dir": str(tmp_path / "srv" / "demo"), "user": "nobody-x", "group": "nogroup-x"}
    info = inspect(args)
    assert info == {
        "current": None,
        "releases": [],
        "history": [],
        "venvs": [],
        "account": {"user": None, "group": False},
        "stale": [],
    }


def test_the_app_inspection_names_what_changed_after_the_service_started(tmp_path):
    # A unit that does not run (here: none at all) started nothing: no path is stale.
    watched = tmp_path / "env"
    watched.write_text("A=1\n")
    args = {"app_dir": str(tmp_path), "user": "nobody-x", "group": "nogroup-x"}
    info = inspect({**args, "unit": "groundwork-no-such-unit.service", "watched": [str(watched)]})
    assert info["stale"] == []


def test_the_app_inspection_reads_releases_current_history_and_account(tmp_path):
    app = tmp_path / "demo"
    for name in ("1", "2", "3"):
        (app / "releases" / name).mkdir(parents=True)
    (app / "releases" / "2" / ".venv").mkdir()
    (app / "releases" / "stray-file").write_text("not a release\n")
    os.symlink("releases/2/", app / "current")
    (app / "history").write_text("1\n\n2\n")
    me = getpass.getuser()
    entry = pwd.getpwnam(me)
    group = grp.getgrgid(entry.pw_gid).gr_name
    info = inspect({"app_dir": str(app), "user": me, "group": group})
    assert info["current"] == "2"
    assert info["releases"] == ["1", "2", "3"]
    assert info["history"] == ["1", "2"]
    assert info["venvs"] == ["2"]
    assert info["account"] == {
        "user": {"group": group, "shell": entry.pw_shell, "home": entry.pw_dir, "comment": entry.pw_gecos},
        "group": True,
    }
