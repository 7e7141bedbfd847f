# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The app role's decision (plugin_utils/_app_role.py): validate, request and plan, with a
stand-in for the action's context (the unit template is not rendered here)."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import digest
from ansible_collections.groundwork.server.plugins.plugin_utils import _app_role

DEBIAN = {"id": "debian", "name": "Debian GNU/Linux", "version_id": "12", "version": "12.8"}
UNIT = "[Unit]\nDescription=demo\n"


class Context:
    def __init__(self, check_mode=False):
        self.host = "app1"
        self.groups = {"all": ["app1", "lb1", "db", "db1"], "loadbalancers": ["lb1"]}
        self.hostvars = {}
        self.check_mode = check_mode
        self.rendered = []

    def render(self, template, **extra):
        self.rendered.append((template, extra))
        return UNIT + f"ExecStart={extra['plan']['exec']}\n"


@pytest.fixture
def source(tmp_path):
    app = tmp_path / "play" / "files" / "demo_app"
    app.mkdir(parents=True)
    (app / "app.py").write_text("print('hello')\n")
    (app / "requirements.txt").write_text("# nothing\n\n")
    return app


def inputs(**changes):
    values = {
        "playbook_dir": None,
        "app_name": "demo",
        "app_version": 1,
        "app_source": "files/demo_app",
        "app_command": "python3 app.py",
        "app_port": 8000,
        "app_user": "demo",
        "app_group": "demo",
        "app_base_dir": "/srv",
        "app_environment": {"GREETING": "hi"},
        "app_secret_environment": {},
        "app_database": {},
        "app_health_path": "/healthz",
        "app_health_retries": 5,
        "app_health_first_retries": 20,
        "app_releases_kept": 2,
        "app_rollback": False,
        "app_writable_paths": [],
        "app_balancers": ["lb1"],
        "app_balancer_server": "10.0.0.5:8000",
        "app_python": None,
        "app_requirements_file": "requirements.txt",
        "app_system_site_packages": False,
        "app_packages": [],
    }
    values.update(changes)
    return values


def validated(source, tmp_path, **changes):
    given = inputs(playbook_dir=str(source.parents[1]), **changes)
    model, problems = _app_role.validate(given, Context(), cache=str(tmp_path / "cache"))
    assert problems == []
    return model


def host(current=None, releases=(), history=(), venvs=(), account=None):
    return {
        "current": current,
        "releases": list(releases),
        "history": list(history),
        "venvs": list(venvs),
        "account": account if account is not None else {"user": None, "group": False},
    }


ACCOUNT = {
    "user": {
        "group": "demo",
        "shell": "/usr/sbin/nologin",
        "home": "/srv/demo",
        "comment": "demo application",
    },
    "group": True,
}


def observed(spec):
    """The file state a host has when the file is as the spec wants it."""
    if spec.get("state") == "link":
        return {"state": "link", "target": spec["src"]}
    attributes = {"owner": spec["owner"], "group": spec["group"], "mode": spec["mode"]}
    if spec.get("state") == "directory":
        return {"state": "directory", **attributes}
    wanted = spec.get("sha256") or digest(spec["content"])
    return {"state": "file", "sha256": wanted, **attributes}


def inspection(model, probe, files=None, packages="installed", active="active"):
    asked = _app_role.request(model, Context())
    return {
        "os": DEBIAN,
        "files": {path: (files or {}).get(path, {"state": "absent"}) for path in asked["files"]},
        "dirs": {},
        "packages": dict.fromkeys(asked["packages"], packages),
        "units": {"demo.service": {"active": active, "enabled": "enabled"}},
        "probe": probe,
    }


def converged(model, version="1"):
    """The inspection of a host where the first plan was applied."""
    first = _app_role.plan(model, inspection(model, host()), Context())
    files = {
        spec["path"]: observed(spec)
        for spec in _app_role._app_plan.file_specs(
            _app_role.where(model),
            model["group"],
            model["manifest"],
            model["version"],
            model["rollback"],
            model["env_content"],
            first.data["unit_content"],
            [version],
        )
    }
    files[f"{first.data['release_dir']}/.venv/{first.data['venv_marker']}"] = {"state": "file"}
    files["/srv/demo/current"] = {"state": "link", "target": f"releases/{version}"}
    return first, files


def drifted(files, drift):
    """Apply ``drift`` ({path: state, or "mode" for a file whose mode changed to 0644}) to a
    converged host's files; a path ending in "-" names the virtualenv's marker."""
    for path, state in drift.items():
        if path.endswith("-"):
            path = next(p for p in files if ".groundwork-ready-" in p)
        files[path] = {**files[path], "mode": "0644"} if state == "mode" else state


# --- validate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"app_port": 80}, "app_port: 80 is not a port from 1024 to 65535"),
        ({"app_version": "../2"}, "app_version: '../2' is not valid"),
        (
            {"app_source": "/nonexistent/app"},
            "app_source: '/nonexistent/app' does not exist on the controller",
        ),
        ({"app_balancers": ["lb9"]}, "app_balancers[0]: 'lb9' is not a host of the inventory"),
        (
            {"app_database": {"host": "db", "name": "demo", "user": "demo", "password": "se\ncret"}},
            "app_database.password: (not shown) is not a single-line string",
        ),
        (
            {
                "app_database": {
                    "engine": "mysql",
                    "host": "db",
                    "name": "demo",
                    "user": "demo",
                    "password": "cret",
                }
            },
            "app_database.engine: 'mysql' is not one of postgresql, mariadb",
        ),
    ],
)
def test_bad_input_is_refused(source, tmp_path, changes, expected):
    given = inputs(playbook_dir=str(source.parents[1]), **changes)
    model, problems = _app_role.validate(given, Context(), cache=str(tmp_path / "cache"))
    assert model is None
    assert any(problem.startswith(expected) for problem in problems), problems
    assert "cret" not in " ".join(problems)


def test_a_mariadb_database_is_a_secret_mariadb_url(source, tmp_path):
    database = {"engine": "mariadb", "host": "db1", "name": "demo", "user": "demo", "password": "s3cret"}
    model = validated(source, tmp_path, app_database=database)
    assert model["secret"] is True
    assert (
        'DATABASE_URL="mariadb://demo:s3cret@db1:3306/demo'
        '?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt"\n'
    ) in model["env_content"]


def test_the_model_reads_the_source(source, tmp_path):
    model = validated(source, tmp_path)
    assert model["version"] == "1"
    assert model["source_dir"] == str(source)
    assert sorted(model["manifest"]) == ["app.py", "requirements.txt"]
    assert model["has_requirements"] is True
    assert model["requirements_sum"] == hashlib.sha1(b"# nothing").hexdigest()[:16]  # noqa: S324
    assert model["secret"] is False
    assert model["env_content"] == 'APP_PORT="8000"\nGREETING="hi"\n'


def test_an_archive_is_unpacked_once_into_the_cache(source, tmp_path):
    archive = tmp_path / "demo-2.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname="demo-2")
    model = validated(source, tmp_path, app_source=str(archive))
    cache = tmp_path / "cache"
    (unpacked,) = os.listdir(cache)
    assert model["source_dir"] == str(cache / unpacked / "demo-2")
    assert sorted(model["manifest"]) == ["app.py", "requirements.txt"]
    assert validated(source, tmp_path, app_source=str(archive))["source_dir"] == model["source_dir"]
    assert os.listdir(cache) == [unpacked]


def test_an_archive_without_a_single_top_directory_is_the_application(source, tmp_path):
    archive = tmp_path / "flat.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "app.py", arcname="app.py")
        tar.add(source / "requirements.txt", arcname="requirements.txt")
    model = validated(source, tmp_path, app_source=str(archive))
    assert os.path.dirname(model["source_dir"]) == str(tmp_path / "cache")
    assert sorted(model["manifest"]) == ["app.py", "requirements.txt"]


def test_a_broken_archive_is_refused(source, tmp_path):
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(b"not gzip")
    given = inputs(playbook_dir=str(source.parents[1]), app_source=str(archive))
    _model, problems = _app_role.validate(given, Context(), cache=str(tmp_path / "cache"))
    assert len(problems) == 1 and problems[0].startswith(f"app_source: {str(archive)!r} cannot be read")


def test_an_archive_leaving_its_directory_is_refused(source, tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"x\n"
        info = tarfile.TarInfo("../outside.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    given = inputs(playbook_dir=str(source.parents[1]), app_source=str(archive))
    _model, problems = _app_role.validate(given, Context(), cache=str(tmp_path / "cache"))
    assert len(problems) == 1 and "cannot be read" in problems[0]
    assert not (tmp_path / "outside.txt").exists()


def test_secrets_make_the_plan_secret(source, tmp_path):
    model = validated(source, tmp_path, app_secret_environment={"TOKEN": "t0k"})
    assert model["secret"] is True
    plan = _app_role.plan(model, inspection(model, host()), Context())
    assert plan.secret is True
    assert "t0k" not in " ".join(plan.result()["summary"])


# --- request -------------------------------------------------------------------------


def test_the_request_names_the_release_files_and_the_probe(source, tmp_path):
    model = validated(source, tmp_path)
    asked = _app_role.request(model, Context())
    assert asked["units"] == ["demo.service"]
    assert asked["packages"] == ["python3-apt", "python3-venv"]
    assert asked["probe"] == {
        "app_dir": "/srv/demo",
        "user": "demo",
        "group": "demo",
        "unit": "demo.service",
        "watched": ["/etc/demo/env", "/etc/systemd/system/demo.service", "/srv/demo/current"],
    }
    assert "/srv/demo/releases/1/app.py" in asked["files"]
    rollback = validated(source, tmp_path, app_rollback=True, app_source="")
    assert not any(
        path.startswith("/srv/demo/releases/") for path in _app_role.request(rollback, Context())["files"]
    )


# --- plan ----------------------------------------------------------------------------


def test_a_fresh_host_gets_everything(source, tmp_path):
    model = validated(source, tmp_path)
    context = Context()
    plan = _app_role.plan(
        model, inspection(model, host(), packages="not-installed", active="inactive"), context
    )
    assert plan.problems == []
    summary = plan.result()["summary"]
    assert summary[:4] == [
        "package python3-apt: not installed",
        "package python3-venv: not installed",
        "account group demo: does not exist",
        "account user demo: does not exist",
    ]
    assert "file /srv/demo/releases/1/app.py: does not exist" in summary
    assert "virtualenv /srv/demo/releases/1: not built for these requirements" in summary
    assert "release 1: switch current to it (no release is live)" in summary
    assert summary[-1] == "service demo.service: not running (inactive)"
    data = plan.data
    assert data["restart"] is True
    assert data["target"] == "1" and data["remove"] == [] and data["history_content"] == "1\n"
    assert data["is_python"] is True
    assert data["exec"] == "/srv/demo/current/.venv/bin/python3 app.py"
    assert data["file_group"] == "demo"
    assert (data["copy_release"], data["write_release_env"], data["build_venv"]) == (True, True, True)
    # the three directories with one command
    assert data["directories"] == ["/srv/demo", "/srv/demo/releases", "/etc/demo"]
    assert data["directories_argv"] == [
        "/usr/bin/install",
        "-d",
        "-o",
        "root",
        "-g",
        "demo",
        "-m",
        "0750",
        "--",
        "/srv/demo",
        "/srv/demo/releases",
        "/etc/demo",
    ]
    assert data["health_url"] == "http://127.0.0.1:8000/healthz"
    assert data["restore"]["previous"] is None
    # the first deployment waits longer for its health (app_health_first_retries)
    assert data["first_deploy"] is True and data["health_retries"] == 20
    # service_config's health probe waits as long as those tries would
    assert data["health_wait"] == 20 * data["health_delay"]
    assert context.rendered[0][0] == "app.service.j2"
    assert context.rendered[0][1]["plan"]["env_file"] == "/etc/demo/env"


def test_check_mode_on_a_fresh_host_writes_as_root(source, tmp_path):
    model = validated(source, tmp_path)
    plan = _app_role.plan(model, inspection(model, host()), Context(check_mode=True))
    assert plan.data["file_group"] == "root"
    assert plan.data["directories_argv"][5] == "root"


def test_a_converged_host_changes_nothing(source, tmp_path):
    model = validated(source, tmp_path)
    _first, files = converged(model)
    probe = host("1", ["1"], ["1"], ["1"], ACCOUNT)
    plan = _app_role.plan(model, inspection(model, probe, files), Context())
    assert plan.result()["changes"] == []
    assert plan.data["restart"] is False
    assert plan.data["directories"] == [] and plan.data["directories_argv"] == []
    assert not (plan.data["copy_release"] or plan.data["write_release_env"] or plan.data["build_venv"])


@pytest.mark.parametrize(
    ("drift", "steps"),
    [
        ({"/srv/demo/releases/1/app.py": {"state": "file", "sha256": "0" * 64}}, (True, False, False)),
        ({"/srv/demo/releases/1/.groundwork-release.env": {"state": "absent"}}, (False, True, False)),
        ({"/srv/demo/releases/1/.venv/.groundwork-ready-": {"state": "absent"}}, (False, False, True)),
        ({"/etc/demo/env": {"state": "absent"}}, (False, False, False)),
    ],
)
def test_only_the_parts_of_the_release_that_differ_are_built(source, tmp_path, drift, steps):
    model = validated(source, tmp_path)
    _first, files = converged(model)
    drifted(files, drift)
    probe = host("1", ["1"], ["1"], ["1"], ACCOUNT)
    data = _app_role.plan(model, inspection(model, probe, files), Context()).data
    assert (data["copy_release"], data["write_release_env"], data["build_venv"]) == steps


def test_only_the_directories_that_differ_are_made(source, tmp_path):
    model = validated(source, tmp_path)
    _first, files = converged(model)
    files["/srv/demo/releases"] = {**files["/srv/demo/releases"], "mode": "0755"}
    probe = host("1", ["1"], ["1"], ["1"], ACCOUNT)
    plan = _app_role.plan(model, inspection(model, probe, files), Context())
    assert plan.result()["summary"] == ["file /srv/demo/releases: owner, group or mode differs"]
    assert plan.data["directories"] == ["/srv/demo/releases"]
    assert plan.data["directories_argv"][-2:] == ["--", "/srv/demo/releases"]


@pytest.mark.parametrize(
    ("drift", "expected", "restart"),
    [
        (
            {"/srv/demo/releases/1/app.py": {"state": "file", "sha256": "0" * 64}},
            ["file /srv/demo/releases/1/app.py: content differs"],
            True,
        ),
        ({"/etc/demo/env": "mode"}, ["file /etc/demo/env: owner, group or mode differs"], True),
        ({"/srv/demo/history": {"state": "absent"}}, ["file /srv/demo/history: does not exist"], False),
        (
            {"/srv/demo/releases/1/.venv/.groundwork-ready-": {"state": "absent"}},
            ["virtualenv /srv/demo/releases/1: not built for these requirements"],
            True,
        ),
    ],
)
def test_drift_is_found(source, tmp_path, drift, expected, restart):
    model = validated(source, tmp_path)
    _first, files = converged(model)
    drifted(files, drift)
    probe = host("1", ["1"], ["1"], ["1"], ACCOUNT)
    plan = _app_role.plan(model, inspection(model, probe, files), Context())
    assert plan.result()["summary"] == expected
    assert plan.data["restart"] is restart


def test_a_service_running_since_before_its_files_changed_restarts(source, tmp_path):
    # A run wrote the environment file and died before the restart: the files are as
    # wanted, but the service runs on the old ones; the next run restarts it, and says so.
    model = validated(source, tmp_path)
    _first, files = converged(model)
    probe = {**host("1", ["1"], ["1"], ["1"], ACCOUNT), "stale": ["/etc/demo/env"]}
    plan = _app_role.plan(model, inspection(model, probe, files), Context())
    assert plan.result()["summary"] == ["service demo.service: running since before /etc/demo/env changed"]
    assert plan.data["restart"] is True
    settled = _app_role.plan(model, inspection(model, {**probe, "stale": []}, files), Context())
    assert settled.result()["summary"] == []
    assert settled.data["restart"] is False


def test_a_new_release_switches_and_prunes(source, tmp_path):
    model = validated(source, tmp_path, app_version="3")
    probe = host("2", ["0", "1", "2"], ["1", "2"], ["1", "2"], ACCOUNT)
    plan = _app_role.plan(model, inspection(model, probe), Context())
    summary = plan.result()["summary"]
    assert 'release 3: switch current to it (release "2" is live)' in summary
    assert "prune /srv/demo/releases/0: beyond app_releases_kept" in summary
    assert "prune /srv/demo/releases/1: beyond app_releases_kept" in summary
    assert plan.data["remove"] == ["0", "1"]
    assert plan.data["restore"]["previous"] == "2"
    # a live release: the usual health window
    assert plan.data["first_deploy"] is False and plan.data["health_retries"] == 5


def test_the_first_deployment_never_waits_less_than_later_ones(source, tmp_path):
    model = validated(source, tmp_path, app_health_retries=30, app_health_first_retries=10)
    plan = _app_role.plan(model, inspection(model, host()), Context())
    assert plan.data["health_retries"] == 30


def test_a_rollback_returns_to_the_release_before(source, tmp_path):
    model = validated(source, tmp_path, app_version="2", app_rollback=True)
    probe = host("2", ["1", "2"], ["1", "2"], ["1"], ACCOUNT)
    plan = _app_role.plan(model, inspection(model, probe), Context())
    assert plan.problems == []
    assert plan.data["target"] == "1"
    assert plan.data["is_python"] is True
    assert 'release 1: switch current to it (release "2" is live)' in plan.result()["summary"]


def test_a_rollback_without_a_release_before_fails(source, tmp_path):
    model = validated(source, tmp_path, app_rollback=True)
    plan = _app_role.plan(model, inspection(model, host("1", ["1"], ["1"])), Context())
    assert plan.problems == [
        "app_rollback: there is no release before '1' to return to"
        " (releases that went live, newest first: '1')"
    ]


def test_an_unsupported_release_fails(source, tmp_path):
    model = validated(source, tmp_path)
    given = inspection(model, host())
    given["os"] = {"id": "ubuntu", "name": "Ubuntu", "version_id": "24.04", "version": "24.04"}
    plan = _app_role.plan(model, given, Context())
    assert plan.problems == ["groundwork.server.app supports Debian 12 and 13; this host runs Ubuntu 24.04."]


WANTS = "/etc/systemd/system/multi-user.target.wants/demo.service"


@pytest.mark.parametrize(
    ("link", "enable", "summary"),
    [
        ({"state": "link", "target": "/etc/systemd/system/demo.service"}, False, []),
        ({"state": "absent"}, True, [f"file {WANTS}: does not exist"]),
        # enabled from somewhere else: the link is made ours
        (
            {"state": "link", "target": "/lib/systemd/system/demo.service"},
            True,
            [f"file {WANTS}: content differs"],
        ),
    ],
)
def test_the_unit_is_enabled_by_its_link_only_when_it_is_not(source, tmp_path, link, enable, summary):
    model = validated(source, tmp_path)
    _first, files = converged(model)
    files[WANTS] = link
    probe = host("1", ["1"], ["1"], ["1"], ACCOUNT)
    plan = _app_role.plan(model, inspection(model, probe, files), Context())
    assert plan.data["enable"] is enable
    assert plan.result()["summary"] == summary
    # not a reason to restart: the task of its own writes it (with the history, unchanged here)
    assert plan.data["restart"] is False and plan.data["write_history"] is False


def test_a_first_deployment_enables_the_unit_in_its_transaction(source, tmp_path):
    model = validated(source, tmp_path)
    plan = _app_role.plan(model, inspection(model, host(), active="inactive"), Context())
    assert plan.data["enable"] is True and plan.data["restart"] is True
    assert plan.data["wants_link"] == WANTS
    # the service line says only what the link does not: not running
    assert plan.result()["summary"][-1] == "service demo.service: not running (inactive)"
