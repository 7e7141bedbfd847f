# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changed input: refused before anything changes, rolled back, or applied with removals."""

from __future__ import annotations

import time

import pytest
from conftest import recap_changed, run_playbook, site_variables, snapshot, testlib
from weblib import diff_lines, responses

testinfra_hosts = ["ansible://apache-proxy"]

ROLE = "groundwork.server.apache"
PRIVKEY = "/etc/ssl/groundwork/shop/privkey.pem"
FULLCHAIN = "/etc/ssl/groundwork/shop/fullchain.pem"
MOD_INFO = "/usr/lib/apache2/modules/mod_info.so"


def with_site(index, **changes):
    variables = site_variables()
    variables["apache_sites"][index].update(changes)
    return variables


def with_upstream(index, **changes):
    variables = site_variables()
    variables["apache_upstreams"][index].update(changes)
    return variables


CASES = {
    "unknown certificate": (
        with_site(0, tls={"certificate": "www"}),
        "apache_sites[0] (shop): tls.certificate 'www' is not a known certificate (known: 'shop')",
    ),
    "unknown upstream": (
        with_site(0, upstream="api"),
        "apache_sites[0] (shop): upstream 'api' is not a known upstream (known: 'app', 'echo', 'standby',"
        " 'weighted')",
    ),
    "duplicate server name on a port": (
        with_site(1, server_names=["www.shop.test"]),
        "apache_sites[1] (admin): server_names 'www.shop.test' is already served on port 80"
        " by apache_sites[0] (shop)",
    ),
    "port out of range": (
        with_site(1, port=70000),
        "apache_sites[1] (admin): port 70000 is out of range",
    ),
    "header value with a line break": (
        with_site(0, headers={"X-Test": "a\nb"}),
        "apache_sites[0] (shop): headers.X-Test 'a\\nb' must not contain control characters",
    ),
    "invalid server name": (
        with_site(1, server_names=["admin_test!"]),
        "apache_sites[1] (admin): server_names[0] 'admin_test!' is not a valid host name",
    ),
    "typo in a key (argument spec)": (
        with_site(1, server_name=["admin.test"]),
        "server_name",
    ),
    "request rate limits (a feature Apache does not render)": (
        with_site(0, rate_limit={"rate": "60r/s", "burst": 100}),
        f"apache_sites[0] (shop): rate_limit.rate '60r/s' is not rendered by {ROLE}"
        " (feature rate_limit; it renders: static,",
    ),
    "balancing by hash (a feature Apache does not render)": (
        with_upstream(0, method="hash", hash_key="uri"),
        f"apache_upstreams[0] (app): method 'hash' is not rendered by {ROLE} (feature method_hash;",
    ),
    "nginx directives": (
        with_site(0, raw_nginx=["gzip on;"]),
        f"apache_sites[0] (shop): raw_nginx ['gzip on;'] is not rendered by {ROLE} (feature raw_nginx;",
    ),
    "an Apache section in raw_apache": (
        with_site(0, raw_apache=["<Location /x>"]),
        "apache_sites[0] (shop): raw_apache[0] '<Location /x>' must be one directive: no control characters,"
        " no section (<...>), no final backslash",
    ),
    "unknown group in an upstream": (
        with_upstream(0, servers=[{"group": "nosuchgroup", "port": 8000}]),
        "apache_upstreams[0] (app): servers[0].group 'nosuchgroup' is not a group of the inventory",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_early_and_changes_nothing(host, tmp_path, case):
    variables, expected = CASES[case]
    testlib.assert_refused_unchanged(
        lambda: run_playbook(variables, tmp_path), lambda: snapshot(host), expected
    )


def test_passwords_never_appear_in_the_output(host, tmp_path):
    variables = with_site(0, headers={"X-Test": "a\nb"})
    variables["apache_sites"][1]["basic_auth"]["users"][0]["password"] = "very-secret-password"  # noqa: S105
    rc, output = run_playbook(variables, tmp_path)
    assert rc != 0
    assert "very-secret-password" not in output
    # nor in the diff of a check run that would change the password file
    variables = site_variables()
    variables["apache_sites"][1]["basic_auth"]["users"][0]["password"] = "very-secret-password"  # noqa: S105
    rc, output = run_playbook(variables, tmp_path, "--check", "--diff", "-v")
    assert rc == 0, output
    assert recap_changed(output) == 1, output
    assert "very-secret-password" not in output
    assert "molecule-test-password" not in output


def assert_rolled_back(host, curl, run, expected):
    """A configuration the role's check rejects: the play fails with ``expected`` in its
    output, and Apache serves the previous configuration from an unchanged tree."""
    before, answers = snapshot(host), responses(curl)
    rc, output = run()
    assert rc != 0, output
    flat = " ".join(output.split())
    for text in expected:
        assert text in flat, output
    assert snapshot(host) == before
    assert responses(curl) == answers
    return output


def test_a_directive_apache_rejects_is_refused_before_anything_is_written(host, curl, tmp_path):
    # the installed Apache judged the raw directive in the one inspection, before the plan
    assert_rolled_back(
        host,
        curl,
        lambda: run_playbook(with_site(0, raw_apache=["NoSuchDirective on"]), tmp_path),
        [
            "apache_sites[0] (shop): raw_apache",
            "is refused by the installed Apache",
            "Invalid command 'NoSuchDirective'",
        ],
    )


def test_a_missing_module_is_rolled_back(host, curl, tmp_path):
    variables = site_variables() | {"apache_modules": ["info"]}
    host.run(f"mv {MOD_INFO} {MOD_INFO}.molecule")
    try:
        assert_rolled_back(
            host, curl, lambda: run_playbook(variables, tmp_path), [f"Cannot load {MOD_INFO} into server"]
        )
    finally:
        host.run(f"mv {MOD_INFO}.molecule {MOD_INFO}")


def test_a_certificate_not_matching_its_key_is_rolled_back(host, curl, tmp_path):
    variables = with_site(0, headers={"Content-Security-Policy": "frame-ancestors 'none'"})
    host.run(f"cp -p {PRIVKEY} {PRIVKEY}.molecule")
    try:
        result = host.run(
            f"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out {PRIVKEY}.new"
            f" && mv {PRIVKEY}.new {PRIVKEY} && chmod 0600 {PRIVKEY}"
        )
        assert result.rc == 0, result.stderr
        assert_rolled_back(
            host,
            curl,
            lambda: run_playbook(variables, tmp_path),
            [f"the certificate {FULLCHAIN} does not match the private key {PRIVKEY}"],
        )
    finally:
        host.run(f"mv {PRIVKEY}.molecule {PRIVKEY}")


def test_a_port_in_use_is_rolled_back(host, curl, tmp_path):
    variables = with_site(1, port=8088)
    pid = host.check_output(
        "nohup python3 -m http.server 8088 --bind 0.0.0.0 --directory /var/www/html >/dev/null 2>&1 & echo $!"
    )
    try:
        # listening before the run
        for _attempt in range(20):
            if (
                host.run("python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 8088), 1)'").rc
                == 0
            ):
                break
            time.sleep(0.5)
        assert_rolled_back(
            host, curl, lambda: run_playbook(variables, tmp_path), ["port 8088 is already in use by python3"]
        )
    finally:
        host.run(f"kill {pid}")


def test_a_removed_site_is_removed_from_the_host(host, curl, tmp_path):
    variables = site_variables()
    variables["apache_sites"] = variables["apache_sites"][:1]
    try:
        rc, output = run_playbook(variables, tmp_path)
        assert rc == 0, output
        assert not host.file("/etc/apache2/sites-enabled/admin.conf").exists
        assert not host.file("/etc/apache2/groundwork/htpasswd/admin").exists
        # no site serves admin.test now: the default virtual host's Misdirected Request
        assert curl("-o /dev/null -w '%{http_code}' http://admin.test/").stdout == "421"
        assert curl("-k https://shop.test/status").stdout == "shop ok"
    finally:
        rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    assert host.file("/etc/apache2/sites-enabled/admin.conf").exists
    assert curl("-u ops:molecule-test-password http://admin.test/").stdout == "admin area\n"


def test_check_mode_predicts_the_real_run(host, curl, tmp_path):
    variables = with_site(0, headers={"Content-Security-Policy": "frame-ancestors 'none'"})
    variables["apache_keepalive_timeout"] = 15
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
            "/etc/apache2/sites-enabled/shop.conf",
            """+    Header always set Content-Security-Policy "frame-ancestors 'none'\"""",
        ) in made
        assert ("/etc/apache2/conf-enabled/groundwork.conf", "+KeepAliveTimeout 15") in made
        assert recap_changed(checked) == recap_changed(applied) == 1
        assert "frame-ancestors 'none'" in curl("-k -D - -o /dev/null https://shop.test/").stdout
    finally:
        rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    assert snapshot(host)["files"] == before["files"]


def test_only_a_change_of_modules_restarts_apache(host, curl, tmp_path):
    before = snapshot(host)
    try:
        # a header: a graceful reload, the master process stays
        rc, output = run_playbook(with_site(0, headers={"X-Molecule": "reloaded"}), tmp_path)
        assert rc == 0, output
        assert snapshot(host)["master"] == before["master"]
        assert "x-molecule: reloaded" in curl("-k -D - -o /dev/null https://shop.test/").stdout.lower()
        # another module: Apache is restarted to load it
        rc, output = run_playbook(site_variables() | {"apache_modules": ["expires"]}, tmp_path)
        assert rc == 0, output
        assert snapshot(host)["master"] != before["master"]
        assert host.file("/etc/apache2/mods-enabled/expires.load").is_symlink
        assert "expires_module" in host.check_output("apache2ctl -M 2>/dev/null")
    finally:
        rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    assert snapshot(host)["files"] == before["files"]
    assert not host.file("/etc/apache2/mods-enabled/expires.load").exists
