# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The service_config transaction, every path, against a fake host."""

from __future__ import annotations

import os
import stat

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._service_config.core import (
    HIDDEN_CONTENT,
    FileSpec,
    FileState,
    ServiceConfigError,
    apply,
    diffs,
    parse_mode,
    plan,
    unified,
)
from ansible_collections.groundwork.server.plugins.module_utils._service_config.host import LocalHost

NGINX_T = ["/usr/sbin/nginx", "-t", "-q"]


class FakeHost:
    """An in-memory file system, a scripted command runner and a scripted probe."""

    def __init__(self, files=None, active=True):
        self.files = dict(files or {})
        self.dirs = {}
        self.commands = []
        self.results = {}  # argv tuple -> list of (rc, out, err), consumed in order
        self.probes = []  # list of (ok, detail), consumed in order
        self.fail_write = set()
        self.fail_restore = False
        self.restoring = False
        self.active = active

    # files
    def stat(self, path):
        return self.files.get(path)

    def listdir(self, path):
        prefix = path.rstrip("/") + "/"
        return [p[len(prefix) :] for p in self.files if p.startswith(prefix) and "/" not in p[len(prefix) :]]

    def uid(self, owner):
        if owner == "nobody-here":
            raise ServiceConfigError("owner 'nobody-here' is not a user on this host")
        return {"root": 0, "www-data": 33}[owner]

    def gid(self, group):
        return {"root": 0, "www-data": 33}[group]

    def _maybe_fail(self, path):
        if path in self.fail_write or (self.restoring and self.fail_restore):
            raise OSError(28, "No space left on device")

    def write(self, path, state):
        # Like the real one: a write makes a regular file, never a link.
        assert state.content is not None, f"write({path}) without content"
        self._maybe_fail(path)
        self.files[path] = FileState(state.content, state.uid, state.gid, state.mode)

    def set_attributes(self, path, state):
        self._maybe_fail(path)
        self.files[path] = FileState(self.files[path].content, state.uid, state.gid, state.mode)

    def symlink(self, path, target):
        self._maybe_fail(path)
        self.files[path] = FileState(link=target)

    def remove(self, path):
        self._maybe_fail(path)
        self.files.pop(path, None)

    # service
    def run(self, argv):
        self.commands.append(list(argv))
        queue = self.results.get(tuple(argv))
        return queue.pop(0) if queue else (0, "", "")

    def is_active(self, service):
        return self.active

    def probe(self, spec):
        return self.probes.pop(0) if self.probes else (True, "ok")


def state(text, uid=0, gid=0, mode=0o644):
    return FileState(content=text.encode(), uid=uid, gid=gid, mode=mode)


OLD = {
    "/etc/nginx/nginx.conf": state("worker_processes 1;\n"),
    "/etc/nginx/sites-enabled/default": FileState(link="/etc/nginx/sites-available/default"),
    "/etc/nginx/sites-enabled/old.conf": state("server { listen 81; }\n"),
}
NEW = [
    FileSpec("/etc/nginx/nginx.conf", "worker_processes auto;\n"),
    FileSpec("/etc/nginx/sites-enabled/shop.conf", "server { listen 80; }\n"),
]
OWNED = ["/etc/nginx/sites-enabled"]


def run(host, files=None, **kwargs):
    kwargs.setdefault("owned_dirs", OWNED)
    kwargs.setdefault("validate", NGINX_T)
    kwargs.setdefault("service", "nginx.service")
    return apply(host, NEW if files is None else files, **kwargs)


# --- planning and the happy path -----------------------------------------------------


def test_nothing_differs_means_no_change_no_validation_no_reload():
    host = FakeHost({"/etc/nginx/nginx.conf": state("worker_processes auto;\n")})
    result = run(host, [FileSpec("/etc/nginx/nginx.conf", "worker_processes auto;\n")])
    assert not result.changed
    assert host.commands == []
    assert result.diff == []


def test_change_writes_validates_reloads_and_removes_leftovers():
    host = FakeHost(OLD)
    result = run(host, probe={"url": "http://127.0.0.1/"})
    assert result.changed and not result.failed
    assert host.files["/etc/nginx/nginx.conf"].content == b"worker_processes auto;\n"
    assert "/etc/nginx/sites-enabled/shop.conf" in host.files
    assert "/etc/nginx/sites-enabled/default" not in host.files
    assert "/etc/nginx/sites-enabled/old.conf" not in host.files
    assert host.commands == [NGINX_T, ["systemctl", "reload-or-restart", "nginx.service"]]
    assert result.activated
    assert sorted(result.files_removed) == [
        "/etc/nginx/sites-enabled/default",
        "/etc/nginx/sites-enabled/old.conf",
    ]
    assert result.files_changed == ["/etc/nginx/nginx.conf", "/etc/nginx/sites-enabled/shop.conf"]


@pytest.mark.parametrize(
    ("activate", "expected"),
    [
        ("reload", [["systemctl", "reload-or-restart", "nginx.service"]]),
        ("restart", [["systemctl", "restart", "nginx.service"]]),
        ("none", []),
    ],
)
def test_activation_modes(activate, expected):
    host = FakeHost(OLD)
    run(host, validate=None, activate=activate)
    assert host.commands == expected


def test_attribute_only_change_is_a_change_with_a_diff():
    host = FakeHost({"/etc/nginx/htpasswd": state("a:b\n", mode=0o644)})
    result = run(
        host, [FileSpec("/etc/nginx/htpasswd", "a:b\n", group="www-data", mode=0o640)], owned_dirs=[]
    )
    assert result.changed
    assert host.files["/etc/nginx/htpasswd"].mode == 0o640
    assert host.files["/etc/nginx/htpasswd"].gid == 33
    assert "mode=0640" in unified(result.diff[0])


def test_absent_file_is_removed_and_missing_absent_file_is_no_change():
    host = FakeHost({"/etc/x.conf": state("x\n")})
    assert run(host, [FileSpec("/etc/x.conf", state="absent")], owned_dirs=[]).files_removed == [
        "/etc/x.conf"
    ]
    assert not run(host, [FileSpec("/etc/x.conf", state="absent")], owned_dirs=[]).changed


def test_a_symlink_where_a_file_belongs_is_replaced_and_restored_on_failure():
    host = FakeHost({"/etc/a.conf": FileState(link="/elsewhere")})
    host.results[tuple(NGINX_T)] = [(1, "", "bad")]
    run(host, [FileSpec("/etc/a.conf", "x\n")], owned_dirs=[])
    assert host.files["/etc/a.conf"] == FileState(link="/elsewhere")


# --- check mode and diff -------------------------------------------------------------


def test_check_mode_reports_exactly_and_writes_nothing():
    host = FakeHost(OLD)
    before = dict(host.files)
    result = run(host, check_mode=True)
    assert result.changed
    assert host.files == before
    assert host.commands == []
    real = run(FakeHost(OLD))
    assert (result.files_changed, result.files_removed) == (real.files_changed, real.files_removed)


def test_diff_has_one_unified_diff_per_file():
    result = run(FakeHost(OLD), check_mode=True)
    by_path = {
        d["before_header"] if d["before_header"] != "/dev/null" else d["after_header"]: d for d in result.diff
    }
    assert set(by_path) == {
        "/etc/nginx/nginx.conf",
        "/etc/nginx/sites-enabled/shop.conf",
        "/etc/nginx/sites-enabled/default",
        "/etc/nginx/sites-enabled/old.conf",
    }
    text = unified(by_path["/etc/nginx/nginx.conf"])
    assert "-worker_processes 1;" in text and "+worker_processes auto;" in text
    assert by_path["/etc/nginx/sites-enabled/shop.conf"]["before_header"] == "/dev/null"
    assert by_path["/etc/nginx/sites-enabled/default"]["before"] == "-> /etc/nginx/sites-available/default\n"


def test_secret_content_never_appears_in_the_diff():
    host = FakeHost({"/etc/nginx/htpasswd": state("admin:OLDHASH\n")})
    result = run(
        host,
        [FileSpec("/etc/nginx/htpasswd", "admin:NEWHASH\n", secret=True)],
        owned_dirs=[],
        check_mode=True,
    )
    text = repr(result.diff)
    assert "HASH" not in text
    assert result.diff[0]["after"] == HIDDEN_CONTENT


# --- failures and the undo ----------------------------------------------------------


def test_validation_failure_restores_every_file_and_never_activates():
    host = FakeHost(OLD)
    emerg = 'nginx: [emerg] unknown directive "bogus" in /etc/nginx/x.conf:3'
    host.results[tuple(NGINX_T)] = [(1, "", f"{emerg}\n{emerg}\n")]
    result = run(host)
    assert result.failed and result.failed_stage == "validate"
    assert host.files == OLD
    assert ["systemctl", "reload-or-restart", "nginx.service"] not in host.commands
    assert 'nginx: [emerg] unknown directive "bogus"' in result.msg
    assert result.validate_output == emerg  # said once, as nginx means it
    assert result.restored and not result.changed
    assert "running service was not touched" in result.msg


def test_activation_failure_restores_files_and_reactivates_the_old_configuration():
    host = FakeHost(OLD)
    reload = ("systemctl", "reload-or-restart", "nginx.service")
    host.results[reload] = [(1, "", "Job for nginx.service failed."), (0, "", "")]
    result = run(host)
    assert result.failed_stage == "activate"
    assert host.files == OLD
    assert host.commands.count(list(reload)) == 2
    assert "Job for nginx.service failed." in result.msg
    assert result.restored


def test_probe_failure_restores_files_and_reactivates():
    host = FakeHost(OLD)
    host.probes = [(False, "GET http://127.0.0.1/ answered 502, expected 200")]
    result = run(host, probe={"url": "http://127.0.0.1/"})
    assert result.failed_stage == "probe"
    assert host.files == OLD
    assert host.commands[-1] == ["systemctl", "reload-or-restart", "nginx.service"]
    assert "answered 502" in result.msg
    assert "runs them again" in result.msg


def test_probe_failure_on_a_service_that_was_not_running_stops_it_again():
    host = FakeHost(OLD, active=False)
    host.probes = [(False, "nothing accepts connections on 127.0.0.1:80")]
    result = run(host, probe={"tcp_port": 80})
    assert host.commands[-1] == ["systemctl", "stop", "nginx.service"]
    assert result.restored
    assert "stopped again" in result.msg


def test_restore_failure_is_reported_loudly_with_the_files():
    host = FakeHost(OLD)
    host.results[tuple(NGINX_T)] = [(1, "", "broken")]
    original_run = host.run

    def run_then_break_restore(argv):
        out = original_run(argv)
        host.fail_restore = host.restoring = True
        return out

    host.run = run_then_break_restore
    result = run(host)
    assert result.failed and result.restored is False and result.changed
    assert "RESTORING THE PREVIOUS FILES FAILED" in result.msg
    assert "/etc/nginx/nginx.conf (No space left on device)" in result.msg


def test_write_failure_midway_restores_what_was_written():
    host = FakeHost(OLD)
    host.fail_write = {"/etc/nginx/sites-enabled/shop.conf"}
    result = run(host)
    assert result.failed_stage == "write"
    assert host.files == OLD
    assert host.commands == []


def test_failed_reactivation_after_restore_is_reported():
    host = FakeHost(OLD)
    reload = ("systemctl", "reload-or-restart", "nginx.service")
    host.results[reload] = [(0, "", ""), (1, "", "still broken")]
    host.probes = [(False, "down")]
    result = run(host, probe={"url": "http://127.0.0.1/"})
    assert result.restored is False
    assert "returning nginx.service to them failed" in result.msg
    assert "still broken" in result.msg


# --- input errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([FileSpec("etc/x.conf", "x")], "is not absolute"),
        ([FileSpec("/etc/x.conf", "x"), FileSpec("/etc/x.conf", "y")], "listed twice"),
        ([FileSpec("/etc/x.conf")], "no content"),
        ([FileSpec("/etc/x.conf", "x", owner="nobody-here")], "not a user"),
    ],
)
def test_bad_input_is_refused_before_anything_happens(files, message):
    host = FakeHost()
    with pytest.raises(ServiceConfigError, match=message):
        run(host, files, owned_dirs=[])
    assert host.files == {} and host.commands == []


@pytest.mark.parametrize(
    ("value", "expected"), [("0644", 0o644), ("640", 0o640), ("2750", 0o2750), (0o600, 0o600)]
)
def test_parse_mode(value, expected):
    assert parse_mode(value) == expected


@pytest.mark.parametrize("value", ["rw-r--r--", "0999", "17777"])
def test_parse_mode_rejects(value):
    with pytest.raises(ServiceConfigError):
        parse_mode(value)


def test_plan_ignores_subdirectories_of_owned_dirs(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "left.conf").write_text("x")
    host = LocalHost(run=lambda argv: (0, "", ""))
    changes = plan(host, [], [str(tmp_path)])
    assert [c.path for c in changes] == [str(tmp_path / "left.conf")]


def test_diffs_of_nothing_is_empty():
    assert diffs([]) == []


# --- symbolic links -----------------------------------------------------------------

MODS = "/etc/apache2/mods-enabled"
SSL_LOAD = f"{MODS}/ssl.load"
SSL_TARGET = "../mods-available/ssl.load"
A2_T = ["/usr/sbin/apache2ctl", "configtest"]


def link_spec(path=SSL_LOAD, src=SSL_TARGET, **kwargs):
    return FileSpec(path, state="link", src=src, **kwargs)


@pytest.mark.parametrize(
    ("before", "action"),
    [
        pytest.param(None, "create", id="missing"),
        pytest.param(FileState(link=SSL_TARGET), None, id="already-correct"),
        pytest.param(FileState(link="/etc/apache2/mods-available/ssl.load"), "update", id="wrong-target"),
        pytest.param(FileState(link="ssl.load"), "update", id="other-relative-target"),
        pytest.param(state("LoadModule ssl_module x.so\n"), "update", id="file-to-link"),
    ],
)
def test_plan_of_a_link(before, action):
    host = FakeHost({SSL_LOAD: before} if before else {})
    changes = plan(host, [link_spec()], [])
    assert [(c.path, c.action) for c in changes] == ([(SSL_LOAD, action)] if action else [])
    if action:
        assert changes[0].before == before
        assert changes[0].after == FileState(link=SSL_TARGET)


@pytest.mark.parametrize(
    ("before", "spec", "after"),
    [
        pytest.param({}, link_spec(), FileState(link=SSL_TARGET), id="create-link"),
        pytest.param(
            {SSL_LOAD: FileState(link="../mods-available/old.load")},
            link_spec(),
            FileState(link=SSL_TARGET),
            id="wrong-target",
        ),
        pytest.param({SSL_LOAD: state("x\n")}, link_spec(), FileState(link=SSL_TARGET), id="file-to-link"),
        pytest.param(
            {SSL_LOAD: FileState(link=SSL_TARGET)}, FileSpec(SSL_LOAD, "x\n"), state("x\n"), id="link-to-file"
        ),
        pytest.param(
            {SSL_LOAD: FileState(link=SSL_TARGET)}, FileSpec(SSL_LOAD, state="absent"), None, id="remove"
        ),
    ],
)
def test_links_are_written_and_a_failed_validation_puts_back_what_was_there(before, spec, after):
    host = FakeHost(before)
    result = run(host, [spec], owned_dirs=[], validate=A2_T, service="apache2.service")
    assert result.changed and not result.failed
    assert host.files.get(SSL_LOAD) == after
    assert (result.files_changed or result.files_removed) == [SSL_LOAD]

    host = FakeHost(before)
    host.results[tuple(A2_T)] = [(1, "", "AH00526: Syntax error on line 1 of ssl.load")]
    result = run(host, [spec], owned_dirs=[], validate=A2_T, service="apache2.service")
    assert result.failed_stage == "validate" and result.restored and not result.changed
    assert host.files == before
    assert ["systemctl", "reload-or-restart", "apache2.service"] not in host.commands


def test_a_link_already_right_is_no_change_and_its_attributes_are_ignored():
    host = FakeHost({SSL_LOAD: FileState(link=SSL_TARGET)})
    # An owner that does not exist is not even looked up: owner, group and mode do not apply.
    spec = link_spec(owner="nobody-here", group="www-data", mode=0o600)
    result = run(host, [spec], owned_dirs=[MODS], validate=A2_T, service="apache2.service")
    assert not result.changed and result.diff == [] and host.commands == []


def test_restore_after_a_failed_validate_brings_back_links_and_files_together():
    before = {
        "/etc/apache2/apache2.conf": state("ServerRoot /etc/apache2\n"),
        SSL_LOAD: state("LoadModule ssl_module x.so\n"),  # a file where a link belongs
        f"{MODS}/ssl.conf": FileState(link="../mods-available/old-ssl.conf"),  # a wrong link
        f"{MODS}/rewrite.load": FileState(link="../mods-available/rewrite.load"),  # a stray
        f"{MODS}/status.conf": FileState(link="../mods-available/status.conf"),  # becomes a file
    }
    files = [
        FileSpec("/etc/apache2/apache2.conf", "ServerRoot /etc/apache2\nListen 443\n"),
        link_spec(),
        link_spec(f"{MODS}/ssl.conf", "../mods-available/ssl.conf"),
        link_spec(f"{MODS}/headers.load", "../mods-available/headers.load"),
        FileSpec(f"{MODS}/status.conf", "ExtendedStatus On\n"),
    ]
    host = FakeHost(before)
    host.results[tuple(A2_T)] = [(1, "", "AH00526: Syntax error")]
    result = run(host, files, owned_dirs=[MODS], validate=A2_T, service="apache2.service")
    assert result.failed_stage == "validate" and result.restored
    assert host.files == before
    assert result.files_removed == [f"{MODS}/rewrite.load"]
    assert sorted(result.files_changed) == sorted(f.path for f in files)


def test_check_mode_reports_a_link_with_its_target_and_touches_nothing():
    before = {SSL_LOAD: FileState(link="../mods-available/old.load")}
    host = FakeHost(before)
    result = run(
        host,
        [link_spec(), link_spec(f"{MODS}/ssl.conf", "../mods-available/ssl.conf")],
        owned_dirs=[MODS],
        check_mode=True,
    )
    assert result.changed and host.files == before and host.commands == []
    assert result.files_changed == [SSL_LOAD, f"{MODS}/ssl.conf"]
    update, create = result.diff
    assert (update["before"], update["after"]) == (
        "-> ../mods-available/old.load\n",
        "-> ../mods-available/ssl.load\n",
    )
    assert (create["before_header"], create["after"]) == ("/dev/null", "-> ../mods-available/ssl.conf\n")
    text = unified(update)
    assert "-> ../mods-available/old.load" in text and "+-> ../mods-available/ssl.load" in text
    assert "symlink to" not in text  # the target is said once, not again as an attribute line


@pytest.mark.parametrize(
    ("before", "spec", "minus", "plus"),
    [
        pytest.param(state("x\n"), link_spec(), "-x", "+-> ../mods-available/ssl.load", id="file-to-link"),
        pytest.param(
            FileState(link=SSL_TARGET),
            FileSpec(SSL_LOAD, "x\n"),
            "--> ../mods-available/ssl.load",
            "+x",
            id="link-to-file",
        ),
    ],
)
def test_diff_between_a_file_and_a_link(before, spec, minus, plus):
    result = run(FakeHost({SSL_LOAD: before}), [spec], owned_dirs=[], check_mode=True)
    lines = unified(result.diff[0]).splitlines()
    assert minus in lines and plus in lines


def test_stray_links_in_an_owned_dir_are_removed_and_listed_links_kept():
    host = FakeHost(
        {
            SSL_LOAD: FileState(link=SSL_TARGET),
            f"{MODS}/rewrite.load": FileState(link="../mods-available/rewrite.load"),
            f"{MODS}/notes.txt": state("left behind\n"),
        }
    )
    result = run(host, [link_spec()], owned_dirs=[MODS], validate=A2_T, service="apache2.service")
    assert sorted(result.files_removed) == [f"{MODS}/notes.txt", f"{MODS}/rewrite.load"]
    assert result.files_changed == []
    assert host.files == {SSL_LOAD: FileState(link=SSL_TARGET)}
    assert result.diff[0 if result.diff[0]["before"].startswith("left") else 1]["after"] == ""


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(
            FileSpec(SSL_LOAD, "LoadModule x\n", state="link", src=SSL_TARGET),
            f"{SSL_LOAD} has state=link and content",
            id="link-with-content",
        ),
        pytest.param(
            FileSpec(SSL_LOAD, state="link"), f"{SSL_LOAD} has state=link but no src", id="link-without-src"
        ),
        pytest.param(link_spec(src=""), f"{SSL_LOAD} has state=link but no src", id="link-with-empty-src"),
        pytest.param(
            FileSpec(SSL_LOAD, "x\n", src=SSL_TARGET),
            f"{SSL_LOAD} has src but state=present",
            id="src-on-a-file",
        ),
        pytest.param(
            FileSpec(SSL_LOAD, state="absent", src=SSL_TARGET),
            f"{SSL_LOAD} has src but state=absent",
            id="src-on-absent",
        ),
        pytest.param(
            FileSpec(SSL_LOAD, state="directory"), f"{SSL_LOAD} has state=directory", id="unknown-state"
        ),
    ],
)
def test_bad_link_specs_are_refused_before_anything_is_touched(spec, message):
    before = {
        "/etc/apache2/apache2.conf": state("old\n"),
        f"{MODS}/rewrite.load": FileState(link="../mods-available/rewrite.load"),
    }
    host = FakeHost(before)
    # The bad spec comes after a valid change and in an owned dir with a stray: neither happens.
    files = [FileSpec("/etc/apache2/apache2.conf", "new\n"), spec]
    with pytest.raises(ServiceConfigError, match=message):
        run(host, files, owned_dirs=[MODS], validate=A2_T)
    assert host.files == before and host.commands == []


# --- the real host on a temporary directory -----------------------------------------


def test_local_host_writes_atomically_with_final_mode_and_restores_links(tmp_path):
    target = tmp_path / "conf.d" / "secret.conf"
    link = tmp_path / "conf.d" / "default"
    target.parent.mkdir()
    os.symlink("/nowhere", link)
    uid, gid = os.getuid(), os.getgid()
    host = LocalHost(run=lambda argv: (1, "", "nginx: [emerg] no") if argv[0] == "nginx" else (0, "", ""))
    result = apply(
        host,
        [FileSpec(str(target), "password\n", owner=str(uid), group=str(gid), mode=0o600, secret=True)],
        owned_dirs=[str(target.parent)],
        validate=["nginx", "-t"],
    )
    assert result.failed_stage == "validate"
    assert not target.exists()
    assert os.readlink(link) == "/nowhere"
    assert [p.name for p in target.parent.iterdir()] == ["default"]  # no temporary files left

    host = LocalHost(run=lambda argv: (0, "", ""))
    result = apply(
        host,
        [FileSpec(str(target), "password\n", owner=str(uid), group=str(gid), mode=0o600, secret=True)],
        owned_dirs=[str(target.parent)],
        validate=["nginx", "-t"],
    )
    assert result.changed and not result.failed
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text() == "password\n"
    assert not link.exists() and not os.path.islink(link)
    again = apply(
        host,
        [FileSpec(str(target), "password\n", owner=str(uid), group=str(gid), mode=0o600, secret=True)],
        owned_dirs=[str(target.parent)],
    )
    assert not again.changed


def test_local_host_rewrites_a_mounted_file_in_place(tmp_path, monkeypatch):
    """A file mounted over its path (a container's /etc/resolv.conf) cannot be replaced by a
    rename: it is rewritten in place, a shorter content truncating the old one."""
    target = tmp_path / "resolv.conf"
    target.write_text("nameserver 192.0.2.53\nsearch a.example b.example c.example\n")
    inode = target.stat().st_ino
    monkeypatch.setattr(os.path, "ismount", lambda path: str(path) == str(target))
    uid, gid = os.getuid(), os.getgid()
    host = LocalHost(run=lambda argv: (0, "", ""))
    result = apply(
        host, [FileSpec(str(target), "nameserver 127.0.0.1\n", owner=str(uid), group=str(gid), mode=0o644)]
    )
    assert result.changed and not result.failed
    assert target.read_text() == "nameserver 127.0.0.1\n"
    assert target.stat().st_ino == inode
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["resolv.conf"]  # no temporary file, no backup left


def test_local_host_probe_retries_until_the_timeout():
    clock = iter([0, 0, 1, 2, 3, 11, 12])
    host = LocalHost(run=None, sleep=lambda s: None, clock=lambda: next(clock))
    ok, detail = host.probe({"tcp_port": 1, "host": "127.0.0.1", "timeout": 10})
    assert not ok and "127.0.0.1:1" in detail


@pytest.mark.parametrize(
    ("spec", "expected"),
    [({"timeout": 60}, 5.0), ({"timeout": 0.2}, 1.0), ({"timeout": 60, "request_timeout": 12}, 12.0)],
)
def test_one_attempt_of_the_probe_waits_request_timeout_or_up_to_five_seconds(monkeypatch, spec, expected):
    seen = []
    monkeypatch.setattr(
        "ansible_collections.groundwork.server.plugins.module_utils._service_config.host.probe_url",
        lambda given, timeout: seen.append(timeout) or (True, "answered 200"),
    )
    assert LocalHost(run=None).probe({"url": "http://127.0.0.1:8000/healthz", **spec}) == (
        True,
        "answered 200",
    )
    assert seen == [expected]


def test_local_host_tcp_probe_succeeds_on_a_listening_port():
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        ok, _detail = LocalHost(run=None).probe({"tcp_port": port, "host": "127.0.0.1", "timeout": 2})
    assert ok


def test_local_host_links_relative_targets_verbatim_and_restores_files_and_links(tmp_path):
    available, enabled = tmp_path / "mods-available", tmp_path / "mods-enabled"
    available.mkdir()
    enabled.mkdir()
    (available / "ssl.load").write_text("LoadModule ssl_module x.so\n")
    ssl_load, ssl_conf, status = enabled / "ssl.load", enabled / "ssl.conf", enabled / "status.conf"
    ssl_load.write_text("a file where a link belongs\n")
    os.symlink("../mods-available/old-ssl.conf", ssl_conf)
    os.symlink("../mods-available/status.conf", status)
    uid, gid = os.getuid(), os.getgid()
    files = [
        FileSpec(str(ssl_load), state="link", src="../mods-available/ssl.load"),
        FileSpec(str(ssl_conf), state="link", src="../mods-available/ssl.conf"),
        FileSpec(str(enabled / "new.load"), state="link", src="../mods-available/new.load"),
        FileSpec(str(status), "ExtendedStatus On\n", owner=str(uid), group=str(gid)),
    ]

    def listing():
        return sorted(p.name for p in enabled.iterdir())

    failing = LocalHost(run=lambda argv: (1, "", "AH00526: Syntax error"))
    result = apply(failing, files, owned_dirs=[str(enabled)], validate=["apache2ctl", "configtest"])
    assert result.failed_stage == "validate" and result.restored
    assert not ssl_load.is_symlink() and ssl_load.read_text() == "a file where a link belongs\n"
    assert os.readlink(ssl_conf) == "../mods-available/old-ssl.conf"
    assert os.readlink(status) == "../mods-available/status.conf"
    assert listing() == ["ssl.conf", "ssl.load", "status.conf"]  # nothing new, no temporary links

    host = LocalHost(run=lambda argv: (0, "", ""))
    result = apply(host, files, owned_dirs=[str(enabled)], validate=["apache2ctl", "configtest"])
    assert result.changed and not result.failed
    assert os.readlink(ssl_load) == "../mods-available/ssl.load"  # verbatim, still relative
    assert ssl_load.read_text() == "LoadModule ssl_module x.so\n"  # resolves from its directory
    assert os.readlink(ssl_conf) == "../mods-available/ssl.conf"
    assert os.readlink(enabled / "new.load") == "../mods-available/new.load"  # dangling is allowed
    assert not status.is_symlink() and status.read_text() == "ExtendedStatus On\n"
    assert listing() == ["new.load", "ssl.conf", "ssl.load", "status.conf"]

    again = apply(host, files, owned_dirs=[str(enabled)], check_mode=True)
    assert not again.changed

    # A link replaced by a file and a file by a link, undone on the real host.
    swapped = [
        FileSpec(str(ssl_load), "not a link any more\n", owner=str(uid), group=str(gid)),
        FileSpec(str(status), state="link", src="../mods-available/status.conf"),
    ]
    result = apply(failing, swapped, validate=["apache2ctl", "configtest"])
    assert result.failed_stage == "validate" and result.restored
    assert os.readlink(ssl_load) == "../mods-available/ssl.load"
    assert not status.is_symlink() and status.read_text() == "ExtendedStatus On\n"


def test_local_host_symlink_over_a_directory_fails_and_leaves_no_temporary_link(tmp_path):
    (tmp_path / "conf.d").mkdir()
    host = LocalHost(run=lambda argv: (0, "", ""))
    result = apply(host, [FileSpec(str(tmp_path / "conf.d"), state="link", src="elsewhere")])
    assert result.failed_stage == "write" and result.restored
    assert (tmp_path / "conf.d").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conf.d"]


# --- a restart the reload was not enough for (restart_check) --------------------------------

PENDING = ["psql", "-Atc", "SELECT name FROM pg_settings WHERE pending_restart"]
RELOAD = ["systemctl", "reload-or-restart", "nginx.service"]
RESTART = ["systemctl", "restart", "nginx.service"]


def test_a_reload_that_leaves_nothing_waiting_is_not_followed_by_a_restart():
    host = FakeHost(OLD)
    result = run(host, restart_check=PENDING)
    assert host.commands == [NGINX_T, RELOAD, PENDING]
    assert result.activated and not result.restarted and not result.failed


def test_settings_waiting_for_a_restart_get_it_in_the_same_transaction_before_the_probe():
    host = FakeHost(OLD)
    host.results[tuple(PENDING)] = [(0, "max_connections\nshared_buffers\n", "")]
    result = run(host, restart_check=PENDING, probe={"url": "http://127.0.0.1/"})
    assert host.commands == [NGINX_T, RELOAD, PENDING, RESTART]
    assert result.restarted and not result.failed
    assert "restarted (for max_connections, shared_buffers)" in result.msg


def test_no_restart_check_after_a_failed_reload_or_with_another_activation():
    host = FakeHost(OLD)
    host.results[tuple(RELOAD)] = [(1, "", "reload failed")]
    run(host, restart_check=PENDING)
    assert PENDING not in host.commands
    for activate in ("restart", "none"):
        host = FakeHost(OLD)
        run(host, restart_check=PENDING, activate=activate)
        assert PENDING not in host.commands


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ({tuple(PENDING): [(2, "", "could not connect")]}, "could not connect"),
        (
            {tuple(PENDING): [(0, "max_connections\n", "")], tuple(RESTART): [(1, "", "start failed")]},
            "a restart was needed for max_connections",
        ),
    ],
)
def test_a_failed_check_or_restart_restores_the_files_and_the_service(results, message):
    host = FakeHost(OLD)
    host.results.update(results)
    result = run(host, restart_check=PENDING)
    assert result.failed and result.failed_stage == "activate"
    assert host.files == OLD
    assert host.commands[-1] == RELOAD  # not restarted: a reload brings back the old files
    assert message in result.msg and result.restored


def test_a_failed_probe_after_the_restart_restarts_on_the_old_files():
    host = FakeHost(OLD)
    host.results[tuple(PENDING)] = [(0, "max_connections\n", "")]
    host.probes = [(False, "nothing accepts connections on 127.0.0.1:5432")]
    result = run(host, restart_check=PENDING, probe={"tcp_port": 5432})
    assert result.failed_stage == "probe" and result.restored
    assert host.files == OLD
    # a reload would keep the new restart-only settings running
    assert host.commands[-1] == RESTART


# --- a unit change written before the transaction (daemon_reload) --------------------------

DAEMON_RELOAD = ["systemctl", "daemon-reload"]


def test_daemon_reload_comes_after_the_check_and_before_the_restart():
    host = FakeHost(OLD)
    result = run(host, activate="restart", daemon_reload=True)
    assert host.commands == [NGINX_T, DAEMON_RELOAD, RESTART]
    assert result.activated and not result.failed


@pytest.mark.parametrize(("activate", "service"), [("none", "nginx.service"), ("restart", None)])
def test_no_daemon_reload_without_an_activation(activate, service):
    host = FakeHost(OLD)
    run(host, activate=activate, daemon_reload=True, service=service)
    assert DAEMON_RELOAD not in host.commands


def test_no_daemon_reload_when_nothing_changes_or_the_check_rejects():
    host = FakeHost({"/etc/nginx/nginx.conf": state("worker_processes auto;\n")})
    same = [FileSpec("/etc/nginx/nginx.conf", "worker_processes auto;\n")]
    run(host, same, activate="restart", daemon_reload=True)
    assert host.commands == []
    host = FakeHost(OLD)
    host.results[tuple(NGINX_T)] = [(1, "", "bad")]
    run(host, activate="restart", daemon_reload=True)
    assert DAEMON_RELOAD not in host.commands


def test_a_failed_daemon_reload_restores_the_files_and_leaves_the_service_alone():
    host = FakeHost(OLD)
    host.results[tuple(DAEMON_RELOAD)] = [(1, "", "bus error")]
    result = run(host, activate="restart", daemon_reload=True)
    assert result.failed and result.failed_stage == "activate" and host.files == OLD
    assert "daemon-reload failed: bus error" in result.msg
    # the service never ran the new files: nothing to bring back
    assert host.commands == [NGINX_T, DAEMON_RELOAD]


# --- the unit among the files: a failure returns the service to its old unit ------------

RESET = ["systemctl", "reset-failed", "nginx.service"]
STOP = ["systemctl", "stop", "nginx.service"]


def test_a_failed_probe_after_daemon_reload_reads_the_old_unit_before_restarting_it():
    host = FakeHost(OLD)
    host.probes = [(False, "GET http://127.0.0.1:8000/healthz failed: connection refused")]
    result = run(host, activate="restart", daemon_reload=True, probe={"url": "http://127.0.0.1:8000/healthz"})
    assert result.failed_stage == "probe" and result.restored and not result.changed
    assert host.files == OLD
    # the restored unit is read again, the start limit a crash loop reached is cleared, then the restart
    assert host.commands == [NGINX_T, DAEMON_RELOAD, RESTART, DAEMON_RELOAD, RESET, RESTART]
    assert "runs them again" in result.msg


def test_a_failed_restart_of_a_service_that_was_not_running_stops_it_and_forgets_the_new_unit():
    host = FakeHost(OLD, active=False)
    host.results[tuple(RESTART)] = [(1, "", "Job for nginx.service failed.")]
    result = run(host, activate="restart", daemon_reload=True)
    assert result.failed_stage == "activate" and result.restored
    assert host.files == OLD
    assert host.commands == [NGINX_T, DAEMON_RELOAD, RESTART, STOP, DAEMON_RELOAD]
    assert "stopped again" in result.msg


def test_a_failed_daemon_reload_after_the_restore_is_reported():
    host = FakeHost(OLD)
    host.probes = [(False, "refused")]
    host.results[tuple(DAEMON_RELOAD)] = [(0, "", ""), (1, "", "bus error")]
    result = run(host, activate="restart", daemon_reload=True, probe={"tcp_port": 80})
    assert result.failed and result.restored is False and result.changed
    assert "returning nginx.service to them failed: systemctl daemon-reload failed: bus error" in result.msg
    # never restarted on the old files with the new unit still loaded
    assert host.commands == [NGINX_T, DAEMON_RELOAD, RESTART, DAEMON_RELOAD]


def test_a_reload_is_not_preceded_by_a_reset_of_the_start_limit():
    host = FakeHost(OLD)
    host.probes = [(False, "refused")]
    run(host, probe={"tcp_port": 80})
    assert RESET not in host.commands
