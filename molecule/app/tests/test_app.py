# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The converged host: the demo application runs sandboxed as its own user and answers."""

from __future__ import annotations

import pytest
from conftest import answer, get

testinfra_hosts = ["ansible://app-server"]


@pytest.fixture(scope="module")
def pid(host):
    return host.check_output("systemctl show --property MainPID --value demo.service")


def test_service_runs_as_the_dedicated_user(host, pid):
    assert host.service("demo.service").is_running
    assert host.service("demo.service").is_enabled
    user = host.user("demo")
    assert user.shell == "/usr/sbin/nologin"
    assert user.uid < 1000
    status = host.file(f"/proc/{pid}/status").content_string
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert set(uids) == {str(user.uid)}


def test_sandbox_is_in_effect(host, pid):
    status = dict(line.split(":", 1) for line in host.file(f"/proc/{pid}/status").content_string.splitlines())
    assert status["NoNewPrivs"].strip() == "1"
    assert int(status["CapBnd"].strip(), 16) == 0
    assert status["Seccomp"].strip() == "2"
    props = host.check_output(
        "systemctl show demo.service --property ProtectSystem,ProtectHome,PrivateTmp,PrivateDevices,"
        "RestrictAddressFamilies,MemoryDenyWriteExecute,RestrictNamespaces,ReadWritePaths"
    )
    for expected in (
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "MemoryDenyWriteExecute=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    ):
        assert expected in props


def mounts(host, pid):
    """The service process's view of the file system: mount point -> options."""
    result = {}
    for line in host.file(f"/proc/{pid}/mountinfo").content_string.splitlines():
        fields = line.split()
        result[fields[4]] = set(fields[5].split(","))
    return result


def test_the_process_sees_a_read_only_system(host, pid):
    seen = mounts(host, pid)
    assert "ro" in seen["/"]
    assert "rw" in seen["/var/lib/demo"]
    assert "ro" in seen["/home"] and "noexec" in seen["/home"]


def sandboxed(host, command):
    """Run a command as the service's user with the unit's own sandbox settings."""
    unit = host.check_output("systemctl cat demo.service")
    sandbox = unit.split("NoNewPrivileges", 1)[1].split("[Install]", 1)[0]
    properties = ["-p NoNewPrivileges" + sandbox.splitlines()[0]] + [
        f"-p '{line}'" for line in sandbox.splitlines()[1:] if "=" in line and not line.startswith("#")
    ]
    return host.run(
        "systemd-run --quiet --wait --pipe --collect -p User=demo -p Group=demo -p StateDirectory=demo "
        f"{' '.join(properties)} {command}"
    )


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/usr/gw-sandbox-test", "Read-only file system"),
        ("/etc/gw-sandbox-test", "Read-only file system"),
        ("/srv/demo/gw-sandbox-test", "Read-only file system"),
        ("/home/gw-sandbox-test", None),
        ("/root/gw-sandbox-test", None),
    ],
)
def test_the_sandbox_refuses_writes(host, path, error):
    result = sandboxed(host, f"/usr/bin/touch {path}")
    assert result.rc != 0, result.stdout
    if error:
        assert error in result.stderr
    assert not host.file(path).exists


def test_the_sandbox_allows_the_state_directory(host):
    result = sandboxed(host, "/usr/bin/touch /var/lib/demo/probe")
    assert result.rc == 0, result.stderr
    host.run("rm -f /var/lib/demo/probe")


def test_answers_with_a_rising_counter(host):
    name, version, first = answer(host)
    assert (name, version) == ("app-server", "1")
    second = answer(host)[2]
    assert second > first


def test_answers_over_the_network(db):
    name, _version, _count = answer(db, "http://app-server:8000/")
    assert name == "app-server"


def test_health(host):
    assert get(host, "http://127.0.0.1:8000/healthz") == (200, "ok")
    assert get(host, "http://127.0.0.1:8000/nothing")[0] == 404


def test_environment_file(host):
    env = host.file("/etc/demo/env")
    assert (env.mode, env.user, env.group) == (0o600, "root", "demo")
    content = env.content_string
    assert 'DEMO_GREETING="hello world"' in content
    assert "DEMO_TOKEN=" in content
    # the password percent-encoded in the URL
    assert "postgresql://demo:p%40ss%20w%3Ard%2F7%25%3F@app-db:5432/demo?sslmode=require" in content


def test_release_layout(host):
    assert host.file("/srv/demo/current").linked_to == "/srv/demo/releases/1"
    release = host.file("/srv/demo/releases/1")
    assert (release.user, release.group, release.mode) == ("root", "demo", 0o750)
    assert host.file("/srv/demo/releases/1/.venv/bin/python3").exists
    # no pip: the requirements file lists no packages
    assert not host.file("/srv/demo/releases/1/.venv/bin/pip").exists
