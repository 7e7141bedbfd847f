# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""upstream_server: marking servers down in upstream blocks, and the transaction around it."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._service_config.host import LocalHost
from ansible_collections.groundwork.server.plugins.module_utils._upstream.core import mark
from ansible_collections.groundwork.server.plugins.module_utils._upstream.host import (
    apply_mark,
    config_files,
    old_workers,
    wait_for_old_workers,
)

CONF = """\
# managed
upstream shop {
    zone shop 64k;
    server app1:8000 max_fails=3 fail_timeout=10s;
    server app2:8000 max_fails=3 fail_timeout=10s;
    keepalive 16;
}

upstream admin {
    server app1:8000;
}

upstream spare {
    server app1:8000;
    server app9:8000 backup;
}

server {
    listen 80;
    server app1:8000;
}
"""


def test_drain_marks_only_upstream_lines_and_keeps_the_last_server():
    result = mark(CONF, "app1:8000", drained=True)
    assert "    server app1:8000 max_fails=3 fail_timeout=10s down;" in result.text
    assert "    server app2:8000 max_fails=3 fail_timeout=10s;" in result.text
    # admin has no other server and spare only a backup: left serving
    assert "upstream admin {\n    server app1:8000;\n}" in result.text
    assert "upstream spare {\n    server app1:8000;\n" in result.text
    assert result.found == ["shop", "admin", "spare"]
    assert result.changed == ["shop"]
    assert result.kept == ["admin", "spare"]
    # the server block's line with the same words is not an upstream
    assert result.text.endswith("    listen 80;\n    server app1:8000;\n}\n")


@pytest.mark.parametrize("drained", [True, False])
def test_marking_twice_changes_nothing_the_second_time(drained):
    once = mark(CONF, "app2:8000", drained)
    twice = mark(once.text, "app2:8000", drained)
    assert twice.text == once.text
    assert twice.changed == []


def test_active_removes_down_and_restores_the_original_text():
    drained = mark(CONF, "app1:8000", drained=True).text
    back = mark(drained, "app1:8000", drained=False)
    assert back.text == CONF
    assert back.changed == ["shop"]


def test_unknown_server_and_similar_addresses_are_not_touched():
    result = mark(CONF, "app1:800", drained=True)
    assert result.text == CONF
    assert result.found == []


def test_trailing_comment_and_tabs_survive():
    text = "upstream a {\n\tserver x:1 weight=2; # first\n\tserver y:1;\n}\n"
    result = mark(text, "x:1", drained=True)
    assert result.text == "upstream a {\n\tserver x:1 weight=2 down; # first\n\tserver y:1;\n}\n"


def test_other_server_already_down_counts_as_not_serving():
    text = "upstream a {\n    server x:1;\n    server y:1 down;\n}\n"
    result = mark(text, "x:1", drained=True)
    assert result.kept == ["a"]
    assert result.text == text


class Runner:
    def __init__(self, results=None):
        self.commands = []
        self.results = results or {}

    def __call__(self, argv, **_kwargs):
        self.commands.append(list(argv))
        return self.results.get(tuple(argv), (0, "", ""))


@pytest.fixture
def confdir(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "sites").mkdir()
    (tmp_path / "conf.d" / "groundwork.conf").write_text(CONF)
    (tmp_path / "conf.d" / "notes.txt").write_text(CONF)
    (tmp_path / "sites" / "site.conf").write_text("server { listen 80; }\n")
    return tmp_path


def paths(root):
    return [str(root / "conf.d"), str(root / "sites"), str(root / "missing")]


def test_config_files_lists_conf_files_only(confdir):
    assert config_files(paths(confdir)) == [
        str(confdir / "conf.d" / "groundwork.conf"),
        str(confdir / "sites" / "site.conf"),
    ]


def test_drain_applies_validates_reloads_and_waits(confdir):
    runner, waits = Runner(), []
    outcome = apply_mark(
        runner, paths(confdir), "app1:8000", True, 7, False, waiter=lambda w: waits.append(w) or 1.5
    )
    assert outcome["changed"] and not outcome["failed"]
    assert outcome["files_changed"] == [str(confdir / "conf.d" / "groundwork.conf")]
    assert (
        "app1:8000 max_fails=3 fail_timeout=10s down;" in (confdir / "conf.d" / "groundwork.conf").read_text()
    )
    assert ["/usr/sbin/nginx", "-t", "-q"] in runner.commands
    assert ["systemctl", "reload-or-restart", "nginx.service"] in runner.commands
    assert waits == [7] and outcome["waited"] == 1.5
    assert outcome["kept"] == ["admin", "spare"]


def test_already_drained_is_a_no_op_without_commands(confdir):
    apply_mark(Runner(), paths(confdir), "app1:8000", True, 0, False, waiter=lambda w: 0)
    runner = Runner()
    outcome = apply_mark(runner, paths(confdir), "app1:8000", True, 0, False, waiter=lambda w: 0)
    assert not outcome["changed"]
    assert runner.commands == []
    assert outcome["msg"] == "app1:8000 is already drained"


def test_check_mode_reports_and_touches_nothing(confdir):
    runner = Runner()
    outcome = apply_mark(
        runner, paths(confdir), "app2:8000", True, 0, True, waiter=lambda w: pytest.fail("waited")
    )
    assert outcome["changed"]
    assert outcome["diff"] and "down;" in outcome["diff"][0]["after"]
    assert (confdir / "conf.d" / "groundwork.conf").read_text() == CONF
    assert runner.commands == []


def test_rejected_config_restores_the_file_and_fails(confdir):
    runner = Runner({("/usr/sbin/nginx", "-t", "-q"): (1, "", "nginx: [emerg] host not found")})
    outcome = apply_mark(runner, paths(confdir), "app1:8000", True, 0, False, waiter=lambda w: 0)
    assert outcome["failed"]
    assert "host not found" in outcome["msg"]
    assert (confdir / "conf.d" / "groundwork.conf").read_text() == CONF
    assert ["systemctl", "reload-or-restart", "nginx.service"] not in runner.commands


def test_unknown_server_reports_nothing_to_do(confdir):
    outcome = apply_mark(Runner(), paths(confdir), "nowhere:1", True, 0, False)
    assert not outcome["changed"]
    assert outcome["msg"] == "no upstream names nowhere:1; nothing to do"


def test_old_workers_counts_shutting_down_processes(tmp_path):
    for pid, title in (("1", b"nginx: master process"), ("2", b"nginx: worker process is shutting down")):
        (tmp_path / pid).mkdir()
        (tmp_path / pid / "cmdline").write_bytes(title)
    (tmp_path / "self").mkdir()
    (tmp_path / "3").mkdir()  # vanished process: no cmdline
    assert old_workers(str(tmp_path)) == 1


def test_wait_stops_when_workers_are_gone_or_time_is_up():
    clock = iter(range(100))
    counts = iter([2, 1, 0])
    waited = wait_for_old_workers(
        10, sleep=lambda s: None, clock=lambda: next(clock), count=lambda: next(counts)
    )
    assert waited == 3
    clock = iter(range(100))
    waited = wait_for_old_workers(5, sleep=lambda s: None, clock=lambda: next(clock), count=lambda: 1)
    assert waited == 6


def test_local_host_is_used_by_default(confdir, monkeypatch):
    seen = []
    monkeypatch.setattr(LocalHost, "is_active", lambda self, service: seen.append(service) or True)
    apply_mark(Runner(), paths(confdir), "app2:8000", True, 0, False, waiter=lambda w: 0)
    assert seen == ["nginx.service"]


# --- one edit at a time on a host (upstream_server takes the lock around apply_mark) ---------


def test_the_lock_makes_a_second_holder_wait_until_the_first_lets_go(tmp_path):
    import threading

    from ansible_collections.groundwork.server.plugins.module_utils._upstream.host import exclusive

    path = str(tmp_path / "upstream.lock")
    order = []
    first_holds = threading.Event()
    second_tried = threading.Event()

    def second():
        second_tried.set()
        with exclusive(path):
            order.append("second")

    with exclusive(path):
        first_holds.set()
        thread = threading.Thread(target=second)
        thread.start()
        second_tried.wait(5)
        thread.join(0.3)
        # still waiting: the first holder has not let go
        assert thread.is_alive()
        order.append("first")
    thread.join(5)
    assert not thread.is_alive()
    assert order == ["first", "second"]
    assert (tmp_path / "upstream.lock").stat().st_mode & 0o777 == 0o600


def test_the_lock_is_released_when_the_block_fails(tmp_path):
    from ansible_collections.groundwork.server.plugins.module_utils._upstream.host import exclusive

    path = str(tmp_path / "upstream.lock")
    try:
        with exclusive(path):
            raise RuntimeError("apply failed")
    except RuntimeError:
        pass
    import fcntl
    import os

    descriptor = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(descriptor)
