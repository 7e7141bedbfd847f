# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""upstream_server on Apache: status=+D on balancer members, detection, the wait."""

from __future__ import annotations

import http.server
import threading

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._upstream import host
from ansible_collections.groundwork.server.plugins.module_utils._upstream.core import mark_apache
from ansible_collections.groundwork.server.plugins.module_utils._upstream.host import (
    APACHE,
    NGINX,
    apache_generation,
    apply_mark,
    detect,
    parse_status,
    read_status,
    validate_command,
    wait_for_apache,
)

# As groundwork.server.apache renders them.
CONF = """\
ProxyRequests Off

<Proxy "balancer://app">
    BalancerMember "http://10.0.0.5:8000" retry=10 connectiontimeout=5 timeout=60 ttl=60
    BalancerMember "http://10.0.0.6:8000" loadfactor=3 retry=10 connectiontimeout=5 timeout=60 ttl=60
    BalancerMember "http://10.0.0.7:8000" retry=10 connectiontimeout=5 timeout=60 ttl=60 status=+H
    ProxySet lbmethod=byrequests maxattempts=1
</Proxy>

<Proxy "balancer://admin">
    BalancerMember "http://10.0.0.5:8000" retry=10 hcmethod=GET hcuri=/health hcinterval=5 hcpasses=1
    BalancerMember "http://10.0.0.7:8000" retry=10 status=+H
    ProxySet lbmethod=byrequests maxattempts=0
</Proxy>
"""

MEMBER = '    BalancerMember "http://10.0.0.5:8000" retry=10'
OTHER = '    BalancerMember "http://10.0.0.6:8000" retry=10'


def balancer(*members, name="app"):
    return "\n".join([f'<Proxy "balancer://{name}">', *members, "</Proxy>", ""])


MARKING = [
    pytest.param(
        balancer(MEMBER, OTHER),
        True,
        balancer(MEMBER + " status=+D", OTHER),
        ["app"],
        [],
        id="drain",
    ),
    pytest.param(
        balancer(MEMBER + " status=+D", OTHER),
        True,
        balancer(MEMBER + " status=+D", OTHER),
        [],
        [],
        id="already drained",
    ),
    pytest.param(
        balancer(MEMBER + " Status=+d", OTHER),
        True,
        balancer(MEMBER + " Status=+d", OTHER),
        [],
        [],
        id="already drained, any case",
    ),
    pytest.param(
        balancer(MEMBER + " status=+D", OTHER),
        False,
        balancer(MEMBER, OTHER),
        ["app"],
        [],
        id="restore",
    ),
    pytest.param(
        balancer(MEMBER, OTHER),
        False,
        balancer(MEMBER, OTHER),
        [],
        [],
        id="already active",
    ),
    pytest.param(
        balancer(MEMBER + " status=+H", OTHER),
        True,
        balancer(MEMBER + " status=+H+D", OTHER),
        ["app"],
        [],
        id="backup drained keeps +H in the same status parameter",
    ),
    pytest.param(
        balancer(MEMBER + " status=+H+D", OTHER),
        False,
        balancer(MEMBER + " status=+H", OTHER),
        ["app"],
        [],
        id="backup restored keeps +H",
    ),
    pytest.param(
        balancer(MEMBER + " status=+D+H", OTHER),
        False,
        balancer(MEMBER + " status=+H", OTHER),
        ["app"],
        [],
        id="restore passes the sign on",
    ),
    pytest.param(
        balancer(MEMBER + " status=HD", OTHER),
        False,
        balancer(MEMBER + " status=H", OTHER),
        ["app"],
        [],
        id="restore of bare flags",
    ),
    pytest.param(
        balancer(MEMBER + " status=+H status=+D", OTHER),
        False,
        balancer(MEMBER + " status=+H", OTHER),
        ["app"],
        [],
        id="the last status parameter counts, as in Apache",
    ),
    pytest.param(
        balancer(MEMBER, OTHER + " status=+H"),
        True,
        balancer(MEMBER, OTHER + " status=+H"),
        [],
        ["app"],
        id="last serving member kept: the other is a hot standby",
    ),
    pytest.param(
        balancer(MEMBER, OTHER + " status=+D"),
        True,
        balancer(MEMBER, OTHER + " status=+D"),
        [],
        ["app"],
        id="last serving member kept: the other is drained",
    ),
    pytest.param(
        balancer(MEMBER, OTHER + " status=S"),
        True,
        balancer(MEMBER, OTHER + " status=S"),
        [],
        ["app"],
        id="last serving member kept: the other is stopped",
    ),
    pytest.param(
        balancer(MEMBER, OTHER + " status=+H-H"),
        True,
        balancer(MEMBER + " status=+D", OTHER + " status=+H-H"),
        ["app"],
        [],
        id="a cleared flag serves",
    ),
    pytest.param(
        balancer(MEMBER),
        True,
        balancer(MEMBER),
        [],
        ["app"],
        id="only member kept",
    ),
    pytest.param(
        balancer(MEMBER, OTHER + " lbset=1"),
        True,
        balancer(MEMBER, OTHER + " lbset=1"),
        [],
        ["app"],
        id="a higher lbset stands in only like a backup",
    ),
    pytest.param(
        balancer(MEMBER + " lbset=1", OTHER),
        True,
        balancer(MEMBER + " lbset=1 status=+D", OTHER),
        ["app"],
        [],
        id="a higher lbset member drains while a lower one serves",
    ),
    pytest.param(
        balancer(MEMBER + " status=+H", OTHER + " status=+H"),
        True,
        balancer(MEMBER + " status=+H", OTHER + " status=+H"),
        [],
        ["app"],
        id="no serving member at all: left alone",
    ),
    pytest.param(
        balancer("    BalancerMember http://10.0.0.5:8000 retry=10", OTHER).replace(
            '"balancer://app"', "balancer://app"
        ),
        True,
        balancer("    BalancerMember http://10.0.0.5:8000 retry=10 status=+D", OTHER).replace(
            '"balancer://app"', "balancer://app"
        ),
        ["app"],
        [],
        id="unquoted URLs",
    ),
    pytest.param(
        balancer("\tbalancermember 'http://10.0.0.5:8000/app/' retry=10", OTHER).replace(
            '<Proxy "balancer://app">', "<proxy 'balancer://app/'>"
        ),
        True,
        balancer("\tbalancermember 'http://10.0.0.5:8000/app/' retry=10 status=+D", OTHER).replace(
            '<Proxy "balancer://app">', "<proxy 'balancer://app/'>"
        ),
        ["app"],
        [],
        id="single quotes, a path, lower case, tabs",
    ),
    pytest.param(
        balancer(MEMBER + " hcmethod=GET hcuri=/health hcexpr=ok upgrade=websocket", OTHER),
        True,
        balancer(MEMBER + " hcmethod=GET hcuri=/health hcexpr=ok upgrade=websocket status=+D", OTHER),
        ["app"],
        [],
        id="other parameters preserved",
    ),
    pytest.param(
        balancer(MEMBER + ' hcuri="/a b\\"c status=+D" ttl=60', OTHER),
        True,
        balancer(MEMBER + ' hcuri="/a b\\"c status=+D" ttl=60 status=+D', OTHER),
        ["app"],
        [],
        id="quoted parameter with an escaped quote",
    ),
    pytest.param(
        balancer(MEMBER + ' status="+H"', OTHER),
        True,
        balancer(MEMBER + ' status="+H+D"', OTHER),
        ["app"],
        [],
        id="quoted status value",
    ),
    pytest.param(
        balancer(MEMBER + " \\", "        hcmethod=GET hcuri=/health", OTHER),
        True,
        balancer(MEMBER + " \\", "        hcmethod=GET hcuri=/health status=+D", OTHER),
        ["app"],
        [],
        id="continued line",
    ),
    pytest.param(
        balancer(MEMBER + " \\", "        status=+D", OTHER),
        False,
        balancer(MEMBER + " \\", "", OTHER),
        ["app"],
        [],
        id="continued line restored",
    ),
    pytest.param(
        "BalancerMember balancer://app http://10.0.0.5:8000 retry=10\n"
        "BalancerMember balancer://app http://10.0.0.6:8000 retry=10\n",
        True,
        "BalancerMember balancer://app http://10.0.0.5:8000 retry=10 status=+D\n"
        "BalancerMember balancer://app http://10.0.0.6:8000 retry=10\n",
        ["app"],
        [],
        id="members outside a Proxy block name their balancer",
    ),
    pytest.param(
        balancer(MEMBER + "\r", OTHER + "\r"),
        True,
        balancer(MEMBER + " status=+D\r", OTHER + "\r"),
        ["app"],
        [],
        id="CRLF lines",
    ),
]


@pytest.mark.parametrize(("text", "drained", "expected", "changed", "kept"), MARKING)
def test_mark_apache(text, drained, expected, changed, kept):
    result = mark_apache(text, "10.0.0.5:8000", drained)
    assert result.text == expected
    assert result.changed == changed
    assert result.kept == kept
    assert result.found == ["app"]


@pytest.mark.parametrize("drained", [True, False])
def test_marking_twice_changes_nothing_the_second_time(drained):
    once = mark_apache(CONF, "10.0.0.6:8000", drained)
    twice = mark_apache(once.text, "10.0.0.6:8000", drained)
    assert twice.text == once.text
    assert twice.changed == []


def test_several_balancers_drain_restore_round_trip():
    drained = mark_apache(CONF, "10.0.0.5:8000", True)
    # app: 10.0.0.6 still serves; admin: only a hot standby is left, so it stays.
    assert drained.found == ["app", "admin"]
    assert drained.changed == ["app"]
    assert drained.kept == ["admin"]
    assert '"http://10.0.0.5:8000" retry=10 connectiontimeout=5 timeout=60 ttl=60 status=+D\n' in drained.text
    assert "hcmethod=GET hcuri=/health hcinterval=5 hcpasses=1\n" in drained.text
    back = mark_apache(drained.text, "10.0.0.5:8000", False)
    assert back.text == CONF
    assert back.changed == ["app"]


def test_a_backup_member_drains_and_returns_as_a_backup():
    drained = mark_apache(CONF, "10.0.0.7:8000", True)
    assert drained.changed == ["app", "admin"]
    assert drained.text.count("status=+H+D") == 2
    assert mark_apache(drained.text, "10.0.0.7:8000", False).text == CONF


def test_two_balancers_of_the_same_name_count_as_one():
    text = balancer(MEMBER) + balancer(OTHER)
    result = mark_apache(text, "10.0.0.5:8000", True)
    assert result.kept == []
    assert result.changed == ["app"]


@pytest.mark.parametrize(
    ("address", "url", "names"),
    [
        ("10.0.0.5:8000", "http://10.0.0.5:8000", True),
        ("10.0.0.5:8000", "http://10.0.0.5:8000/", True),
        ("10.0.0.5:800", "http://10.0.0.5:8000", False),
        ("10.0.0.5:8000", "http://10.0.0.55:8000", False),
        ("10.0.0.5:8000", "http://10.0.0.5:8001", False),
        ("App1.Example.net:8000", "http://app1.example.net:8000", True),
        ("app1:80", "http://app1", True),
        ("app1:443", "https://app1/", True),
        ("app1:80", "https://app1", False),
        ("[2001:db8::5]:8000", "http://[2001:db8::5]:8000", True),
        ("[2001:db8::5]:8000", "http://[2001:db8::6]:8000", False),
        ("localhost:80", "unix:/run/app.sock|http://localhost/", False),
        ("10.0.0.5:8000", "http://10.0.0.5:99999", False),
    ],
)
def test_which_urls_name_the_server(address, url, names):
    text = balancer(f'    BalancerMember "{url}" retry=10', OTHER)
    assert (mark_apache(text, address, True).found == ["app"]) is names


def test_lines_outside_balancers_and_comments_are_not_touched():
    text = (
        "# BalancerMember http://10.0.0.5:8000\n"
        '<Proxy "http://10.0.0.5:8000/*">\n'
        "    Require all granted\n"
        "</Proxy>\n"
        "BalancerMember http://10.0.0.5:8000\n"
        'ProxyPass "/" "http://10.0.0.5:8000/"\n'
        "<VirtualHost *:80>\n"
        '    ProxyPass "/" "balancer://app/"\n'
        "</VirtualHost>\n"
    )
    result = mark_apache(text, "10.0.0.5:8000", True)
    assert result.text == text
    assert result.found == []


def test_nginx_text_is_not_apache():
    text = "upstream app {\n    server 10.0.0.5:8000;\n    server 10.0.0.6:8000;\n}\n"
    assert mark_apache(text, "10.0.0.5:8000", True).found == []


# Detection and the transaction


@pytest.mark.parametrize(
    ("choice", "apache_conf", "expected"),
    [
        ("auto", True, APACHE),
        ("auto", False, NGINX),
        ("nginx", True, NGINX),
        ("apache", False, APACHE),
    ],
)
def test_detect(choice, apache_conf, expected):
    seen = []

    def exists(path):
        seen.append(path)
        return apache_conf

    assert detect(choice, exists=exists) is expected
    assert seen == (["/etc/apache2/conf-enabled/groundwork.conf"] if choice == "auto" else [])


@pytest.mark.parametrize(
    ("web", "check_installed", "expected"),
    [
        (APACHE, True, ["/usr/bin/python3", "/etc/apache2/groundwork/check"]),
        (APACHE, False, ["/usr/sbin/apache2ctl", "-t"]),
        (NGINX, False, ["/usr/sbin/nginx", "-t", "-q"]),
    ],
)
def test_validate_command(web, check_installed, expected):
    assert validate_command(web, exists=lambda path: check_installed) == expected


def test_apache_profile():
    assert APACHE.paths == ("/etc/apache2/conf-enabled", "/etc/apache2/sites-enabled")
    assert APACHE.service == "apache2.service"


class Runner:
    def __init__(self, results=None):
        self.commands = []
        self.results = results or {}

    def __call__(self, argv, **_kwargs):
        self.commands.append(list(argv))
        return self.results.get(tuple(argv), (0, "", ""))


CHECK = ("/usr/bin/python3", "/etc/apache2/groundwork/check")


@pytest.fixture
def apache_dirs(tmp_path, monkeypatch):
    (tmp_path / "conf-enabled").mkdir()
    (tmp_path / "sites-enabled").mkdir()
    (tmp_path / "conf-enabled" / "groundwork.conf").write_text(CONF)
    (tmp_path / "sites-enabled" / "shop.conf").write_text(
        '<VirtualHost *:80>\nProxyPass / "balancer://app/"\n'
    )
    monkeypatch.setattr(host, "validate_command", lambda web: list(web.validate))
    monkeypatch.setattr(host.LocalHost, "is_active", lambda self, service: True)
    return tmp_path


def dirs(root):
    return [str(root / "conf-enabled"), str(root / "sites-enabled")]


def test_drain_validates_reloads_and_waits_for_the_new_generation(apache_dirs, monkeypatch):
    calls = []

    def fake_wait(wait, generation, read):
        calls.append((wait, generation))
        return 2.5, ""

    monkeypatch.setattr(host, "wait_for_apache", fake_wait)
    runner = Runner()
    status = {"ParentServerMPMGeneration": "4", "RestartTime": "today", "Stopping": "0"}
    outcome = apply_mark(
        runner, dirs(apache_dirs), "10.0.0.5:8000", True, 9, False, web_server="apache", read=lambda: status
    )
    assert outcome["changed"] and not outcome["failed"], outcome["msg"]
    assert outcome["web_server"] == "apache"
    assert outcome["upstreams"] == ["app", "admin"]
    assert outcome["kept"] == ["admin"]
    assert outcome["files_changed"] == [str(apache_dirs / "conf-enabled" / "groundwork.conf")]
    assert "status=+D" in (apache_dirs / "conf-enabled" / "groundwork.conf").read_text()
    assert list(CHECK) in runner.commands
    assert ["systemctl", "reload-or-restart", "apache2.service"] in runner.commands
    # the generation was read before the reload and handed to the wait
    assert calls == [(9, ("today", "4"))]
    assert outcome["waited"] == 2.5
    assert outcome["warnings"] == []


def test_restore_does_not_wait(apache_dirs):
    apply_mark(
        Runner(), dirs(apache_dirs), "10.0.0.5:8000", True, 0, False, waiter=lambda w: 0, web_server="apache"
    )
    runner = Runner()
    outcome = apply_mark(
        runner,
        dirs(apache_dirs),
        "10.0.0.5:8000",
        False,
        5,
        False,
        waiter=lambda w: pytest.fail("waited"),
        web_server="apache",
        read=lambda: pytest.fail("read the status"),
    )
    assert outcome["changed"]
    assert (apache_dirs / "conf-enabled" / "groundwork.conf").read_text() == CONF
    assert ["systemctl", "reload-or-restart", "apache2.service"] in runner.commands


def test_a_note_of_the_wait_becomes_a_warning(apache_dirs):
    outcome = apply_mark(
        Runner(),
        dirs(apache_dirs),
        "10.0.0.6:8000",
        True,
        3,
        False,
        waiter=lambda w: (3.0, "status page could not be read"),
        web_server="apache",
    )
    assert outcome["waited"] == 3.0
    assert outcome["warnings"] == ["status page could not be read"]
    assert outcome["msg"].endswith("; status page could not be read")


def test_rejected_apache_config_is_restored(apache_dirs):
    runner = Runner({CHECK: (1, "", "AH00526: Syntax error on line 4")})
    outcome = apply_mark(
        runner, dirs(apache_dirs), "10.0.0.5:8000", True, 0, False, waiter=lambda w: 0, web_server="apache"
    )
    assert outcome["failed"]
    assert "AH00526" in outcome["msg"]
    assert (apache_dirs / "conf-enabled" / "groundwork.conf").read_text() == CONF
    assert ["systemctl", "reload-or-restart", "apache2.service"] not in runner.commands


def test_check_mode_reads_nothing_and_touches_nothing(apache_dirs):
    runner = Runner()
    outcome = apply_mark(
        runner,
        dirs(apache_dirs),
        "10.0.0.5:8000",
        True,
        0,
        True,
        web_server="apache",
        read=lambda: pytest.fail("read the status"),
    )
    assert outcome["changed"]
    assert "status=+D" in outcome["diff"][0]["after"]
    assert runner.commands == []


def test_unknown_member_reports_nothing_to_do(apache_dirs):
    outcome = apply_mark(Runner(), dirs(apache_dirs), "10.9.9.9:1", True, 0, False, web_server="apache")
    assert not outcome["changed"]
    assert outcome["msg"] == "no balancer names 10.9.9.9:1; nothing to do"


@pytest.mark.parametrize(
    ("web_server", "marker", "expected"),
    [
        ("apache", False, ["/etc/apache2/conf-enabled", "/etc/apache2/sites-enabled"]),
        ("nginx", True, ["/etc/nginx/conf.d", "/etc/nginx/sites-enabled"]),
        ("auto", True, ["/etc/apache2/conf-enabled", "/etc/apache2/sites-enabled"]),
        ("auto", False, ["/etc/nginx/conf.d", "/etc/nginx/sites-enabled"]),
    ],
)
def test_default_paths_follow_the_web_server(monkeypatch, web_server, marker, expected):
    searched = []
    monkeypatch.setattr(host.os.path, "exists", lambda path: marker)
    monkeypatch.setattr(host, "config_files", lambda paths: searched.append(paths) or [])
    outcome = apply_mark(Runner(), None, "10.0.0.5:8000", True, 0, False, web_server=web_server)
    assert searched == [expected]
    assert outcome["web_server"] == ("apache" if "/etc/apache2" in expected[0] else "nginx")


# The wait


class Clock:
    """Time that passes only when the code sleeps (or a status request takes a while)."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def reader(*pages, clock=None):
    """A status reader answering the pages in turn (the last one repeats); an exception in
    the list is raised."""
    answers = list(pages)

    def read():
        page = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(page, Exception):
            raise page
        return page

    return read


def page(generation, stopping, graceful=0, restart="t0"):
    return {
        "RestartTime": restart,
        "ParentServerMPMGeneration": str(generation),
        "Stopping": str(stopping),
        "GracefulWorkers": str(graceful),
    }


@pytest.mark.parametrize(
    ("pages", "generation", "wait", "waited", "note"),
    [
        pytest.param([page(5, 0)], ("t0", "4"), 15, 0.5, "", id="new generation, nothing old: done"),
        pytest.param(
            [page(5, 2), page(5, 1), page(5, 0)], ("t0", "4"), 15, 0.9, "", id="old processes finish"
        ),
        pytest.param(
            [page(5, 0, graceful=3), page(5, 0, graceful=0)], ("t0", "4"), 15, 0.7, "", id="graceful workers"
        ),
        pytest.param(
            [page(4, 0), page(4, 0), page(5, 1), page(5, 0)],
            ("t0", "4"),
            15,
            1.1,
            "",
            id="reload not yet taken effect: keep polling",
        ),
        pytest.param([page(0, 0, restart="t1")], ("t0", "4"), 15, 0.5, "", id="a restart counts as new"),
        pytest.param([page(5, 0)], None, 15, 0.5, "", id="generation unknown before"),
        pytest.param(
            [page(5, 1)],
            ("t0", "4"),
            2,
            2.1,
            "Apache's old processes were still finishing requests after 2 s",
            id="time is up",
        ),
        pytest.param(
            [page(4, 0)],
            ("t0", "4"),
            2,
            2.1,
            "Apache's reload had not taken effect after 2 s",
            id="time is up, no new generation",
        ),
    ],
)
def test_wait_for_apache(pages, generation, wait, waited, note):
    clock = Clock()
    seconds, said = wait_for_apache(wait, generation, sleep=clock.sleep, clock=clock, read=reader(*pages))
    assert seconds == waited
    assert said == note
    assert clock.sleeps[0] == 0.5


@pytest.mark.parametrize(
    ("pages", "wait", "waited"),
    [
        pytest.param([ConnectionRefusedError(111, "Connection refused")], 15, 5.0, id="refused"),
        pytest.param([OSError("HTTP Error 403: Forbidden")], 3, 3.0, id="forbidden, short wait"),
        pytest.param([{"Total Accesses": "1"}], 15, 5.0, id="page without the counts"),
        pytest.param([{"Stopping": "many"}], 15, 5.0, id="garbage"),
        pytest.param([page(5, 1), OSError("gone")], 15, 5.0, id="lost during the wait"),
    ],
)
def test_wait_for_apache_falls_back_to_a_fixed_wait(pages, wait, waited):
    clock = Clock()
    seconds, said = wait_for_apache(wait, ("t0", "4"), sleep=clock.sleep, clock=clock, read=reader(*pages))
    assert seconds == waited
    assert said.startswith("Apache's status page http://127.0.0.1/server-status?auto could not be read (")
    assert said.endswith(f"waited a fixed {min(wait, 5):g} s for the old processes instead")


def test_wait_for_apache_counts_the_prefork_page_without_stopping():
    clock = Clock()
    pages = [
        {"ParentServerMPMGeneration": "5", "GracefulWorkers": "1"},
        {"ParentServerMPMGeneration": "5", "GracefulWorkers": "0"},
    ]
    assert wait_for_apache(9, ("", "4"), sleep=clock.sleep, clock=clock, read=reader(*pages)) == (0.7, "")


STATUS_PAGE = """\
ServerVersion: Apache/2.4.62 (Debian)
ServerMPM: event
RestartTime: Thursday, 03-Dec-2026 12:25:16 UTC
ParentServerConfigGeneration: 6
ParentServerMPMGeneration: 5
BusyWorkers: 1
GracefulWorkers: 0
Stopping: 0
Scoreboard: W___...
ProxyBalancer[0]Worker[0]Name: http://127.0.0.1:8001
"""


def test_parse_status():
    status = parse_status(STATUS_PAGE)
    assert status["Stopping"] == "0"
    assert status["ParentServerMPMGeneration"] == "5"
    assert status["RestartTime"] == "Thursday, 03-Dec-2026 12:25:16 UTC"
    assert status["ProxyBalancer[0]Worker[0]Name"] == "http://127.0.0.1:8001"


def test_apache_generation():
    assert apache_generation(lambda: parse_status(STATUS_PAGE)) == ("Thursday, 03-Dec-2026 12:25:16 UTC", "5")
    assert apache_generation(lambda: {"Stopping": "0"}) is None

    def refused():
        raise ConnectionRefusedError(111, "Connection refused")

    assert apache_generation(refused) is None


@pytest.fixture
def status_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = STATUS_PAGE.encode() if self.path == "/server-status?auto" else b"no"
            self.send_response(200 if self.path == "/server-status?auto" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_read_status_goes_straight_to_the_loopback_address(status_server, monkeypatch):
    # a proxy from the environment would not reach the balancer's loopback address
    monkeypatch.setenv("http_proxy", "http://192.0.2.1:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://192.0.2.1:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert read_status(status_server + "/server-status?auto", timeout=5)["Stopping"] == "0"
    with pytest.raises(OSError, match="404"):
        read_status(status_server + "/other", timeout=5)


def test_a_drain_kept_everywhere_says_so(apache_dirs):
    text = balancer(MEMBER, OTHER + " status=+H")
    (apache_dirs / "conf-enabled" / "groundwork.conf").write_text(text)
    runner = Runner()
    outcome = apply_mark(runner, dirs(apache_dirs), "10.0.0.5:8000", True, 0, False, web_server="apache")
    assert not outcome["changed"]
    assert outcome["kept"] == ["app"]
    assert outcome["msg"] == "10.0.0.5:8000 stays: it is the last serving server of app"
    assert runner.commands == []
