# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Behaviour of groundwork.server.nginx, seen from another container."""

from __future__ import annotations

import re

testinfra_hosts = ["ansible://nginx-proxy"]

SHOP = "https://shop.test"
# Debian's OpenSSL client refuses TLS 1.0/1.1 itself at its default security level;
# SECLEVEL=0 lets it offer them, so a refusal can only come from the server.
OLD_TLS = "-cipher DEFAULT@SECLEVEL=0"


def s_client(client, proxy_ip, options):
    return client.run(
        f"echo | timeout 10 openssl s_client -connect {proxy_ip}:443 -servername shop.test {options}"
        " >/tmp/s_client.out 2>&1; rc=$?; tr -cd '\\11\\12\\40-\\176' </tmp/s_client.out; exit $rc"
    )


def headers(response):
    lines = response.stdout.splitlines()
    return {k.strip().lower(): v.strip() for k, _sep, v in (line.partition(":") for line in lines[1:]) if v}


# --- load balancing ------------------------------------------------------------------


def test_https_reaches_both_backends_in_turn(curl):
    answers = [curl(f"-k {SHOP}/").stdout.strip() for _request in range(4)]
    assert sorted(answers) == ["backend1", "backend1", "backend2", "backend2"], answers
    assert answers[0] != answers[1], answers


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
    result = client.run(f"python3 /usr/local/bin/ws-client shop.test {proxy_ip} /ws hello")
    assert result.rc == 0, result.stdout + result.stderr
    status, reply = result.stdout.splitlines()[:2]
    assert " 101 " in status
    assert re.fullmatch(r"backend[12]: hello", reply), reply


# --- HTTP, redirects, headers ---------------------------------------------------------


def test_http_answers_308_to_https(curl):
    result = curl("-o /dev/null -w '%{http_code} %{redirect_url}' 'http://www.shop.test/cart?id=7'")
    assert result.stdout == "308 https://www.shop.test/cart?id=7"


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
    assert curl("-o /dev/null -w '%{http_code}' http://admin.test/").stdout == "401"
    assert curl("-o /dev/null -w '%{http_code}' -u ops:wrong http://admin.test/").stdout == "401"
    assert curl("-u ops:molecule-test-password http://admin.test/").stdout == "admin area\n"


def test_basic_auth_password_is_stored_hashed(host):
    htpasswd = host.file("/etc/nginx/groundwork/htpasswd/admin")
    assert htpasswd.mode == 0o640
    assert htpasswd.group == "www-data"
    assert "molecule-test-password" not in host.check_output("cat /etc/nginx/groundwork/htpasswd/admin")


# --- TLS ------------------------------------------------------------------------------


def test_tls_1_0_and_1_1_are_refused_by_the_server(client, proxy_ip):
    for version in ("-tls1", "-tls1_1"):
        result = s_client(client, proxy_ip, f"{version} {OLD_TLS}")
        assert result.rc != 0
        assert "no protocols available" not in result.stdout  # the client did offer it
        assert "alert protocol version" in result.stdout, result.stdout


def test_tls_1_2_works_with_a_mozilla_intermediate_cipher(client, proxy_ip):
    result = s_client(client, proxy_ip, "-tls1_2")
    assert result.rc == 0, result.stdout
    assert "Cipher is ECDHE-ECDSA-AES" in result.stdout or "Cipher is ECDHE-ECDSA-CHACHA20" in result.stdout


def test_tls_1_3_succeeds(client, proxy_ip):
    result = s_client(client, proxy_ip, "-tls1_3")
    assert result.rc == 0, result.stdout
    assert "New, TLSv1.3" in result.stdout


def test_http2_is_negotiated_by_alpn(curl, client, proxy_ip):
    assert curl(f"-k --http2 -o /dev/null -w '%{{http_version}}' {SHOP}/").stdout == "2"
    assert "ALPN protocol: h2" in s_client(client, proxy_ip, "-alpn h2,http/1.1").stdout


def test_no_ocsp_stapling_for_a_certificate_without_responder(client, proxy_ip):
    assert "OCSP response: no response sent" in s_client(client, proxy_ip, "-status").stdout


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
