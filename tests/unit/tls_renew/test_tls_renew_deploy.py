# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork-tls-renew: deploy, hooks and the HTTP-01 self-check."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

FILES = ("cert.pem", "chain.pem", "fullchain.pem", "privkey.pem")


def make_source(directory, tag="new"):
    directory.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (directory / name).write_text(f"{tag} {name}\n", encoding="ascii")
    return directory


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_deploy_modes_group_and_content(renew, tmp_path):
    source = make_source(tmp_path / "live")
    target = tmp_path / "ssl" / "shop"
    renew.deploy(str(source), str(target), os.getgid(), uid=os.getuid(), gid=os.getgid())
    assert mode(target) == 0o755
    for name in FILES:
        assert (target / name).read_text(encoding="ascii") == f"new {name}\n"
        assert mode(target / name) == (0o640 if name == "privkey.pem" else 0o644)
        assert os.stat(target / name).st_uid == os.getuid()
        assert os.stat(target / name).st_gid == os.getgid()
    assert sorted(os.listdir(target)) == sorted(FILES)  # no temporary files left


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file another group needs root")
def test_deploy_gives_the_key_to_the_key_group(renew, tmp_path):
    source = make_source(tmp_path / "live")
    target = tmp_path / "ssl" / "shop"
    renew.deploy(str(source), str(target), 4242)
    assert os.stat(target / "privkey.pem").st_gid == 4242
    assert (os.stat(target / "cert.pem").st_uid, os.stat(target / "cert.pem").st_gid) == (0, 0)
    assert (os.stat(target).st_uid, os.stat(target).st_gid) == (0, 0)


def test_deploy_replaces_atomically_and_removes_the_placeholder(renew, tmp_path):
    target = make_source(tmp_path / "ssl" / "shop", tag="old")
    (target / ".placeholder").write_text("", encoding="ascii")
    os.chmod(target / "privkey.pem", 0o600)
    old_inodes = {name: os.stat(target / name).st_ino for name in FILES}
    with open(target / "privkey.pem", encoding="ascii") as reader:  # a reader of the old key
        renew.deploy(
            str(make_source(tmp_path / "live")), str(target), os.getgid(), uid=os.getuid(), gid=os.getgid()
        )
        assert reader.read() == "old privkey.pem\n"  # renamed over, not rewritten in place
    for name in FILES:
        assert os.stat(target / name).st_ino != old_inodes[name]
        assert (target / name).read_text(encoding="ascii") == f"new {name}\n"
    assert mode(target / "privkey.pem") == 0o640
    assert not (target / ".placeholder").exists()


def test_deploy_failure_leaves_the_old_files(renew, tmp_path):
    target = make_source(tmp_path / "ssl" / "shop", tag="old")
    (target / ".placeholder").write_text("", encoding="ascii")
    source = make_source(tmp_path / "live")
    (source / "privkey.pem").unlink()
    with pytest.raises(FileNotFoundError):
        renew.deploy(str(source), str(target), os.getgid(), uid=os.getuid(), gid=os.getgid())
    for name in FILES:
        assert (target / name).read_text(encoding="ascii") == f"old {name}\n"
    assert (target / ".placeholder").exists()
    assert sorted(os.listdir(target)) == sorted([*FILES, ".placeholder"])


# --- hooks --------------------------------------------------------------------------------------
def test_hooks_run_sorted_and_a_failure_does_not_stop_the_others(renew, host):
    log = host.root / "hooks.log"
    host.write_hook("shop", "20-fails", f'echo "20 $GROUNDWORK_TLS_NAME" >> {log}; echo broken >&2; exit 3')
    host.write_hook("shop", "10-first", f'echo "10 $GROUNDWORK_TLS_DIR" >> {log}')
    host.write_hook("shop", "30-last", f"echo 30 >> {log}")
    host.write_hook("shop", "15-not-executable", f"echo 15 >> {log}", executable=False)
    host.write_hook("shop", ".hidden", f"echo hidden >> {log}")
    host.write_hook("other", "10-other", f"echo other >> {log}")
    reports = renew.run_hooks(host.paths, "shop", host.runner, timeout=5)
    assert log.read_text(encoding="ascii").splitlines() == [
        f"10 {host.paths.cert_root}/shop",
        "20 shop",
        "30",
    ]
    assert reports == [
        {"hook": "10-first", "rc": 0, "output": ""},
        {"hook": "20-fails", "rc": 3, "output": "broken"},
        {"hook": "30-last", "rc": 0, "output": ""},
    ]


def test_hooks_get_a_timeout(renew, host):
    log = host.root / "hooks.log"
    host.write_hook("shop", "10-slow", "sleep 5")
    host.write_hook("shop", "20-next", f"echo 20 >> {log}")
    reports = renew.run_hooks(host.paths, "shop", renew.run_command, timeout=0.5)
    assert reports[0] == {"hook": "10-slow", "rc": 124, "output": "timed out after 0.5 s"}
    assert reports[1]["rc"] == 0
    assert log.read_text(encoding="ascii") == "20\n"


def test_hooks_timeout_is_passed_to_the_runner(renew, host):
    host.write_hook("shop", "10-a", "true")
    calls = []

    def runner(argv, env=None, timeout=None):
        calls.append((argv, env, timeout))
        return subprocess.CompletedProcess(argv, 0, "", "")

    renew.run_hooks(host.paths, "shop", runner, timeout=77)
    assert calls[0][0] == [str(host.root / "etc/groundwork/tls/hooks/shop.d/10-a")]
    assert calls[0][2] == 77
    assert calls[0][1]["GROUNDWORK_TLS_NAME"] == "shop"


def test_no_hook_directory(renew, host):
    assert renew.run_hooks(host.paths, "shop", host.runner) == []


def test_run_command_missing_program(renew, tmp_path):
    result = renew.run_command([str(tmp_path / "missing")])
    assert result.returncode == 127


# --- HTTP-01 self-check ---------------------------------------------------------------------
def test_self_check_passes_and_removes_the_token(renew, host):
    spec = host.write_spec()
    assert renew.self_check(spec, host.web) is None
    hosts = [request[0] for request in host.web.requests]
    assert hosts == ["shop.example.com", "www.shop.example.com"]
    path = host.web.requests[0][1]
    assert path.startswith("/.well-known/acme-challenge/")
    assert host.web.requests[1][1] == path  # one token for every name
    assert os.listdir(host.webroot / ".well-known/acme-challenge") == []


def test_self_check_waits_when_nothing_listens(renew, host):
    spec = host.write_spec()
    host.web.serving = False
    reason = renew.self_check(spec, host.web)
    assert reason == (
        "the web server does not serve the ACME webroot yet "
        "(shop.example.com: [Errno 111] Connection refused)"
    )
    assert os.listdir(host.webroot / ".well-known/acme-challenge") == []


@pytest.mark.parametrize(
    ("answer", "shown"),
    [((404, "not found"), "HTTP 404"), ((200, "something else"), "HTTP 200 without the token")],
)
def test_self_check_waits_for_a_wrong_answer(renew, host, answer, shown):
    spec = host.write_spec()
    reason = renew.self_check(spec, lambda _host, _path: answer)
    assert reason == f"the web server does not serve the ACME webroot yet (shop.example.com: {shown})"


def test_self_check_checks_every_name(renew, host):
    spec = host.write_spec()

    def probe(name, path):
        if name == "www.shop.example.com":
            return 404, ""
        return host.web(name, path)

    assert "(www.shop.example.com: HTTP 404)" in renew.self_check(spec, probe)


def test_self_check_cannot_write_the_token(renew, host, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="ascii")
    spec = renew.parse_spec({**host.spec_data(), "webroot": str(blocker)})
    with pytest.raises(renew.RenewError, match="cannot write a token"):
        renew.self_check(spec, host.web)
