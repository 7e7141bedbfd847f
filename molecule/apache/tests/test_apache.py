# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Behaviour of groundwork.server.apache, seen from another container."""

from __future__ import annotations

import re
import time

from conftest import balancer_members, loopback_get
from weblib import (
    SHOP,
    assert_basic_auth_protects_the_static_site,
    assert_http2_negotiated_by_alpn,
    assert_http_answers_308_to_https,
    assert_https_reaches_both_backends_in_turn,
    assert_no_ocsp_stapling,
    assert_tls_1_0_and_1_1_refused_by_the_server,
    assert_tls_1_2_with_a_mozilla_intermediate_cipher,
    assert_tls_1_3_succeeds,
    assert_websocket_upgrade_passes_through,
    headers,
)

testinfra_hosts = ["ansible://apache-proxy"]

APP_BACKEND2 = ("app", "http://apache-backend2:8000")


def wait_for(condition, seconds):
    """Poll ``condition()`` once a second until it is true or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(1)


# --- load balancing ------------------------------------------------------------------


def test_https_reaches_both_backends_in_turn(curl):
    assert_https_reaches_both_backends_in_turn(curl)


def test_forwarded_headers_reach_the_backend(curl, client):
    answer = curl(f"-k {SHOP}/headers").stdout
    client_ip = client.check_output("getent ahostsv4 apache-backend1").split()[0]
    assert "host=shop.test" in answer, answer
    assert "proto=https" in answer, answer
    assert f"xff={client_ip} " in answer, answer
    assert f"real={client_ip} " in answer, answer


def test_weights_share_the_requests(curl):
    # backend1 has weight 3, backend2 weight 1
    answers = [curl(f"-k {SHOP}/weighted/").stdout.strip() for _request in range(40)]
    assert set(answers) == {"backend1", "backend2"}, answers
    assert 25 <= answers.count("backend1") <= 35, answers


def test_websocket_upgrade_passes_through(client, proxy_ip):
    assert_websocket_upgrade_passes_through(client, proxy_ip)


# --- HTTP, redirects, headers ---------------------------------------------------------


def test_http_answers_308_to_https(curl):
    assert_http_answers_308_to_https(curl)


def test_acme_challenges_are_served_over_plain_http(curl, host):
    challenges = "/var/lib/groundwork/acme/.well-known/acme-challenge"
    assert host.file(challenges).is_directory
    # A missing token is a 404 from the webroot, not a redirect to HTTPS.
    result = curl("-o /dev/null -w '%{http_code}' http://shop.test/.well-known/acme-challenge/missing")
    assert result.stdout == "404"
    host.run(f"echo molecule-token > {challenges}/molecule-token")
    try:
        result = curl("-w ' %{http_code}' http://www.shop.test/.well-known/acme-challenge/molecule-token")
    finally:
        host.run(f"rm -f {challenges}/molecule-token")
    assert result.stdout == "molecule-token\n 200"


def test_hsts_and_security_headers(curl):
    result = curl(f"-k -D - -o /dev/null {SHOP}/")
    found = headers(result)
    assert found["strict-transport-security"] == "max-age=63072000"
    assert found["x-content-type-options"] == "nosniff"
    assert found["x-frame-options"] == "SAMEORIGIN"
    assert found["referrer-policy"] == "strict-origin-when-cross-origin"
    assert found["content-security-policy"] == "frame-ancestors 'self'"


def test_server_header_names_only_apache(curl):
    # /status is answered by Apache itself (proxied responses carry the backend's header)
    result = curl(f"-k -D - {SHOP}/status")
    assert headers(result)["server"] == "Apache"  # ServerTokens Prod
    assert result.stdout.endswith("shop ok"), result.stdout


def test_locations_redirects_and_access_rules(curl):
    assert curl(f"-k {SHOP}/status").stdout == "shop ok"
    assert curl(f"-k -o /dev/null -w '%{{http_code}} %{{redirect_url}}' {SHOP}/old").stdout == (
        "301 https://shop.test/new"
    )
    # raw_apache of the location: only the loopback address may
    assert curl(f"-k -o /dev/null -w '%{{http_code}}' {SHOP}/internal/").stdout == "403"


def test_basic_auth_protects_the_static_site(curl):
    assert_basic_auth_protects_the_static_site(curl)


def test_basic_auth_password_is_stored_hashed(host):
    htpasswd = host.file("/etc/apache2/groundwork/htpasswd/admin")
    assert htpasswd.mode == 0o640
    assert htpasswd.group == "www-data"
    assert "molecule-test-password" not in host.check_output("cat /etc/apache2/groundwork/htpasswd/admin")


def test_request_body_limit_of_the_site(curl, client):
    # client_max_body_size 5m on the shop site
    client.run("head -c 6291456 /dev/zero >/tmp/body-6m; head -c 1048576 /dev/zero >/tmp/body-1m")
    too_large = curl(f"-k -o /dev/null -w '%{{http_code}}' --data-binary @/tmp/body-6m {SHOP}/")
    small = curl(f"-k -o /dev/null -w '%{{http_code}}' --data-binary @/tmp/body-1m {SHOP}/")
    assert too_large.stdout == "413"
    assert small.stdout == "200"


def test_unknown_host_names_get_421(curl, client, proxy_ip, host):
    # plain HTTP: Misdirected Request from the default virtual host
    result = curl("-D - -o /dev/null -H 'Host: unknown.test' http://shop.test/")
    assert result.stdout.split()[1] == "421", result.stdout
    assert headers(result)["server"] == "Apache"
    # TLS: the same answer, and the handshake shows Debian's snakeoil certificate, never a site's
    assert curl("-k -o /dev/null -w '%{http_code}' https://unknown.test/").stdout == "421"
    fingerprint = "openssl x509 -noout -fingerprint -sha256"
    presented = client.check_output(
        f"echo | timeout 10 openssl s_client -connect {proxy_ip}:443 -servername unknown.test 2>/dev/null"
        f" | {fingerprint}"
    )
    assert presented == host.check_output(f"{fingerprint} -in /etc/ssl/certs/ssl-cert-snakeoil.pem")
    assert presented != host.check_output(f"{fingerprint} -in /etc/ssl/groundwork/shop/fullchain.pem")


# --- TLS ------------------------------------------------------------------------------


def test_tls_1_0_and_1_1_are_refused_by_the_server(client, proxy_ip):
    assert_tls_1_0_and_1_1_refused_by_the_server(client, proxy_ip)


def test_tls_1_2_works_with_a_mozilla_intermediate_cipher(client, proxy_ip):
    assert_tls_1_2_with_a_mozilla_intermediate_cipher(client, proxy_ip)


def test_tls_1_3_succeeds(client, proxy_ip):
    assert_tls_1_3_succeeds(client, proxy_ip)


def test_http2_is_negotiated_by_alpn(curl, client, proxy_ip):
    assert_http2_negotiated_by_alpn(curl, client, proxy_ip)


def test_no_ocsp_stapling_for_a_certificate_without_responder(client, proxy_ip):
    assert_no_ocsp_stapling(client, proxy_ip)


# --- hardening ------------------------------------------------------------------------


def test_trace_is_refused(curl):
    assert curl(f"-k -X TRACE -o /dev/null -w '%{{http_code}}' {SHOP}/status").stdout == "405"


def test_directories_are_not_listed(curl, host):
    host.run("mkdir -p /var/www/html/molecule-listing && touch /var/www/html/molecule-listing/secret.txt")
    try:
        result = curl("-u ops:molecule-test-password -w ' %{http_code}' http://admin.test/molecule-listing/")
    finally:
        host.run("rm -rf /var/www/html/molecule-listing")
    assert result.stdout.split()[-1] in ("403", "404"), result.stdout
    assert "secret.txt" not in result.stdout


def test_status_pages_answer_only_on_loopback(curl, host, proxy_ip):
    for path in ("/server-status", "/balancer-manager"):
        for name in (proxy_ip, "unknown.test"):
            result = curl(f"-o /dev/null -w '%{{http_code}}' -H 'Host: {name}' http://{proxy_ip}{path}")
            assert result.stdout in ("403", "421"), (path, name, result.stdout)
        status, page = loopback_get(host, path)
        assert status == 200, page
    status, page = loopback_get(host, "/server-status?auto")
    assert "ServerMPM: event" in page


def test_debian_defaults_are_gone(host):
    assert sorted(host.file("/etc/apache2/sites-enabled").listdir()) == ["admin.conf", "shop.conf"]
    assert not host.file("/etc/apache2/sites-enabled/000-default.conf").exists
    # Debian's snippets (charset, security, other-vhosts-access-log, ...): only the role's file
    assert host.file("/etc/apache2/conf-enabled").listdir() == ["groundwork.conf"]


def test_apache2_conf_is_the_package_s(host):
    conffiles = host.check_output("dpkg-query -W -f='${Conffiles}' apache2")
    packaged = re.search(r"^\s*/etc/apache2/apache2\.conf ([0-9a-f]{32})", conffiles, re.MULTILINE).group(1)
    assert host.check_output("md5sum /etc/apache2/apache2.conf").split()[0] == packaged
    assert "/etc/apache2/apache2.conf" not in host.run("dpkg --verify apache2").stdout


def test_only_the_needed_modules_are_loaded(host):
    loaded = set(
        re.findall(r"^\s*(\w+)_module ", host.check_output("apache2ctl -M 2>/dev/null"), re.MULTILINE)
    )
    assert {"mpm_event", "proxy_hcheck", "http2", "ssl", "proxy_balancer", "headers"} <= loaded
    assert not {"autoindex", "negotiation", "cgi", "cgid", "userdir", "access_compat"} & loaded


def test_each_site_has_its_access_log(curl, host):
    log = "/var/log/apache2/site-shop.access.log"
    size = host.file(log).size
    assert curl(f"-k {SHOP}/status?molecule-log-line").stdout == "shop ok"
    # written at once, or at least within a few seconds (nginx's access log flushes after 5 s)
    assert wait_for(lambda: host.file(log).size > size, 10), host.check_output(f"tail -n 3 {log}")
    assert "/status?molecule-log-line" in host.check_output(f"tail -n 5 {log}")
    assert "molecule-log-line" not in host.check_output("cat /var/log/apache2/site-admin.access.log")


def test_renewal_hook_is_registered(host):
    hook = host.file("/etc/groundwork/tls/hooks/shop.d/apache")
    assert hook.mode == 0o755
    result = host.run("/etc/groundwork/tls/hooks/shop.d/apache")
    assert result.rc == 0, result.stdout + result.stderr


# --- failover (last: a stopped backend stays marked as failed for its retry time) ------


def test_backup_server_serves_only_while_the_primary_is_down(curl, client):
    def answers(count=4):
        return [curl(f"-k {SHOP}/standby/").stdout.strip() for _request in range(count)]

    assert answers() == ["backend1"] * 4
    client.run("systemctl stop nginx.service")
    try:
        during = answers()
    finally:
        client.run("systemctl start nginx.service")
    assert during == ["backend2"] * 4, during
    # back to the primary once its retry time (10 s) has passed
    assert wait_for(lambda: answers(1) == ["backend1"], 20)
    assert answers() == ["backend1"] * 4


def test_active_health_check_marks_a_stopped_backend(host, backend2):
    # health_check /health every 2 s; no client request reaches backend2 meanwhile
    assert "Ok" in balancer_members(host)[APP_BACKEND2]
    backend2.run("systemctl stop nginx.service")
    try:
        assert wait_for(lambda: "HcFl" in balancer_members(host)[APP_BACKEND2], 10), balancer_members(host)
    finally:
        backend2.run("systemctl start nginx.service")
    assert wait_for(lambda: "HcFl" not in balancer_members(host)[APP_BACKEND2], 10), balancer_members(host)
    assert "Ok" in balancer_members(host)[APP_BACKEND2]


def test_every_request_succeeds_while_one_backend_is_down(curl, backend2):
    backend2.run("systemctl stop nginx.service")
    try:
        # /weighted/ has no active check: only the passive one routes around backend2
        answers = [
            curl(f"-k -w ' %{{http_code}}' {SHOP}{path}").stdout.strip() for path in ["/weighted/"] * 8
        ]
        answers += [curl(f"-k -w ' %{{http_code}}' {SHOP}/").stdout.strip() for _request in range(6)]
    finally:
        backend2.run("systemctl start nginx.service")
    assert answers == ["backend1\n 200"] * 14, answers
