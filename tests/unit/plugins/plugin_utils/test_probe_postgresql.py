# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The probe of groundwork.server.postgresql (plugin_utils/_probes/postgresql.py): with a fake
``core`` for the answers, and for real on this machine through the shared probe process."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _postgresql_role as role
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import (
    PROBE,
    build_command,
    parse_answer,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._probes import postgresql as probe
from ansible_collections.groundwork.server.plugins.plugin_utils._role_action import probe_source

ARGS = {"versions": role.VERSIONS, "hook_dir": "/nonexistent/hooks", "consumer": "postgresql",
        "service": role.SERVICE, "units": [role.BACKUP_TIMER]}  # fmt: skip


def fake_core(version_id="12", conf="include_dir = 'conf.d'\n", systemctl=None):
    systemctl = systemctl or {}

    def run(argv):
        if len(argv) < 3:  # locale -a
            return types.SimpleNamespace(returncode=0, stdout="C\nC.utf8\nPOSIX\n", stderr="")
        rc, out = systemctl.get(
            (argv[1], argv[2]), (1, "disabled\n" if argv[1] == "is-enabled" else "inactive\n")
        )
        return types.SimpleNamespace(returncode=rc, stdout=out, stderr="")

    return types.SimpleNamespace(
        os_release=lambda: {"id": "debian", "version_id": version_id},
        memory_kb=lambda: 4 * 1024 * 1024,
        cgroup_memory=lambda: "1073741824",
        cpus=lambda: 2,
        read=lambda path: conf if path.endswith("/postgresql.conf") else None,
        run=run,
    )


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        ("include_dir = 'conf.d'\n", True),
        ("  include_dir 'conf.d'   # the packaged line\n", True),
        ("#include_dir = 'conf.d'\n", False),
        ("", False),
    ],
)
def test_include_dir(conf, expected):
    assert probe.inspect(ARGS, fake_core(conf=conf))["include_dir"] is expected


@pytest.mark.parametrize(("version_id", "version"), [("12", 15), ("13", 17), ("11", None)])
def test_the_version_follows_the_release(version_id, version):
    answer = probe.inspect(ARGS, fake_core(version_id))
    assert answer["version"] == version
    assert answer["memtotal_mb"] == 4096 and answer["cgroup_memory"] == "1073741824" and answer["cpus"] == 2


def test_unit_states_in_systemctl_terms():
    systemctl = {
        ("is-enabled", "postgresql@15-main.service"): (0, "generated\n"),
        ("is-active", "postgresql@15-main.service"): (0, "active\n"),
        ("is-active", role.BACKUP_TIMER): (3, "inactive\n"),
    }
    answer = probe.inspect(ARGS, fake_core(systemctl=systemctl))
    assert answer["service"] == {"enabled": "enabled", "active": "active"}
    assert answer["units"][role.BACKUP_TIMER] == {"enabled": "disabled", "active": "inactive"}


def test_the_hooks_the_role_registered(tmp_path):
    for name in ("db.d/postgresql", "db.d/nginx", "old.d/postgresql"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    answer = probe.inspect(dict(ARGS, hook_dir=str(tmp_path)), fake_core())
    assert answer["hooks"] == [str(tmp_path / "db.d/postgresql"), str(tmp_path / "old.d/postgresql")]


def test_the_probe_runs_in_the_shared_probe_process():
    request = {"probes": {"postgresql": {"source": probe_source("postgresql"), "args": ARGS}}}
    command = build_command(sys.executable, PROBE.read(), request)
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False)
    answer, error = parse_answer(done.returncode, done.stdout, done.stderr)
    assert error is None, error
    found = answer["probes"]["postgresql"]
    assert found["cpus"] >= 1 and found["memtotal_mb"] > 0
    assert found["hooks"] == []
    assert set(found["units"]) == {role.BACKUP_TIMER}


# --- the installed server's catalogue of settings (postgresql_settings) ------------------------

PG_SETTINGS = (
    '{"work_mem": {"type": "integer", "unit": "kB", "min": "64", "max": "2147483647", "enum": null,'
    ' "context": "user"}, "huge_pages": {"type": "enum", "unit": null, "min": null, "max": null,'
    ' "enum": ["off", "on", "try"], "context": "postmaster"}}\n'
)
DESCRIBE = (
    "work_mem\tuser\tResource Usage / Memory\tINTEGER\t0\t64\t2147483647\tSets the memory.\t\n"
    "fsync\tsighup\tWrite-Ahead Log / Settings\tBOOLEAN\tFALSE\t\t\tForces synchronization.\t\n"
    "huge_pages\tpostmaster\tResource Usage / Memory\tENUM\ttry\t\t\tUse of huge pages.\t\n"
)


def catalogue_core(psql=None, describe=None):
    """A core whose psql answers ``psql`` (None: fails) and whose postgres --describe-config
    answers ``describe``."""
    calls = []

    def run(argv):
        calls.append(argv)
        if probe.PSQL in argv:
            out = psql
        elif "--describe-config" in argv:
            out = describe
        else:
            out = None
        return types.SimpleNamespace(returncode=1 if out is None else 0, stdout=out or "", stderr="")

    return types.SimpleNamespace(run=run, calls=calls)


def test_the_catalogue_comes_from_pg_settings_of_the_running_server(monkeypatch):
    monkeypatch.setattr(probe, "_running_ports", lambda: [5432, 5433])
    monkeypatch.setattr(probe.os.path, "exists", lambda path: True)
    core = catalogue_core(psql=PG_SETTINGS, describe=DESCRIBE)
    found = probe.catalogue(core, 17, 5433, ["work_mem", "huge_pages", "bad'name"])
    assert found["source"] == "pg_settings"
    assert found["settings"]["huge_pages"]["enum"] == ["off", "on", "try"]
    query = core.calls[0][-1]
    assert (
        "-p" in core.calls[0] and core.calls[0][core.calls[0].index("-p") + 1] == "5433"
    )  # the role's port first
    assert "'huge_pages', 'work_mem'" in query and "bad" not in query


def test_without_a_running_server_the_catalogue_comes_from_describe_config(monkeypatch):
    monkeypatch.setattr(probe, "_running_ports", lambda: [])
    monkeypatch.setattr(probe.os.path, "exists", lambda path: True)
    found = probe.catalogue(catalogue_core(describe=DESCRIBE), 17, 5432, ["work_mem", "fsync"])
    assert found == {
        "source": "describe-config",
        "settings": {
            "work_mem": {"type": "integer", "unit": "?", "min": "64", "max": "2147483647", "enum": None,
                         "context": "user"},
            "fsync": {"type": "bool", "unit": "?", "min": None, "max": None, "enum": None,
                      "context": "sighup"},
        },
    }  # fmt: skip


def test_no_catalogue_without_postgresql(monkeypatch):
    monkeypatch.setattr(probe, "_running_ports", lambda: [])
    monkeypatch.setattr(probe.os.path, "exists", lambda path: False)
    assert probe.catalogue(catalogue_core(), 17, 5432, ["work_mem"]) is None
    assert probe.catalogue(catalogue_core(), None, 5432, ["work_mem"]) is None


def test_the_locales_the_host_offers():
    assert probe.inspect(ARGS, fake_core())["locales"] == ["C", "C.utf8", "POSIX"]
