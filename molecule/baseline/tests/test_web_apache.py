# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dev-sec.io's Apache baseline (controls apache-01 to apache-14), written here in Testinfra
against bl-web2, reconciled with Mozilla's TLS guidance (intermediate) where they differ.

dev-sec reads files (security.conf, hardening.conf, alias.conf); these tests read what
Apache runs with instead: `apache2ctl -M` (loaded modules), `-S` (virtual hosts),
`-t -D DUMP_RUN_CFG` (user, group), the running processes, and real requests and TLS
handshakes from bl-client - so that a directive a later file or a virtual host overrides
counts. A control we deliberately deviate from asserts dev-sec's value and is a strict
xfail whose reason is the deviation (docs/SECURITY.md).
"""

from __future__ import annotations

import functools
import re

import pytest
from webbaseline import (
    DEVSEC_CBC,
    MOZILLA_INTERMEDIATE_TLS12,
    accepted_tls12_ciphers,
    headers,
    host,
    max_age,
    mode_of,
    processes,
    tls_protocol_accepted,
)

WEB = "bl-web2"
SITE = "web2.baseline.test"


@functools.cache
def apachectl(*args):
    return host(WEB).check_output("apache2ctl " + " ".join(args) + " 2>&1")


@functools.cache
def modules():
    return {
        line.split()[0].removesuffix("_module") for line in apachectl("-M").splitlines() if "_module" in line
    }


@functools.cache
def site_files():
    """{path: text} of the enabled sites and configuration snippets Apache includes."""
    paths = (
        host(WEB)
        .check_output("ls /etc/apache2/sites-enabled/*.conf /etc/apache2/conf-enabled/*.conf 2>/dev/null")
        .split()
    )
    return {path: host(WEB).file(path).content_string for path in paths}


def directive(name):
    """Every value of a directive in the files Apache reads (apache2.conf, conf-enabled,
    sites-enabled, mods-enabled), comments left out, in the order Apache reads them."""
    script = (
        "for f in /etc/apache2/apache2.conf /etc/apache2/mods-enabled/*.conf /etc/apache2/ports.conf "
        "/etc/apache2/conf-enabled/*.conf /etc/apache2/sites-enabled/*.conf; do "
        '[ -f "$f" ] && sed -e "s/^[[:space:]]*//" -e "/^#/d" "$f"; done'
    )
    pattern = re.compile(rf"^{name}\s+(.*)$", re.IGNORECASE)
    return [
        m.group(1).strip()
        for line in host(WEB).check_output(script).splitlines()
        if (m := pattern.match(line))
    ]


# -- apache-01 .. apache-06: the service, its processes and files -----------------------------


def test_apache_01_running():
    assert host(WEB).package("apache2").is_installed
    assert host(WEB).service("apache2").is_running


def test_apache_02_enabled_at_boot():
    assert host(WEB).service("apache2").is_enabled


def test_apache_03_one_root_process():
    roots = [cmdline for uid, cmdline in processes(WEB, "apache2") if uid == 0]
    assert len(roots) == 1, roots


@pytest.mark.xfail(
    strict=True,
    reason="deviation: /etc/apache2 keeps Debian's 0755 (others may list it); it holds no "
    "secret - password files are root:www-data 0640, keys under /etc/ssl/groundwork",
)
def test_apache_04_config_directory_permissions():
    mode, owner, group = mode_of(WEB, "/etc/apache2")
    assert (owner, group) == ("root", "root")
    assert mode & 0o007 == 0o001, oct(mode)


def test_apache_04_config_directory_root_owned_not_writable_by_others():
    mode, owner, group = mode_of(WEB, "/etc/apache2")
    assert (owner, group) == ("root", "root") and mode & 0o022 == 0, oct(mode)


@pytest.mark.xfail(
    strict=True,
    reason="deviation: apache2.conf and the role's groundwork.conf are 0644 as Debian ships "
    "apache2.conf: no secret in them; dev-sec's hardening.conf is its own role's file",
)
def test_apache_05_config_file_permissions():
    for path in ("/etc/apache2/apache2.conf", "/etc/apache2/conf-enabled/groundwork.conf"):
        mode, owner, group = mode_of(WEB, path)
        assert (owner, group) == ("root", "root") and mode & 0o077 == 0o040, (path, oct(mode))


def test_apache_05_config_files_root_owned_and_secrets_closed():
    for path in ("/etc/apache2/apache2.conf", "/etc/apache2/conf-enabled/groundwork.conf"):
        mode, owner, _group = mode_of(WEB, path)
        assert owner == "root" and mode & 0o022 == 0, (path, oct(mode))
    for path in host(WEB).check_output("ls /etc/apache2/groundwork/htpasswd/* 2>/dev/null || true").split():
        mode, owner, _group = mode_of(WEB, path)
        assert owner == "root" and mode & 0o007 == 0, (path, oct(mode))


def test_apache_06_user_and_group():
    dump = apachectl("-t", "-D", "DUMP_RUN_CFG")
    assert re.search(r'^User: name="www-data"', dump, re.MULTILINE), dump
    assert re.search(r'^Group: name="www-data"', dump, re.MULTILINE), dump
    children = [uid for uid, _cmdline in processes(WEB, "apache2") if uid != 0]
    assert children and set(children) == {host(WEB).user("www-data").uid}


# -- apache-07 .. apache-10: disclosure, modules, methods ---------------------------------------


@pytest.mark.parametrize(
    ("name", "path"),
    [
        (SITE, "/.well-known/acme-challenge/none"),  # Apache's own 404
        ("internal.baseline.test", "/"),  # Apache's own 403
        ("unknown.baseline.test", "/"),  # the default virtual host's 421
    ],
)
def test_apache_07_server_tokens_prod(name, path):
    """The effective value: the Server header of answers Apache makes itself names no
    version, and its error pages carry no signature (the last ServerTokens and
    ServerSignature read win). Proxied answers carry the application's own header."""
    _status, found, body = headers(WEB, name, path, insecure=True)
    assert found.get("server") == ["Apache"], found.get("server")
    assert not re.search(r"Apache/\d", body)
    assert directive("ServerTokens")[-1].lower() == "prod"
    assert directive("ServerSignature")[-1].lower() == "off"


def test_apache_08_no_legacy_modules():
    loaded = modules()
    assert "ssl" in loaded  # the list is real
    assert not loaded & {"dav", "dav_fs", "cgid", "cgi", "include", "autoindex", "userdir", "info"}, loaded


def test_apache_09_trace_disabled():
    status, _found, _body = headers(WEB, SITE, "/", "TRACE")
    assert status == 405, status
    assert directive("TraceEnable")[-1].lower() == "off"


@pytest.mark.xfail(
    strict=True,
    reason="deviation: no <LimitExcept GET POST>: the methods an application answers are its "
    "own (PUT, PATCH, DELETE for APIs); TRACE is off (apache-09)",
)
def test_apache_10_only_get_and_post():
    assert any(re.search(r"<LimitExcept\s+GET\s+POST>", text) for text in site_files().values())


# -- apache-11, apache-12: alias.conf ----------------------------------------------------------


def test_apache_11_12_no_alias_conf_directories():
    """dev-sec checks the /icons/ directory of Debian's alias.conf for -FollowSymLinks and
    -Indexes. The role loads mod_alias without Debian's alias.conf, so there is no /icons/
    alias at all, and no directory Apache serves allows listings."""
    assert not host(WEB).file("/etc/apache2/mods-enabled/alias.conf").exists
    assert "autoindex" not in modules()
    status, _found, body = headers(WEB, SITE, "/icons/")
    assert "Index of" not in body and status != 200, status
    for text in site_files().values():
        assert not re.search(r"Options\s+(?:[^\n]*\s)?\+?Indexes\b", text), text


# -- apache-13: TLS, reconciled with Mozilla's intermediate profile ---------------------------


@pytest.mark.xfail(
    strict=True,
    reason="deviation (Mozilla intermediate): SSLHonorCipherOrder off - every offered suite is "
    "strong, so the client picks what its hardware does fastest",
)
def test_apache_13_ssl_honor_cipher_order():
    assert directive("SSLHonorCipherOrder")[-1].lower() == "on"


def test_apache_13_tls_protocols_and_ciphers_are_mozillas_intermediate():
    assert directive("SSLProtocol")[-1] == "-all +TLSv1.2 +TLSv1.3"
    assert not tls_protocol_accepted(WEB, SITE, "tls1")
    assert not tls_protocol_accepted(WEB, SITE, "tls1_1")
    assert tls_protocol_accepted(WEB, SITE, "tls1_2")
    assert tls_protocol_accepted(WEB, SITE, "tls1_3")
    accepted = accepted_tls12_ciphers(WEB, SITE)
    assert accepted and accepted <= MOZILLA_INTERMEDIATE_TLS12, sorted(accepted)
    assert not accepted & set(DEVSEC_CBC)
    assert directive("SSLSessionTickets")[-1].lower() == "off"


def test_apache_13_hsts_and_headers():
    _status, found, _body = headers(WEB, SITE)
    (value,) = found["strict-transport-security"]
    assert max_age(value) >= 15768000, value
    assert found.get("x-content-type-options") == ["nosniff"]
    assert found.get("x-frame-options") == ["SAMEORIGIN"]


# -- apache-14: logging ------------------------------------------------------------------------


def test_apache_14_every_virtual_host_logs():
    """Every virtual host Apache runs (apache2ctl -S) comes from a file with a CustomLog."""
    vhost_files = set(re.findall(r"\((/etc/apache2/[^:]+):\d+\)", apachectl("-S")))
    assert vhost_files, apachectl("-S")
    for path in vhost_files:
        text = host(WEB).file(path).content_string
        blocks = re.findall(r"<VirtualHost[^>]*>(.*?)</VirtualHost>", text, re.DOTALL)
        assert blocks and all("CustomLog" in block for block in blocks), path
    assert host(WEB).file("/var/log/apache2/error.log").exists
