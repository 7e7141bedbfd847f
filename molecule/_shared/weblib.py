# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers the web-server scenarios' (nginx, apache) testinfra tests share: the client and
proxy fixtures, curl and openssl s_client on the client, what the answers hold, and the TLS
protocol checks.

A scenario's conftest.py imports it as it imports testlib (see testlib.py) and makes the
fixtures with its host-name prefix:

    pytest.register_assert_rewrite("testlib", "weblib")
    import weblib  # noqa: E402

    client, backend2, proxy_ip, curl = weblib.fixtures("nginx", INVENTORY)
"""

from __future__ import annotations

import re

import pytest
import testinfra

# The names the scenarios' sites answer to (and one they do not), resolved to the proxy.
SITE_NAMES = ("shop.test", "www.shop.test", "admin.test", "unknown.test")
SHOP = "https://shop.test"
# Debian's OpenSSL client refuses TLS 1.0/1.1 itself at its default security level;
# SECLEVEL=0 lets it offer them, so a refusal can only come from the server.
OLD_TLS = "-cipher DEFAULT@SECLEVEL=0"


def fixtures(prefix, inventory, site_names=SITE_NAMES):
    """The fixtures ``client``, ``backend2``, ``proxy_ip`` and ``curl`` of the scenario whose
    hosts are ``<prefix>-proxy``, ``<prefix>-backend1`` and ``<prefix>-backend2``."""

    @pytest.fixture(scope="module")
    def client():
        """<prefix>-backend1 sends the test traffic: from outside the proxy, over the network."""
        return testinfra.get_host(f"ansible://{prefix}-backend1", ansible_inventory=inventory)

    @pytest.fixture(scope="module")
    def backend2():
        return testinfra.get_host(f"ansible://{prefix}-backend2", ansible_inventory=inventory)

    @pytest.fixture(scope="module")
    def proxy_ip(client):
        return client.check_output(f"getent ahostsv4 {prefix}-proxy").split()[0]

    @pytest.fixture(scope="module")
    def curl(client, proxy_ip):
        """curl on the client, with the site names resolving to the proxy."""

        def run(args):
            names = " ".join(
                f"--resolve {name}:{port}:{proxy_ip}" for name in site_names for port in (80, 443)
            )
            return client.run(f"curl --silent --max-time 10 {names} {args}")

        return run

    return client, backend2, proxy_ip, curl


def s_client(client, proxy_ip, options, server_name="shop.test"):
    return client.run(
        f"echo | timeout 10 openssl s_client -connect {proxy_ip}:443 -servername {server_name} {options}"
        " >/tmp/s_client.out 2>&1; rc=$?; tr -cd '\\11\\12\\40-\\176' </tmp/s_client.out; exit $rc"
    )


def headers(response):
    lines = response.stdout.splitlines()
    return {k.strip().lower(): v.strip() for k, _sep, v in (line.partition(":") for line in lines[1:]) if v}


def responses(curl):
    """What clients get from both sites, without the Date header."""
    answers = [
        curl("-k -D - https://shop.test/status"),
        curl("-D - -u ops:molecule-test-password http://admin.test/"),
    ]
    return [[line for line in a.stdout.splitlines() if not line.lower().startswith("date:")] for a in answers]


def diff_lines(output):
    """The added and removed lines of every diff in a playbook's output, with their file."""
    found, current = [], None
    for line in output.splitlines():
        header = re.match(r"^[+-]{3} (?:before|after): (\S+)", line)
        if header:
            current = header.group(1)
        elif current and re.match(r"^[+-](?![+-]{2} )", line):
            found.append((current, line))
    return found


# --- the bodies of tests both scenarios make --------------------------------------------


def assert_https_reaches_both_backends_in_turn(curl):
    answers = [curl(f"-k {SHOP}/").stdout.strip() for _request in range(4)]
    assert sorted(answers) == ["backend1", "backend1", "backend2", "backend2"], answers
    assert answers[0] != answers[1], answers


def assert_websocket_upgrade_passes_through(client, proxy_ip):
    result = client.run(f"python3 /usr/local/bin/ws-client shop.test {proxy_ip} /ws hello")
    assert result.rc == 0, result.stdout + result.stderr
    status, reply = result.stdout.splitlines()[:2]
    assert " 101 " in status
    assert re.fullmatch(r"backend[12]: hello", reply), reply


def assert_http_answers_308_to_https(curl):
    result = curl("-o /dev/null -w '%{http_code} %{redirect_url}' 'http://www.shop.test/cart?id=7'")
    assert result.stdout == "308 https://www.shop.test/cart?id=7"


def assert_basic_auth_protects_the_static_site(curl):
    assert curl("-o /dev/null -w '%{http_code}' http://admin.test/").stdout == "401"
    assert curl("-o /dev/null -w '%{http_code}' -u ops:wrong http://admin.test/").stdout == "401"
    assert curl("-u ops:molecule-test-password http://admin.test/").stdout == "admin area\n"


# --- TLS: the bodies of the scenarios' protocol tests ------------------------------------


def assert_tls_1_0_and_1_1_refused_by_the_server(client, proxy_ip):
    for version in ("-tls1", "-tls1_1"):
        result = s_client(client, proxy_ip, f"{version} {OLD_TLS}")
        assert result.rc != 0
        assert "no protocols available" not in result.stdout  # the client did offer it
        assert "alert protocol version" in result.stdout, result.stdout


def assert_tls_1_2_with_a_mozilla_intermediate_cipher(client, proxy_ip):
    result = s_client(client, proxy_ip, "-tls1_2")
    assert result.rc == 0, result.stdout
    assert "Cipher is ECDHE-ECDSA-AES" in result.stdout or "Cipher is ECDHE-ECDSA-CHACHA20" in result.stdout


def assert_tls_1_3_succeeds(client, proxy_ip):
    result = s_client(client, proxy_ip, "-tls1_3")
    assert result.rc == 0, result.stdout
    assert "New, TLSv1.3" in result.stdout


def assert_http2_negotiated_by_alpn(curl, client, proxy_ip):
    assert curl(f"-k --http2 -o /dev/null -w '%{{http_version}}' {SHOP}/").stdout == "2"
    assert "ALPN protocol: h2" in s_client(client, proxy_ip, "-alpn h2,http/1.1").stdout


def assert_no_ocsp_stapling(client, proxy_ip):
    assert "OCSP response: no response sent" in s_client(client, proxy_ip, "-status").stdout
