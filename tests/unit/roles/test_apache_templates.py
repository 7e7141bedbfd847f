# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real templates of groundwork.server.apache (roles/apache/templates/files.j2 and the
templates it includes), rendered as groundwork.server.role_plan renders them: the
ansible.builtin.template lookup with the validated model and the derived values, through
_apache_role.plan. The tests assert the lines Apache's behaviour depends on.

The lookup needs Ansible's plugin and collection loaders, which change the importing process
for good (sys.meta_path); the rendering therefore runs in a child process (RENDERER), one per
plan, with the repository's ansible.cfg like a real run.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_plan as apache
from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_role as role

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "roles" / "apache" / "templates"
FILES = ROOT / "roles" / "apache" / "files"
RENDERER = """
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, lookup_loader
from ansible.template import Templar
init_plugin_loader()
request = json.load(sys.stdin)
loader = DataLoader()
lookup = lookup_loader.get("ansible.builtin.template", loader=loader, templar=Templar(loader=loader))
print(lookup.run([request["path"]], variables=request["variables"])[0], end="")
"""
DEFAULTS = {
    "apache_max_request_workers": "auto",
    "apache_keepalive_timeout": 30,
    "apache_keepalive_requests": 1000,
    "apache_timeout": 60,
    "apache_client_max_body_size": "1m",
    "apache_compression_level": 2,
    "apache_hsts_max_age": 63072000,
    "apache_security_headers": True,
    "apache_ssl_session_cache_size": "10m",
    "apache_acme_webroot": "/var/lib/groundwork/acme",
    "apache_modules": [],
    "apache_packages": [],
}
DEBIAN_12 = {"id": "debian", "name": "Debian GNU/Linux", "version_id": "12", "version": "12.8"}

UPSTREAMS = [
    {
        "name": "app",
        "servers": [
            {"group": "appservers", "port": 8000, "weight": 3},
            {"address": "10.0.0.9:8000", "backup": True},
        ],
        "health_check": {"path": "/health", "status": 204, "interval": "5s"},
    },
    {"name": "ws", "keepalive": 0, "method": "least_conn", "servers": [{"address": "10.0.0.20:9000"}]},
]
SHOP = {
    "name": "shop",
    "server_names": ["shop.test", "www.shop.test"],
    "tls": {"certificate": "shop"},
    "upstream": "app",
    "headers": {"Content-Security-Policy": "default-src 'self'; report-to \"csp\"", "X-Discount": "50%"},
    "basic_auth": {"realm": "Staff", "users": [{"name": "ops", "password": "secret-pw"}]},
    "allow": ["10.0.0.0/8"],
    "redirects": [{"from": "/old.html", "to": "https://shop.test/new", "code": 301}],
    "raw_apache": ["SetEnvIf User-Agent bot is_bot"],
    "locations": [
        {"path": "/api/", "proxy": "app", "proxy_path": "/v1/"},  # 0
        {"path": "/socket", "proxy": "ws", "websocket": True},  # 1
        {"path": "/ping", "match": "exact", "return": {"code": 200, "target": "pong"}},  # 2
        {"path": "/private", "return": {"code": 403, "target": "No entry here"}},  # 3
        {"path": "/moved", "return": {"code": 302, "target": "https://elsewhere.test/"}},  # 4
        {"path": "/static", "match": "priority", "alias": "/srv/static"},  # 5
        {"path": "/img", "root": "/srv/www", "headers": {"Cache-Control": "max-age=3600"}},  # 6
        {"path": r"\.php$", "match": "regex", "proxy": "app", "raw_apache": ["ProxyAddHeaders On"]},  # 7
    ],
}
PLAIN = {"name": "plain", "server_names": ["plain.test"], "port": 8080, "upstream": "app"}


class Context:
    """role_plan's Context with the real template lookup (in a child process) and the role's
    real files."""

    host = "lb1"
    check_mode = False

    def __init__(self):
        self.groups = {"appservers": ["app1", "app2"]}
        self.hostvars = {"app1": {"ansible_host": "10.0.0.11"}, "app2": {}}

    def render(self, template, **extra):
        request = json.dumps({"path": str(TEMPLATES / template), "variables": extra})
        done = subprocess.run(
            [sys.executable, "-c", RENDERER],
            input=request,
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def read_file(self, name):
        return (FILES / name).read_text()


def validated(sites, upstreams=(), certificates=()):
    inputs = {
        **copy.deepcopy(DEFAULTS),
        "apache_sites": copy.deepcopy(list(sites)),
        "apache_upstreams": copy.deepcopy(list(upstreams)),
        "apache_certificates": list(certificates),
    }
    model, problems = role.validate(inputs, Context())
    assert problems == []
    return model


def rendered(model, **probe):
    """{path: content} of every file of the plan on a host without Apache yet."""
    answer = {"version": "2.4.62", "cpus": 2, "memory_kb": 2 * 1024 * 1024, "modules": None, "enabled": {}}
    answer.update(probe)
    inspection = {
        "os": DEBIAN_12,
        "packages": {},
        "units": {},
        "files": {},
        "dirs": {},
        "probe": answer,
    }
    result = role.plan(model, inspection, Context())
    assert result.problems == []
    return {spec["path"]: spec.get("content") for spec in result.data["files"]}, result


@pytest.fixture(scope="module")
def full():
    model = validated([SHOP, PLAIN], UPSTREAMS, ["shop"])
    files, result = rendered(model, ocsp={"shop": "http://r3.o.lencr.org"})
    return {"model": model, "files": files, "result": result}


def lines(text):
    return [line.strip() for line in text.splitlines()]


def vhosts(text):
    """{"*:<port>": body} of the <VirtualHost> sections of a file."""
    return {
        match.group(1): match.group(2)
        for match in re.finditer(r"<VirtualHost (\S+)>\n(.*?)</VirtualHost>", text, re.DOTALL)
    }


def test_every_file_is_json_decoded_text_with_the_managed_header(full):
    files = full["files"]
    for path in (
        "/etc/apache2/ports.conf",
        "/etc/apache2/conf-enabled/groundwork.conf",
        "/etc/apache2/sites-enabled/shop.conf",
        "/etc/apache2/sites-enabled/plain.conf",
    ):
        assert files[path].startswith("#\n# Ansible managed\n#\n"), path
        assert files[path].endswith("\n")
        # no Jinja left ("{%{REQUEST_STATUS}" is Apache's own expression syntax)
        assert not re.search(r"\{\{|\{%[-\s]|\{#", files[path]), path


def test_ports(full):
    ports = full["files"]["/etc/apache2/ports.conf"]
    assert [line for line in lines(ports) if line.startswith("Listen")] == [
        "Listen 80",
        "Listen 8080",
        "Listen 443",
    ]


def test_balancers_with_their_members_and_health_checks(full):
    conf = lines(full["files"]["/etc/apache2/conf-enabled/groundwork.conf"])
    assert "ProxyHCExpr status_204 {%{REQUEST_STATUS} == 204}" in conf
    hc = "hcmethod=GET hcuri=/health hcinterval=5 hcexpr=status_204 hcpasses=1 hcfails=1"
    app = conf[conf.index('<Proxy "balancer://app">') + 1 : conf.index('<Proxy "balancer://app">') + 5]
    common = "retry=10 connectiontimeout=5 timeout=60 ttl=60"
    assert app == [
        f'BalancerMember "http://10.0.0.11:8000" loadfactor=3 {common} {hc}',
        f'BalancerMember "http://app2:8000" loadfactor=3 {common} {hc}',
        f'BalancerMember "http://10.0.0.9:8000" {common} {hc} status=+H',
        "ProxySet lbmethod=byrequests maxattempts=1",
    ]
    ws = conf[conf.index('<Proxy "balancer://ws">') + 1 : conf.index('<Proxy "balancer://ws">') + 3]
    assert ws == [
        'BalancerMember "http://10.0.0.20:9000" retry=10 connectiontimeout=5 timeout=60 disablereuse=On'
        " upgrade=websocket",
        "ProxySet lbmethod=bybusyness maxattempts=1",
    ]
    # the expression is defined before a member names it
    assert conf.index("ProxyHCExpr status_204 {%{REQUEST_STATUS} == 204}") < conf.index(
        '<Proxy "balancer://app">'
    )


def test_tls_profile_and_event_mpm(full):
    conf = lines(full["files"]["/etc/apache2/conf-enabled/groundwork.conf"])
    assert "SSLProtocol -all +TLSv1.2 +TLSv1.3" in conf
    assert f"SSLCipherSuite {':'.join(apache.SSL_CIPHERS)}" in conf
    assert "SSLOpenSSLConfCmd Curves X25519:prime256v1:secp384r1" in conf
    assert 'SSLOpenSSLConfCmd DHParameters "/etc/apache2/groundwork/ffdhe2048.pem"' in conf
    assert "SSLSessionTickets off" in conf
    assert 'SSLSessionCache "shmcb:${APACHE_RUN_DIR}/groundwork_ssl_scache(10485760)"' in conf
    assert 'SSLStaplingCache "shmcb:${APACHE_RUN_DIR}/groundwork_ssl_stapling(131072)"' in conf
    for line in ("ServerLimit 8", "MaxRequestWorkers 512", "ThreadsPerChild 64", "StartServers 2"):
        assert line in conf
    for line in ("ServerTokens Prod", "ServerSignature Off", "TraceEnable Off", "ServerName lb1"):
        assert line in conf


def test_default_virtual_hosts_answer_421_and_the_status_only_on_loopback(full):
    hosts = vhosts(full["files"]["/etc/apache2/conf-enabled/groundwork.conf"])
    assert list(hosts) == ["*:80", "*:8080", "*:443"]
    plain = lines(hosts["*:80"])
    assert "ServerName default.invalid" in plain
    assert 'RedirectMatch 421 "^/(?!\\.groundwork\\-health$|server-status$|balancer-manager$)"' in plain
    assert 'Alias "/.groundwork-health" "/etc/apache2/groundwork/responses/health"' in plain
    for location in ("/.groundwork-health", "/server-status", "/balancer-manager"):
        section = plain[plain.index(f'<Location "{location}">') :]
        section = section[: section.index("</Location>")]
        assert "Require ip 127.0.0.1 ::1" in section
        assert not any(line.startswith("Require all") for line in section)
    assert "SetHandler server-status" in plain
    assert "SetHandler balancer-manager" in plain
    assert lines(hosts["*:8080"])[-1] == "Redirect 421 /"
    tls = lines(hosts["*:443"])
    assert "SSLCertificateFile /etc/ssl/certs/ssl-cert-snakeoil.pem" in tls
    assert "SSLCertificateKeyFile /etc/ssl/private/ssl-cert-snakeoil.key" in tls
    assert tls[-1] == "Redirect 421 /"


def test_the_default_virtual_host_lets_only_the_loopback_names_through():
    """The RedirectMatch 421 of the default host, as a regular expression."""
    pattern = "^/(?!\\.groundwork\\-health$|server-status$|balancer-manager$)"
    assert re.match(pattern, "/.groundwork-health") is None
    assert re.match(pattern, "/server-status") is None
    assert re.match(pattern, "/") is not None
    assert re.match(pattern, "/.groundwork-healthx") is not None
    assert re.match(pattern, "/index.html") is not None


def test_plain_http_redirects_to_https_except_acme_challenges(full):
    hosts = vhosts(full["files"]["/etc/apache2/sites-enabled/shop.conf"])
    assert list(hosts) == ["*:80", "*:443"]
    plain = lines(hosts["*:80"])
    assert plain[:3] == ["ServerName shop.test", "ServerAlias www.shop.test", plain[2]]
    assert plain[2] == "CustomLog /var/log/apache2/site-shop.access.log groundwork"
    assert (
        'Alias "/.well-known/acme-challenge/" "/var/lib/groundwork/acme/.well-known/acme-challenge/"' in plain
    )
    assert plain[-3:] == [
        "RewriteEngine On",
        "RewriteCond %{REQUEST_URI} !^/\\.well-known/acme-challenge/",
        "RewriteRule ^ https://%{SERVER_NAME}%{REQUEST_URI} [R=308,L]",
    ]
    # nothing of the site itself on the plain port
    assert not any(line.startswith(("ProxyPass", "AuthType", "Header")) for line in plain)


def test_the_address_list_refuses_before_the_redirects(full):
    """mod_rewrite's server context comes before mod_alias's redirects: the site's address
    list forbids first, on the plain port (before the redirect to HTTPS) and on HTTPS."""
    gate = [
        "RewriteEngine On",
        "RewriteCond %{REQUEST_URI} !^/\\.well-known/acme-challenge/",
        "RewriteCond expr \"(!(-R '10.0.0.0/8'))\"",
        "RewriteRule ^ - [F]",
    ]
    hosts = vhosts(full["files"]["/etc/apache2/sites-enabled/shop.conf"])
    for port in ("*:80", "*:443"):
        body = lines(hosts[port])
        start = body.index(gate[2]) - 2
        assert body[start : start + 4] == gate, port
        assert start < min(
            i for i, line in enumerate(body) if line.startswith(("RedirectMatch", "RewriteRule ^ https"))
        )
    plain = lines(vhosts(full["files"]["/etc/apache2/sites-enabled/plain.conf"])["*:8080"])
    assert not any(line.startswith("Rewrite") for line in plain)


def test_https_with_http2_the_certificate_and_stapling(full):
    tls = lines(vhosts(full["files"]["/etc/apache2/sites-enabled/shop.conf"])["*:443"])
    assert tls[3:8] == [
        "SSLEngine on",
        "Protocols h2 http/1.1",
        "SSLCertificateFile /etc/ssl/groundwork/shop/fullchain.pem",
        "SSLCertificateKeyFile /etc/ssl/groundwork/shop/privkey.pem",
        "# The certificate names an OCSP responder.",
    ]
    assert "SSLUseStapling On" in tls


def test_headers_access_and_basic_auth(full):
    tls = lines(vhosts(full["files"]["/etc/apache2/sites-enabled/shop.conf"])["*:443"])
    assert [line for line in tls if line.startswith(("Header ", "RequestHeader "))] == [
        'RequestHeader set X-Forwarded-Proto "https"',
        'RequestHeader set X-Real-IP "expr=%{REMOTE_ADDR}"',
        'Header always set X-Content-Type-Options "nosniff"',
        'Header always set X-Frame-Options "SAMEORIGIN"',
        'Header always set Referrer-Policy "strict-origin-when-cross-origin"',
        'Header always set Content-Security-Policy "default-src \'self\'; report-to \\"csp\\""',
        'Header always set X-Discount "50%%"',
        'Header always set Strict-Transport-Security "max-age=63072000"',
        'Header always set Cache-Control "max-age=3600"',
    ]
    assert "SetEnvIf User-Agent bot is_bot" in tls
    root = tls[tls.index('<Location "/">') : tls.index("</Location>") + 1]
    assert root == [
        '<Location "/">',
        "AuthType Basic",
        'AuthName "Staff"',
        "AuthBasicProvider file",
        'AuthUserFile "/etc/apache2/groundwork/htpasswd/shop"',
        "<RequireAll>",
        "Require ip 10.0.0.0/8",
        "Require valid-user",
        "</RequireAll>",
        "</Location>",
    ]


def test_proxy_pass_order_with_the_exclusions_first(full):
    tls = lines(vhosts(full["files"]["/etc/apache2/sites-enabled/shop.conf"])["*:443"])
    assert [line for line in tls if line.startswith("ProxyPass")] == [
        'ProxyPass "/.well-known/acme-challenge/" "!"',
        'ProxyPassMatch "^/old\\\\.html$" "!"',
        # exact, priority, regex (in order), prefixes longest first
        'ProxyPassMatch "^/ping$" "!"',
        'ProxyPass "/static" "!"',
        'ProxyPassMatch "^((?=.*(?:\\\\.php$))/.*)$" "balancer://app$1"',
        'ProxyPass "/private" "!"',
        'ProxyPass "/socket" "balancer://ws/socket"',
        'ProxyPassReverse "/socket" "balancer://ws/socket"',
        'ProxyPass "/moved" "!"',
        'ProxyPass "/api/" "balancer://app/v1/"',
        'ProxyPassReverse "/api/" "balancer://app/v1/"',
        'ProxyPass "/img" "!"',
        'ProxyPass "/" "balancer://app/"',
        'ProxyPassReverse "/" "balancer://app/"',
    ]


def test_redirects_responses_aliases_and_sections_of_locations(full):
    tls = lines(vhosts(full["files"]["/etc/apache2/sites-enabled/shop.conf"])["*:443"])
    assert [line for line in tls if line.startswith(("RedirectMatch", "Alias", "AliasMatch"))] == [
        'Alias "/.well-known/acme-challenge/" "/var/lib/groundwork/acme/.well-known/acme-challenge/"',
        'RedirectMatch 301 "^/old\\\\.html$" "https://shop.test/new"',
        'AliasMatch "^/ping$" "/etc/apache2/groundwork/responses/shop-2"',
        'Alias "/static" "/srv/static"',
        'RedirectMatch 403 "^/private"',
        'RedirectMatch 302 "^/moved" "https://elsewhere.test/"',
        'AliasMatch "^(/img.*)$" "/srv/www$1"',
    ]
    for directory in ("/srv/static", "/srv/www", "/etc/apache2/groundwork/responses"):
        assert f'<Directory "{directory}">' in tls
    text = "\n".join(tls)
    assert '<LocationMatch "\\\\.php$">\nProxyAddHeaders On\n</LocationMatch>' in text
    assert '<LocationMatch "^/private">\nErrorDocument 403 "No entry here"\n</LocationMatch>' in text
    assert '<LocationMatch "^/img">\nHeader always set Cache-Control "max-age=3600"\n</LocationMatch>' in text
    assert full["files"]["/etc/apache2/groundwork/responses/shop-2"] == "pong"


def test_a_plain_site_on_its_own_port(full):
    hosts = vhosts(full["files"]["/etc/apache2/sites-enabled/plain.conf"])
    assert list(hosts) == ["*:8080"]
    body = lines(hosts["*:8080"])
    assert 'RequestHeader set X-Forwarded-Proto "http"' in body
    assert not any(line.startswith(("SSL", "Protocols", "Rewrite")) for line in body)
    assert "Strict-Transport-Security" not in hosts["*:8080"]
    assert [line for line in body if line.startswith("ProxyPass ")] == [
        'ProxyPass "/.well-known/acme-challenge/" "!"',
        'ProxyPass "/" "balancer://app/"',
    ]


def test_the_renewal_hook_checks_then_reloads(full):
    hook = full["files"]["/etc/groundwork/tls/hooks/shop.d/apache"]
    assert hook.startswith("#!/bin/sh\n")
    assert hook.splitlines()[-2:] == [
        "/usr/bin/python3 /etc/apache2/groundwork/check",
        "exec /usr/bin/systemctl reload apache2.service",
    ]


def test_the_role_files_are_in_the_specs(full):
    files = full["files"]
    assert files["/etc/apache2/groundwork/check"] == (FILES / "check.py").read_text()
    assert files["/etc/apache2/groundwork/ffdhe2048.pem"].startswith("-----BEGIN DH PARAMETERS-----")
    assert files["/etc/apache2/groundwork/ffdhe2048.pem"].endswith("-----END DH PARAMETERS-----\n")


def test_every_module_a_directive_needs_is_loaded(full):
    """Directives of the rendered files and the module that provides each (a missing one
    fails apache2ctl -t on the host; this finds it before)."""
    needs = {
        "SSLEngine": "ssl",
        "Protocols h2": "http2",
        "RewriteEngine": "rewrite",
        "ProxyPass": "proxy",
        "BalancerMember": "proxy_balancer",
        "ProxyHCExpr": "proxy_hcheck",
        "lbmethod=byrequests": "lbmethod_byrequests",
        "lbmethod=bybusyness": "lbmethod_bybusyness",
        "AuthType Basic": "auth_basic",
        "AuthUserFile": "authn_file",
        "Require valid-user": "authz_user",
        "Require ip": "authz_host",
        "Header always": "headers",
        "RequestHeader": "headers",
        "AliasMatch": "alias",
        "DeflateCompressionLevel": "deflate",
        "RequestReadTimeout": "reqtimeout",
        "SSLSessionCache": "socache_shmcb",
        "ForceType": "mime",
        "SetEnvIf": "setenvif",
        "DirectoryIndex": "dir",
        "SetHandler server-status": "status",
    }
    text = "\n".join(content or "" for path, content in full["files"].items() if path.endswith(".conf"))
    loaded = set(full["result"].data["modules"])
    for directive, module in needs.items():
        if directive in text:
            assert module in loaded, f"{directive} needs {module}"


def test_the_client_address_header_does_not_depend_on_mod_ssl():
    model = validated([PLAIN], UPSTREAMS[:1])
    files, result = rendered(model)
    site = files["/etc/apache2/sites-enabled/plain.conf"]
    assert "%{REMOTE_ADDR}s" not in site or "ssl" in result.data["modules"]
