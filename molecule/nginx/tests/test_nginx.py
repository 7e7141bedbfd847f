# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Behaviour of groundwork.server.nginx, seen from another container."""

from __future__ import annotations

import re

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

testinfra_hosts = ["ansible://nginx-proxy"]


# --- load balancing ------------------------------------------------------------------


def test_https_reaches_both_backends_in_turn(curl):
    assert_https_reaches_both_backends_in_turn(curl)


def test_forwarded_headers_reach_the_backend(curl, client):
    answer = curl(f"-k {SHOP}/headers").stdout
    client_ip = client.check_output("getent ahostsv4 nginx-backend1").split()[0]
    assert "host=shop.test" in answer
    assert "proto=https" in answer
    assert f"xff={client_ip}" in answer
    assert f"real={client_ip}" in answer
    # keepalive to the upstream: the Connection header is cleared
    assert answer.strip().endswith("connection=")


def test_websocket_upgrade_passes_through(client, proxy_ip):
    assert_websocket_upgrade_passes_through(client, proxy_ip)


# --- HTTP, redirects, headers ---------------------------------------------------------


def test_http_answers_308_to_https(curl):
    assert_http_answers_308_to_https(curl)


def test_acme_challenges_are_served_over_plain_http(curl, host):
    token = host.file("/var/lib/groundwork/acme/.well-known/acme-challenge")
    assert token.is_directory
    # A missing token is a 404 from the webroot, not a redirect to HTTPS.
    result = curl("-o /dev/null -w '%{http_code}' http://shop.test/.well-known/acme-challenge/missing")
    assert result.stdout == "404"


def test_hsts_and_security_headers(curl):
    result = curl(f"-k -D - -o /dev/null {SHOP}/")
    found = headers(result)
    assert found["strict-transport-security"] == "max-age=63072000"
    assert found["x-content-type-options"] == "nosniff"
    assert found["x-frame-options"] == "SAMEORIGIN"
    assert found["referrer-policy"] == "strict-origin-when-cross-origin"
    assert found["content-security-policy"] == "frame-ancestors 'self'"
    assert found["server"] == "nginx"  # server_tokens off


def test_locations_redirects_and_access_rules(curl):
    assert curl(f"-k {SHOP}/status").stdout == "shop ok"
    assert curl(f"-k -o /dev/null -w '%{{http_code}} %{{redirect_url}}' {SHOP}/old").stdout == (
        "301 https://shop.test/new"
    )
    assert curl(f"-k -o /dev/null -w '%{{http_code}}' {SHOP}/internal/").stdout == "403"


def test_basic_auth_protects_the_static_site(curl):
    assert_basic_auth_protects_the_static_site(curl)


def test_basic_auth_password_is_stored_hashed(host):
    htpasswd = host.file("/etc/nginx/groundwork/htpasswd/admin")
    assert htpasswd.mode == 0o640
    assert htpasswd.group == "www-data"
    assert "molecule-test-password" not in host.check_output("cat /etc/nginx/groundwork/htpasswd/admin")


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


def test_unknown_host_names_are_rejected(curl, client, proxy_ip):
    # plain HTTP: the connection is closed without an answer (444)
    result = curl("-H 'Host: unknown.test' http://shop.test/")
    assert result.rc == 52 or result.rc == 56, result
    assert result.stdout == ""
    # TLS: the handshake is refused
    assert curl("-k https://unknown.test/").rc == 35
    result = client.run(
        f"echo | timeout 10 openssl s_client -connect {proxy_ip}:443 -servername unknown.test 2>&1"
        " | tr -cd '\\11\\12\\40-\\176'"
    )
    assert "unrecognized name" in result.stdout


# --- global tuning --------------------------------------------------------------------


def test_connection_and_file_limits_agree(host):
    config = host.check_output("/usr/sbin/nginx -T 2>/dev/null")
    connections = int(re.search(r"worker_connections (\d+);", config).group(1))
    assert int(re.search(r"worker_rlimit_nofile (\d+);", config).group(1)) == 2 * connections
    worker = host.check_output("cat /proc/$(cat /run/nginx.pid)/task/*/children").split()[0]
    limits = host.check_output(f"cat /proc/{worker}/limits")
    soft = int(re.search(r"Max open files\s+(\d+)", limits).group(1))
    assert soft == 2 * connections


def test_debian_default_site_is_gone(host):
    assert not host.file("/etc/nginx/sites-enabled/default").exists


def test_renewal_hook_is_registered(host):
    hook = host.file("/etc/groundwork/tls/hooks/shop.d/nginx")
    assert hook.mode == 0o755
    result = host.run("/etc/groundwork/tls/hooks/shop.d/nginx")
    assert result.rc == 0, result.stderr


# --- failover (last: a stopped backend stays marked as failed for fail_timeout) --------


def test_every_request_succeeds_while_one_backend_is_down(curl, backend2):
    backend2.run("systemctl stop nginx.service")
    try:
        answers = [curl(f"-k -w ' %{{http_code}}' {SHOP}/").stdout.strip() for _request in range(6)]
    finally:
        backend2.run("systemctl start nginx.service")
    assert answers == ["backend1\n 200"] * 6, answers
