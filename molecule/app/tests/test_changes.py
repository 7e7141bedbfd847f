# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changed input: refused before anything changes; new releases, a broken one, rollback.

The tests of this module run in order and build on each other's state.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest
from conftest import SCENARIO, answer, current, get, run_playbook, snapshot, variables

testinfra_hosts = ["ansible://app-server"]
BROKEN = str(SCENARIO / "files" / "broken_app")
DEMO = str((SCENARIO / ".." / ".." / "playbooks" / "files" / "demo_app").resolve())


def recap(output, host="app-server"):
    match = re.search(rf"^{host}\s*:\s*ok=(\d+)\s+changed=(\d+)", output, re.MULTILINE)
    assert match, output
    return int(match.group(2))


CASES = {
    "port below 1024": (variables(app_port=80), "app_port: 80 is not a port from 1024 to 65535"),
    "health path without /": (
        variables(app_health_path="healthz"),
        "app_health_path: 'healthz' is not a URL path starting with '/'",
    ),
    "version unsafe as a directory": (variables(app_version="../2"), "app_version: '../2' is not valid"),
    "environment variable name": (
        variables(app_environment={"BAD-NAME": "x"}),
        "app_environment.BAD-NAME: 'BAD-NAME' is not a valid variable name",
    ),
    "missing source": (
        variables(app_source="/nonexistent/app"),
        "app_source: '/nonexistent/app' does not exist on the controller",
    ),
    "rollback without a previous release": (
        variables(app_rollback=True),
        "app_rollback: there is no release before '1' to return to",
    ),
    "typo in a variable of the database (argument spec)": (
        variables(app_database={"host": "app-db", "name": "demo", "user": "demo", "pasword": "x"}),
        "pasword",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_early_and_changes_nothing(host, tmp_path, case):
    given, expected = CASES[case]
    before = snapshot(host)
    rc, output = run_playbook(given, tmp_path)
    assert rc != 0, output
    assert expected in " ".join(output.split()), output
    assert recap(output) == 0
    assert snapshot(host) == before


def test_secrets_never_appear_in_the_output(tmp_path):
    rc, output = run_playbook(
        variables(app_environment={"DEMO_GREETING": "changed"}), tmp_path, "--diff", "-v"
    )
    assert rc == 0, output
    assert "not-in-any-log-7c1e" not in output
    assert "w:rd" not in output and "w%3Ard" not in output


def test_new_version_switches_current(host, db, tmp_path):
    before = answer(host)
    rc, output = run_playbook(variables(app_version="2", app_source=DEMO), tmp_path, "--diff")
    assert rc == 0, output
    assert current(host) == "releases/2"
    name, version, count = answer(host)
    assert (name, version) == ("app-server", "2")
    assert count > before[2]
    # drained on the balancer before the restart, back afterwards
    tasks = {chunk.split("]", 1)[0]: chunk for chunk in " ".join(output.split()).split("TASK [")}
    for task in ("Take this server out of the balancers", "Put this server back into the balancers"):
        assert "changed: [app-server -> app-db]" in tasks[f"groundwork.server.app : {task}"], output
    assert " down" not in db.file("/etc/nginx/conf.d/demo.conf").content_string


def test_a_run_without_changes_touches_nothing(host, tmp_path):
    before = snapshot(host)
    rc, output = run_playbook(variables(app_version="2"), tmp_path)
    assert rc == 0, output
    assert recap(output) == 0
    # decided from one inspection: none of the changing tasks ran, no balancer was touched
    assert "Take this server out of the balancers" not in output
    assert "changed: [app-server -> app-db]" not in output
    assert snapshot(host) == before


def test_broken_release_fails_and_the_previous_keeps_answering(host, tmp_path):
    env = host.file("/etc/demo/env").sha256sum
    # with a new environment: the previous release comes back with the environment it ran with
    rc, output = run_playbook(
        variables(app_version="3", app_source=BROKEN, app_environment={"DEMO_GREETING": "other"}), tmp_path
    )
    assert rc != 0, output
    flat = " ".join(output.split())
    assert 'Release "3" of demo is unhealthy; this run changed the environment file' in flat, output
    assert 'Restored: current points to release "2" again, with the configuration it ran with' in flat, output
    assert current(host) == "releases/2"
    assert answer(host)[1] == "2"
    assert get(host, "http://127.0.0.1:8000/healthz") == (200, "ok")
    assert host.file("/etc/demo/env").sha256sum == env
    assert "not-in-any-log-7c1e" not in output


def test_a_broken_command_on_the_live_release_brings_back_its_unit(host, tmp_path):
    before = snapshot(host)["files"]
    rc, output = run_playbook(variables(app_version="2", app_command="python3 missing.py"), tmp_path)
    assert rc != 0, output
    flat = " ".join(output.split())
    headline = 'The new configuration of demo on release "2" is unhealthy; this run changed the unit'
    assert headline in flat, output
    assert "app_command" in flat, output
    assert 'Restored: current points to release "2" again, with the configuration it ran with' in flat, output
    # the unit on disk and the one systemd runs are the previous ones, and it answers
    assert snapshot(host)["files"] == before
    assert "missing.py" not in host.check_output("systemctl show --property ExecStart --value demo.service")
    assert host.service("demo.service").is_running
    assert get(host, "http://127.0.0.1:8000/healthz") == (200, "ok")
    # the next run restarts nothing; its one change is the prune of the broken release 3 the
    # failed run before this one left (that run stopped before its prune)
    pid = snapshot(host)["pid"]
    rc, output = run_playbook(variables(app_version="2"), tmp_path)
    assert rc == 0, output
    assert recap(output) == 1 and "changed: [app-server] => (item=3)" in output, output
    assert snapshot(host)["pid"] == pid


def test_rollback_returns_to_the_previous_release(host, tmp_path):
    rc, output = run_playbook(variables(app_version="2", app_rollback=True), tmp_path)
    assert rc == 0, output
    assert current(host) == "releases/1"
    assert answer(host)[1] == "1"
    # repeated: stays there
    rc, output = run_playbook(variables(app_version="2", app_rollback=True), tmp_path)
    assert rc == 0, output
    assert recap(output) == 0


def test_only_the_kept_releases_remain(host):
    # app_releases_kept: 2 - the live one and the one live before it; the broken one went
    releases = sorted(Path(p).name for p in host.file("/srv/demo/releases").listdir())
    assert releases == ["1", "2"]


def test_archive_source(host, tmp_path):
    archive = tmp_path / "demo-4.tar.gz"

    with tarfile.open(archive, "w:gz") as tar:
        tar.add(DEMO, arcname="demo-4", filter=lambda info: None if "__pycache__" in info.name else info)
    rc, output = run_playbook(variables(app_version="4", app_source=str(archive)), tmp_path)
    assert rc == 0, output
    assert current(host) == "releases/4"
    assert answer(host)[1] == "4"
    assert host.file("/srv/demo/releases/4/app.py").exists
    releases = sorted(Path(p).name for p in host.file("/srv/demo/releases").listdir())
    assert releases == ["1", "4"]
