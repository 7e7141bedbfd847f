# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure functions of the app role's plan (plugin_utils/_app_plan.py)."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _app_plan as p
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import Change

WHERE = p.paths("demo", "/srv/", "2")


def test_paths():
    assert WHERE == {
        "app_dir": "/srv/demo",
        "releases_dir": "/srv/demo/releases",
        "current": "/srv/demo/current",
        "history": "/srv/demo/history",
        "conf_dir": "/etc/demo",
        "env_file": "/etc/demo/env",
        "unit": "demo.service",
        "unit_file": "/etc/systemd/system/demo.service",
        "wants_link": "/etc/systemd/system/multi-user.target.wants/demo.service",
        "release_dir": "/srv/demo/releases/2",
        "release_env": ".groundwork-release.env",
    }


@pytest.mark.parametrize(
    ("python", "extra", "wanted", "inspected"),
    [
        (True, [], ["python3-apt", "python3-venv"], ["python3-apt", "python3-venv"]),
        (False, ["libpq5"], ["python3-apt", "libpq5"], ["python3-apt", "python3-venv", "libpq5"]),
        (
            True,
            ["python3-apt", "x"],
            ["python3-apt", "python3-venv", "x"],
            ["python3-apt", "python3-venv", "x"],
        ),
    ],
)
def test_packages(python, extra, wanted, inspected):
    assert p.packages(python, extra) == wanted
    assert p.inspected_packages(extra) == inspected


@pytest.mark.parametrize(
    ("python", "rollback", "target", "venvs", "has_requirements", "expected"),
    [
        (None, False, "2", [], True, True),
        (None, False, "2", ["2"], False, False),
        (None, True, "1", ["1"], False, True),
        (None, True, "1", ["2"], True, False),
        (True, False, "2", [], False, True),
        (False, True, "1", ["1"], True, False),
    ],
)
def test_is_python(python, rollback, target, venvs, has_requirements, expected):
    assert p.is_python(python, rollback, target, venvs, has_requirements) is expected


@pytest.mark.parametrize(
    ("command", "python", "expected"),
    [
        ("python3 app.py", True, "/srv/demo/current/.venv/bin/python3 app.py"),
        ("gunicorn  -w 2 app:app ", True, "/srv/demo/current/.venv/bin/gunicorn  -w 2 app:app"),
        ("python3 app.py", False, "python3 app.py"),
        ("bin/server --port 8000", True, "/srv/demo/current/bin/server --port 8000"),
        ("/usr/bin/node server.js", True, "/usr/bin/node server.js"),
        # no specifier, no variable: '%' and '$' reach the program as they are
        ("gunicorn --log '%(h)s' $HOME", True, "/srv/demo/current/.venv/bin/gunicorn --log '%%(h)s' $$HOME"),
    ],
)
def test_exec_line(command, python, expected):
    assert p.exec_line(command, "/srv/demo/current", python) == expected


def test_file_specs_of_a_deploy_and_of_a_rollback():
    manifest = {
        "app.py": {"state": "file", "mode": "0644", "sha256": "a" * 64},
        "static": {"state": "directory", "mode": "0755"},
        "static/site.css": {"state": "file", "mode": "0600", "sha256": "b" * 64},
    }
    specs = p.file_specs(WHERE, "demo", manifest, "2", False, "X=1\n", "[Unit]\n", ["1", "2"])
    by_path = {spec["path"]: spec for spec in specs}
    assert list(by_path) == [
        "/srv/demo",
        "/srv/demo/releases",
        "/etc/demo",
        "/srv/demo/releases/2",
        "/srv/demo/releases/2/app.py",
        "/srv/demo/releases/2/static",
        "/srv/demo/releases/2/static/site.css",
        "/srv/demo/releases/2/.groundwork-release.env",
        "/etc/demo/env",
        "/etc/systemd/system/demo.service",
        "/etc/systemd/system/multi-user.target.wants/demo.service",
        "/srv/demo/history",
    ]
    assert by_path["/srv/demo/releases/2/static"]["mode"] == "0750"
    assert by_path["/srv/demo/releases/2/static/site.css"] == {
        "path": "/srv/demo/releases/2/static/site.css",
        "sha256": "b" * 64,
        "owner": "root",
        "group": "demo",
        "mode": "0600",
    }
    assert by_path["/srv/demo/releases/2/.groundwork-release.env"]["content"] == 'APP_VERSION="2"\n'
    assert by_path["/etc/demo/env"]["mode"] == "0600"
    assert by_path["/srv/demo/history"]["content"] == "1\n2\n"
    rollback = p.file_specs(WHERE, "demo", {}, "2", True, "X=1\n", "[Unit]\n", ["2", "1"])
    assert [spec["path"] for spec in rollback] == [
        "/srv/demo",
        "/srv/demo/releases",
        "/etc/demo",
        "/etc/demo/env",
        "/etc/systemd/system/demo.service",
        "/etc/systemd/system/multi-user.target.wants/demo.service",
        "/srv/demo/history",
    ]


def test_inspected_files():
    marker = p.venv_marker("abc")
    assert p.inspected_files(WHERE, {"app.py": {}}, False, marker) == [
        "/srv/demo",
        "/srv/demo/releases",
        "/etc/demo",
        "/srv/demo/current",
        "/etc/demo/env",
        "/etc/systemd/system/demo.service",
        "/etc/systemd/system/multi-user.target.wants/demo.service",
        "/srv/demo/history",
        "/srv/demo/releases/2",
        "/srv/demo/releases/2/.groundwork-release.env",
        "/srv/demo/releases/2/.venv/.groundwork-ready-abc",
        "/srv/demo/releases/2/app.py",
    ]
    assert len(p.inspected_files(WHERE, {"app.py": {}}, True, marker)) == 8


GOOD_USER = {
    "group": "demo",
    "shell": "/usr/sbin/nologin",
    "home": "/srv/demo",
    "comment": "demo application",
}


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ({"user": GOOD_USER, "group": True}, []),
        (
            {"user": None, "group": False},
            ["account group demo: does not exist", "account user demo: does not exist"],
        ),
        ({"user": {**GOOD_USER, "shell": "/bin/bash"}, "group": True}, ["account user demo: shell differs"]),
        (
            {"user": {**GOOD_USER, "home": "/home/demo", "comment": ""}, "group": True},
            ["account user demo: home, comment differs"],
        ),
    ],
)
def test_account_changes(found, expected):
    changes = p.account_changes("demo", "demo", "/srv/demo", "demo application", found)
    assert [str(change) for change in changes] == expected


@pytest.mark.parametrize(
    ("target", "current", "expected"),
    [
        ("2", "2", []),
        ("2", None, ["release 2: switch current to it (no release is live)"]),
        ("1", "2", ['release 1: switch current to it (release "2" is live)']),
    ],
)
def test_release_change(target, current, expected):
    assert [str(change) for change in p.release_change(target, current)] == expected


def test_prune_changes():
    assert [str(c) for c in p.prune_changes("/srv/demo/releases", ["0", "x"])] == [
        "prune /srv/demo/releases/0: beyond app_releases_kept",
        "prune /srv/demo/releases/x: beyond app_releases_kept",
    ]


RUNNING = {"active": "active", "enabled": "enabled"}


@pytest.mark.parametrize(
    ("changes", "target", "current", "unit_state", "expected"),
    [
        # nothing the service runs changed
        ([], "2", "2", RUNNING, False),
        (
            [Change("prune", "/srv/demo/releases/0", "r"), Change("file", "/srv/demo/history", "r")],
            "2",
            "2",
            RUNNING,
            False,
        ),
        ([Change("account", "user demo", "r")], "2", "2", RUNNING, False),
        # stopped
        ([], "2", "2", {"active": "inactive", "enabled": "enabled"}, True),
        # another release
        ([Change("release", "2", "r")], "2", "1", RUNNING, True),
        # the live release's files, the environment, the unit
        ([Change("file", "/srv/demo/releases/2/app.py", "r")], "2", "2", RUNNING, True),
        ([Change("virtualenv", "/srv/demo/releases/2", "r")], "2", "2", RUNNING, True),
        ([Change("file", "/etc/demo/env", "r")], "2", "2", RUNNING, True),
        ([Change("file", "/etc/systemd/system/demo.service", "r")], "2", "2", RUNNING, True),
        # a rollback target is not the version whose release files are compared
        ([Change("file", "/srv/demo/releases/2/app.py", "r")], "1", "1", RUNNING, False),
    ],
)
def test_restart(changes, target, current, unit_state, expected):
    assert p.restart(changes, WHERE, target, "2", current, unit_state) is expected


@pytest.mark.parametrize(
    ("target", "current", "running", "changed", "previous", "headline"),
    [
        # another release: the live one comes back
        ("2", "1", True, [], "1", 'Release "2" of demo is unhealthy'),
        # the live release with a new unit: it comes back with the unit it ran with
        (
            "2",
            "2",
            True,
            ["unit"],
            "2",
            'The new configuration of demo on release "2" is unhealthy; this run changed the unit (from',
        ),
        # a first deployment, and a stopped service: nothing runs again
        ("2", None, False, ["unit", "env"], None, 'Release "2" of demo is unhealthy; this run changed the'),
        ("2", "1", False, [], None, 'Release "2" of demo is unhealthy'),
    ],
)
def test_restore_messages(target, current, running, changed, previous, headline):
    messages = p.restore_messages("demo", "demo.service", target, current, running, changed)
    assert messages["previous"] == previous
    assert messages["headline"].startswith(headline)
    for key in changed:
        assert p.CONFIG_SOURCES[key] in messages["headline"]
    if "env" in changed:
        assert "the environment file (from app_environment, app_secret_environment" in messages["headline"]
    same = "with the configuration it ran with" if changed else "as before"
    if previous:
        assert messages["restored"] == (
            f'Restored: current points to release "{previous}" again, {same}, and it passed its health check.'
        )
    assert messages["stopped"].startswith("demo.service was not running before: it is stopped again")
    assert messages["unchanged"].endswith("nothing to return to: demo.service is stopped.")


def test_config_changed_names_the_unit_and_the_environment_file_only():
    found = [
        Change("file", WHERE["unit_file"], "content differs"),
        Change("file", WHERE["release_dir"] + "/app.py", "content differs"),
        Change("release", "3", "switch"),
    ]
    assert p.config_changed(found, WHERE) == ["unit"]
    assert p.config_changed([*found, Change("file", WHERE["env_file"], "mode")], WHERE) == ["unit", "env"]
    assert p.config_changed(found[1:], WHERE) == []
