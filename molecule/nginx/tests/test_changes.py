# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changed input: refused before anything changes, rolled back, or applied with removals."""

from __future__ import annotations

import pytest
from conftest import recap_changed, run_playbook, site_variables, snapshot, testlib
from weblib import diff_lines, responses

testinfra_hosts = ["ansible://nginx-proxy"]


def with_site(index, **changes):
    variables = site_variables()
    variables["nginx_sites"][index].update(changes)
    return variables


def with_upstream(index, **changes):
    variables = site_variables()
    variables["nginx_upstreams"][index].update(changes)
    return variables


CASES = {
    "unknown certificate": (
        with_site(0, tls={"certificate": "www"}),
        "nginx_sites[0] (shop): tls.certificate 'www' is not a known certificate (known: 'shop')",
    ),
    "unknown upstream": (
        with_site(0, upstream="api"),
        "nginx_sites[0] (shop): upstream 'api' is not a known upstream (known: 'app', 'echo')",
    ),
    "duplicate server name on a port": (
        with_site(1, server_names=["www.shop.test"]),
        "nginx_sites[1] (admin): server_names 'www.shop.test' is already served on port 80"
        " by nginx_sites[0] (shop)",
    ),
    "port out of range": (
        with_site(1, port=70000),
        "nginx_sites[1] (admin): port 70000 is out of range",
    ),
    "header value with a line break": (
        with_site(0, headers={"X-Test": "a\nb"}),
        "nginx_sites[0] (shop): headers.X-Test 'a\\nb' must not contain control characters",
    ),
    "header value with a brace": (
        with_site(0, headers={"X-Test": "a}b"}),
        "nginx_sites[0] (shop): headers.X-Test 'a}b' must not contain control characters",
    ),
    "invalid server name": (
        with_site(1, server_names=["admin_test!"]),
        "nginx_sites[1] (admin): server_names[0] 'admin_test!' is not a valid host name",
    ),
    "typo in a key (argument spec)": (
        with_site(1, server_name=["admin.test"]),
        "server_name",
    ),
    "active health checks (a feature nginx does not render)": (
        with_upstream(0, health_check={"path": "/"}),
        "nginx_upstreams[0] (app): health_check {'path': '/', 'interval': '10s', 'status': 200}"
        " is not rendered by groundwork.server.nginx (feature active_health_check; it renders: static,",
    ),
    "unknown group in an upstream": (
        with_upstream(0, servers=[{"group": "nosuchgroup", "port": 8000}]),
        "nginx_upstreams[0] (app): servers[0].group 'nosuchgroup' is not a group of the inventory",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_early_and_changes_nothing(host, tmp_path, case):
    variables, expected = CASES[case]
    testlib.assert_refused_unchanged(
        lambda: run_playbook(variables, tmp_path), lambda: snapshot(host), expected
    )


def test_passwords_never_appear_in_the_output(host, tmp_path):
    variables = with_site(0, headers={"X-Test": "a{b"})
    variables["nginx_sites"][1]["basic_auth"]["users"][0]["password"] = "very-secret-password"  # noqa: S105
    rc, output = run_playbook(variables, tmp_path)
    assert rc != 0
    assert "very-secret-password" not in output


def test_a_directive_nginx_rejects_is_refused_before_anything_is_written(host, curl, tmp_path):
    before, answers = snapshot(host), responses(curl)
    rc, output = run_playbook(with_site(0, raw=["no_such_directive on;"]), tmp_path)
    assert rc != 0, output
    # the installed nginx judged the raw directive in the one inspection, before the plan
    flat = " ".join(output.split())
    assert "nginx_sites[0] (shop): raw" in flat, output
    assert "['no_such_directive on;'] is refused by the installed nginx" in flat, output
    assert 'unknown directive "no_such_directive"' in flat, output
    assert snapshot(host) == before
    assert responses(curl) == answers


def test_a_removed_site_is_removed_from_the_host(host, curl, tmp_path):
    variables = site_variables()
    variables["nginx_sites"] = variables["nginx_sites"][:1]
    try:
        rc, output = run_playbook(variables, tmp_path)
        assert rc == 0, output
        assert not host.file("/etc/nginx/sites-enabled/admin.conf").exists
        assert not host.file("/etc/nginx/groundwork/htpasswd/admin").exists
        assert curl("-o /dev/null -w '%{http_code}' http://admin.test/").rc in (52, 56)
        assert curl("-k https://shop.test/status").stdout == "shop ok"
    finally:
        rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    assert host.file("/etc/nginx/sites-enabled/admin.conf").exists


def test_check_mode_predicts_the_real_run(host, curl, tmp_path):
    variables = with_site(0, headers={"Content-Security-Policy": "frame-ancestors 'none'"})
    variables["nginx_sites"][0]["rate_limit"] = {"rate": "60r/s", "burst": 100}
    before = snapshot(host)
    try:
        rc, checked = run_playbook(variables, tmp_path, "--check", "--diff")
        assert rc == 0, checked
        assert snapshot(host) == before  # check mode wrote nothing, reloaded nothing
        rc, applied = run_playbook(variables, tmp_path, "--diff")
        assert rc == 0, applied
        predicted, made = diff_lines(checked), diff_lines(applied)
        assert predicted == made
        assert (
            "/etc/nginx/sites-enabled/shop.conf",
            """+    add_header Content-Security-Policy "frame-ancestors 'none'" always;""",
        ) in made
        assert (
            "/etc/nginx/conf.d/groundwork.conf",
            "+limit_req_zone $binary_remote_addr zone=site_shop:10m rate=60r/s;",
        ) in made
        assert recap_changed(checked) == recap_changed(applied) == 1
        assert "frame-ancestors 'none'" in curl("-k -D - -o /dev/null https://shop.test/").stdout
    finally:
        rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    assert snapshot(host)["files"] == before["files"]
