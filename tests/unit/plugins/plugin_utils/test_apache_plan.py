# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of groundwork.server.apache: validation, modules, the rendering helpers, files
and changes, as tables (input and inspection -> result)."""

from __future__ import annotations

import copy
import json
import re

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import digest
from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_plan as apache
from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_role as role
from ansible_collections.groundwork.server.plugins.plugin_utils import _web_server as web
from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import FEATURES

DEFAULTS = {
    "apache_sites": [],
    "apache_upstreams": [],
    "apache_certificates": [],
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
SITES = {
    "apache_certificates": ["shop"],
    "apache_upstreams": [{"name": "app", "servers": [{"group": "appservers", "port": 8000}]}],
    "apache_sites": [
        {"name": "shop", "server_names": ["shop.test"], "tls": {"certificate": "shop"}, "upstream": "app"},
        {
            "name": "admin",
            "server_names": ["admin.test"],
            "root": "/var/www/html",
            "port": 8080,
            "basic_auth": {"users": [{"name": "ops", "password": "secret-pw"}]},
        },
    ],
}
DEBIAN_12 = {"id": "debian", "name": "Debian GNU/Linux", "version_id": "12", "version": "12.8"}
MODS = "/etc/apache2/mods-enabled"


def available(**changes):
    """mods-available as the probe reports it on Debian 12 (the modules the role may use), with
    the Depends of each .load and whether it has a .conf."""
    modules = {
        "mpm_event": ([], True),
        "mpm_worker": ([], True),
        "mpm_prefork": ([], True),
        "authz_core": ([], False),
        "authz_host": (["authz_core"], False),
        "authz_user": (["authz_core"], False),
        "authn_core": ([], False),
        "authn_file": ([], False),
        "auth_basic": (["authn_core"], False),
        "mime": ([], True),
        "dir": ([], True),
        "alias": ([], True),
        "reqtimeout": ([], True),
        "status": ([], True),
        "headers": ([], False),
        "deflate": (["filter"], True),
        "filter": ([], False),
        "setenvif": ([], True),
        "ssl": (["setenvif", "mime", "socache_shmcb"], True),
        "socache_shmcb": ([], False),
        "http2": ([], True),
        "rewrite": ([], False),
        "proxy": ([], True),
        "proxy_http": (["proxy"], False),
        "proxy_balancer": (["proxy", "alias", "slotmem_shm"], True),
        "slotmem_shm": ([], False),
        "lbmethod_byrequests": (["proxy_balancer"], False),
        "lbmethod_bybusyness": (["proxy_balancer"], False),
        "proxy_hcheck": (["proxy"], False),
        "expires": ([], False),
        "autoindex": ([], True),
    }
    answer = {name: {"depends": list(depends), "conf": conf} for name, (depends, conf) in modules.items()}
    for name, value in changes.items():
        if value is None:
            answer.pop(name)
        else:
            answer[name] = value
    return answer


class Context:
    host = "lb1"

    def __init__(self, check_mode=False):
        self.groups = {"appservers": ["app1", "app2"], "loadbalancers": ["lb1"]}
        self.hostvars = {"app1": {"ansible_host": "10.0.0.11"}, "app2": {}}
        self.check_mode = check_mode
        self.rendered = []

    def render(self, template, **extra):
        """What files.j2 renders, made of the values it was given (the tests check the plan;
        tests/unit/roles/test_apache_templates.py renders the real templates)."""
        self.rendered.append((template, extra))
        model = extra["__apache_model"]
        values = extra["__apache"]
        return json.dumps(
            {
                "ports.conf": f"ports {values['plain_ports'] + values['tls_ports']}\n",
                "groundwork.conf": f"workers {values['mpm']['max_request_workers']}\n",
                "sandbox.conf": "[Service]\n",
                "sites": {site["name"]: f"site {site['name']}\n" for site in model["sites"]},
                "hooks": {name: f"hook {name}\n" for name in model["certificates"]},
            }
        )

    def read_file(self, name):
        return {"ffdhe2048.pem": "DHPARAM\n\n", "check.py": "CHECK\n"}[name]


def inputs(**changes):
    values = copy.deepcopy(DEFAULTS)
    values.update(copy.deepcopy(SITES))
    values.update(changes)
    return values


def validated(**changes):
    model, problems = role.validate(inputs(**changes), Context())
    assert problems == []
    return model


def problems_of(**changes):
    """The problems of the defaults changed by ``changes`` (no sites unless given)."""
    values = copy.deepcopy(DEFAULTS)
    values.update(changes)
    return role.validate(values, Context())[1]


def probe(**changes):
    answer = {
        "version": "2.4.62",
        "cpus": 2,
        "memory_kb": 2 * 1024 * 1024,
        "modules": available(),
        "enabled": {},
        "ocsp": {"shop": ""},
        "hooks": [],
        "acme_pending": [],
        "renew_service": False,
    }
    answer.update(changes)
    return answer


def state(content, **attributes):
    return {
        "state": "file",
        "sha256": digest(content),
        "owner": "root",
        "uid": 0,
        "group": "root",
        "gid": 0,
        "mode": "0644",
        **attributes,
    }


def empty_host(model, answer=None):
    return {
        "os": DEBIAN_12,
        "packages": {},
        "units": {"apache2.service": {"enabled": "not-found", "active": "inactive"}},
        "files": {path: {"state": "absent"} for path in apache.paths(model)},
        "dirs": {directory: {} for directory in apache.OWNED_DIRS},
        "probe": answer or probe(),
    }


def converged(model, **probe_changes):
    """The inspection of a host that runs exactly this configuration: the files as the
    inspection reads them, the module links as the probe reads mods-enabled."""
    answer = probe(**probe_changes)
    first = role.plan(model, empty_host(model, answer), Context())
    files, enabled = {}, {}
    dirs = {directory: {} for directory in apache.OWNED_DIRS}
    for spec in first.data["files"]:
        path = spec["path"]
        directory, _slash, name = path.rpartition("/")
        if spec.get("state") == "absent":
            files[path] = {"state": "absent"}
            continue
        if spec.get("state") == "link":
            enabled[name] = spec["src"]
            dirs[directory][name] = "link"
            continue
        files[path] = state(spec["content"], group=spec.get("group", "root"), mode=spec.get("mode", "0644"))
        if directory in dirs:
            dirs[directory][name] = "file"
    files[apache.challenge_dir(model)] = {
        "state": "directory",
        "owner": "root",
        "uid": 0,
        "group": "root",
        "gid": 0,
        "mode": "0755",
    }
    return {
        "os": DEBIAN_12,
        "packages": dict.fromkeys(web.package_names(apache.packages(model)), "installed"),
        "units": {"apache2.service": {"enabled": "enabled", "active": "active"}},
        "files": files,
        "dirs": dirs,
        "probe": {**answer, "enabled": enabled},
    }


def drift(inspection, **changes):
    inspection = copy.deepcopy(inspection)
    for key, value in changes.items():
        if key == "files":
            inspection["files"].update(value)
        elif key == "dirs":
            for directory, entries in value.items():
                inspection["dirs"][directory].update(entries)
        elif key == "enabled":
            for name, target in value.items():
                if target == "gone":
                    inspection["probe"]["enabled"].pop(name)
                    inspection["dirs"][MODS].pop(name)
                else:
                    inspection["probe"]["enabled"][name] = target
                    inspection["dirs"][MODS][name] = "link" if target else "file"
        elif key == "probe":
            inspection["probe"].update(value)
        else:
            inspection[key] = value
    return inspection


def site_of(**site):
    """The validated model of one site (with the upstream 'app'), and that site."""
    model = validated(apache_sites=[{"name": "shop", "server_names": ["shop.test"], **site}])
    return model, model["sites"][0]


# --- validation ---------------------------------------------------------------------------


def test_the_defaults_and_the_example_sites_are_accepted():
    assert problems_of() == []
    assert role.validate(inputs(), Context())[1] == []


def test_apache_renders_every_feature_but_nginx_only_ones():
    assert set(FEATURES) - role.FEATURES == {
        "method_client_address",
        "method_hash",
        "failure_count",
        "retries_on_response",
        "rate_limit",
        "raw_nginx",
    }
    assert set(FEATURES) >= role.FEATURES


def _upstream(**keys):
    server = keys.pop("server", {})
    return [{"name": "app", "servers": [{"address": "10.0.0.5:8000", **server}], **keys}]


def _site(**keys):
    return [{"name": "shop", "server_names": ["shop.test"], **keys}]


@pytest.mark.parametrize(
    ("changes", "where", "key", "feature"),
    [
        (
            {"apache_upstreams": _upstream(method="client_address")},
            "apache_upstreams[0] (app)",
            "method 'client_address'",
            "method_client_address",
        ),
        # nginx's alias of client_address
        (
            {"apache_upstreams": _upstream(method="ip_hash")},
            "apache_upstreams[0] (app)",
            "method 'client_address'",
            "method_client_address",
        ),
        (
            {"apache_upstreams": _upstream(method="hash", hash_key="uri")},
            "apache_upstreams[0] (app)",
            "method 'hash'",
            "method_hash",
        ),
        (
            {"apache_sites": _site(root="/srv/www", rate_limit={"rate": "10r/s"})},
            "apache_sites[0] (shop)",
            "rate_limit.rate '10r/s'",
            "rate_limit",
        ),
        (
            {"apache_sites": _site(root="/srv/www", raw_nginx=["gzip_static on;"])},
            "apache_sites[0] (shop)",
            "raw_nginx ['gzip_static on;']",
            "raw_nginx",
        ),
        (
            {"apache_sites": _site(root="/srv/www", locations=[{"path": "/x", "raw": ["expires 1d;"]}])},
            "apache_sites[0] (shop)",
            "locations[0].raw_nginx ['expires 1d;']",
            "raw_nginx",
        ),
        # Apache's default is one failure; three, given explicitly, is refused
        (
            {"apache_upstreams": _upstream(max_fails=3)},
            "apache_upstreams[0] (app)",
            "max_fails 3",
            "failure_count",
        ),
        (
            {"apache_upstreams": _upstream(server={"max_fails": 3})},
            "apache_upstreams[0] (app)",
            "max_fails 3",
            "failure_count",
        ),
        (
            {"apache_upstreams": _upstream(next_upstream=["error", 502])},
            "apache_upstreams[0] (app)",
            "next_upstream ['502']",
            "retries_on_response",
        ),
        (
            {"apache_upstreams": _upstream(next_upstream=["error", "timeout", "http_503"])},
            "apache_upstreams[0] (app)",
            "next_upstream ['timeout', '503']",
            "retries_on_response",
        ),
    ],
)
def test_features_apache_does_not_render_are_refused_naming_site_key_and_feature(
    changes, where, key, feature
):
    problems = problems_of(**changes)
    listed = ", ".join(name for name in FEATURES if name in role.FEATURES)
    assert problems == [
        f"{where}: {key} is not rendered by groundwork.server.apache"
        f" (feature {feature}; it renders: {listed})"
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"apache_upstreams": _upstream(send_timeout="30s")},
            'apache_upstreams[0] (app): send_timeout "30s" and read_timeout "60s" differ; Apache has one'
            " time-out for both (give them the same value for groundwork.server.apache).",
        ),
        (
            {"apache_upstreams": _upstream(server={"weight": 101})},
            "apache_upstreams[0] (app): servers weight 101 of 10.0.0.5:8000 is above 100, the highest load"
            " factor of groundwork.server.apache.",
        ),
        (
            {"apache_sites": _site(root="/srv/www", client_max_body_size="3g")},
            'apache_sites[0] (shop): client_max_body_size "3g" is above Apache\'s limit of 2 GiB'
            " (use 0 for no limit).",
        ),
        (
            {
                "apache_upstreams": _upstream(),
                "apache_sites": _site(
                    locations=[{"path": r"\.php$", "match": "regex", "proxy": "app", "proxy_path": "/x"}]
                ),
            },
            'apache_sites[0] (shop): locations[0].proxy_path "/x" cannot replace a path matched by a'
            " regular expression.",
        ),
        (
            {
                "apache_sites": _site(
                    locations=[{"path": "/old", "return": {"code": 301, "target": "/new/$1"}}]
                )
            },
            "apache_sites[0] (shop): locations[0].return.target '/new/$1' must not contain '$' before a"
            " name or '{' (a server would read a variable there)",
        ),
        (
            {"apache_sites": _site(root="/srv/www", redirects=[{"from": "/a", "to": "https://x.test/$1"}])},
            "apache_sites[0] (shop): redirects[0].to 'https://x.test/$1' must not contain '$' before a"
            " name or '{' (a server would read a variable there)",
        ),
    ],
)
def test_what_apache_cannot_express_as_the_model_means_it_is_refused(changes, expected):
    assert problems_of(**changes) == [expected]


@pytest.mark.parametrize(
    "location",
    [
        # a '$' in the text of a response that is not a redirect is only text (one before a
        # name would be a variable to nginx: the site model refuses it for every server)
        {"path": "/price", "return": {"code": 200, "target": "costs 5 $"}},
        {"path": "/gone", "return": {"code": 410, "target": "moved $ away"}},
        # a path replaced in a prefix location
        {"path": "/api/", "proxy": "app", "proxy_path": "/"},
    ],
)
def test_what_apache_expresses_is_accepted(location):
    assert problems_of(apache_upstreams=_upstream(), apache_sites=_site(locations=[location])) == []


def test_the_largest_body_apache_takes_is_accepted():
    assert problems_of(apache_sites=_site(root="/srv/www", client_max_body_size="2147483647")) == []
    assert problems_of(apache_sites=_site(root="/srv/www", client_max_body_size="2g")) == [
        'apache_sites[0] (shop): client_max_body_size "2g" is above Apache\'s limit of 2 GiB'
        " (use 0 for no limit)."
    ]


SETTING_PROBLEMS = [
    ("apache_max_request_workers", 9, "'auto' or a number of simultaneous requests from 10 to 999999"),
    (
        "apache_max_request_workers",
        "1000000",
        "'auto' or a number of simultaneous requests from 10 to 999999",
    ),
    ("apache_max_request_workers", "AUTO", "'auto' or a number of simultaneous requests from 10 to 999999"),
    ("apache_keepalive_timeout", 0, "seconds from 1 to 9999"),
    ("apache_keepalive_timeout", "30s", "seconds from 1 to 9999"),
    ("apache_keepalive_requests", -1, "a number (0: unlimited)"),
    ("apache_keepalive_requests", "10000000", "a number (0: unlimited)"),
    ("apache_timeout", 0, "seconds from 1 to 99999"),
    ("apache_timeout", "1m", "seconds from 1 to 99999"),
    ("apache_client_max_body_size", "10 MB", "a size like '10m'"),
    ("apache_client_max_body_size", "1t", "a size like '10m'"),
    ("apache_compression_level", 0, "a level from 1 to 9"),
    ("apache_compression_level", 10, "a level from 1 to 9"),
    ("apache_ssl_session_cache_size", "1g", "a size like '10m'"),
]
# The settings every web server has (_web_server.global_problems), in the Checker's wording.
GLOBAL_PROBLEMS = [
    (
        "apache_acme_webroot",
        "relative/dir",
        "apache_acme_webroot: 'relative/dir' is not a normalised absolute path (expected /like/this,"
        " without '..')",
    ),
    (
        "apache_acme_webroot",
        "/var/lib/acme dir",
        "apache_acme_webroot: '/var/lib/acme dir' is not valid (expected letters, digits, '.', '_', '-'"
        " and '/')",
    ),
    (
        "apache_acme_webroot",
        "/var/lib/../../etc",
        "apache_acme_webroot: '/var/lib/../../etc' is not a normalised absolute path (expected"
        " /like/this, without '..')",
    ),
    (
        "apache_acme_webroot",
        "/etc/apache2",
        "apache_acme_webroot: '/etc/apache2' is outside /srv, /var/lib, /var/www (expected a directory"
        " under one of them)",
    ),
    (
        "apache_hsts_max_age",
        -1,
        "apache_hsts_max_age: -1 is out of range (expected a whole number from 0 to 1000000000)",
    ),
    ("apache_security_headers", "yes", "apache_security_headers: 'yes' must be true or false"),
]


@pytest.mark.parametrize(("var", "value", "expected"), GLOBAL_PROBLEMS)
def test_bad_global_settings_are_refused_with_variable_value_and_what_is_allowed(var, value, expected):
    assert problems_of(**{var: value}) == [expected]


@pytest.mark.parametrize(("var", "value", "expected"), SETTING_PROBLEMS)
def test_bad_settings_are_refused_with_variable_value_and_what_is_allowed(var, value, expected):
    shown = json.dumps(value)
    assert problems_of(**{var: value}) == [f"{var}: {shown} is not valid (expected {expected})."]


@pytest.mark.parametrize("var", list(apache.SETTINGS))
@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "true"), (False, "false"), ([30], "[30]"), ({"a": 1}, "{'a': 1}"), (None, "null")],
)
def test_booleans_lists_and_nothing_are_never_a_setting(var, value, shown):
    (problem,) = [p for p in apache.setting_problems({**DEFAULTS, var: value}) if p.startswith(var)]
    expected = apache.SETTINGS[var][1]
    assert problem == f"{var}: {shown} is not valid (expected {expected})."


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("apache_max_request_workers", "auto"),
        ("apache_max_request_workers", 10),
        ("apache_max_request_workers", "999999"),
        ("apache_keepalive_timeout", "9999"),
        ("apache_keepalive_requests", 0),
        ("apache_timeout", 99999),
        ("apache_client_max_body_size", "0"),
        ("apache_client_max_body_size", "512K"),
        ("apache_compression_level", "9"),
        ("apache_ssl_session_cache_size", 512000),
        ("apache_acme_webroot", "/srv/acme-root_1.d"),
    ],
)
def test_good_settings_pass(var, value):
    assert apache.setting_problems({**DEFAULTS, var: value}) == []


def test_a_global_body_size_above_two_gib_is_refused():
    assert problems_of(apache_client_max_body_size="3g") == [
        'apache_client_max_body_size: "3g" is above Apache\'s limit of 2 GiB (use 0 for no limit).'
    ]


PACKAGES_EXPECTED = "a Debian package name (a-z, 0-9, '+', '-', '.'), optionally with ':arch' and '=version'"


@pytest.mark.parametrize(
    ("modules", "packages", "expected"),
    [
        (["expires", "headers", "mpm_event", "proxy_wstunnel"], ["libapache2-mod-security2=2.9.7-1"], []),
        (
            ["Bad-Name"],
            [],
            [
                'apache_modules: "Bad-Name" is not valid (expected module names as in'
                " /etc/apache2/mods-available, like 'expires')."
            ],
        ),
        (
            ["mod expires", 3],
            [],
            [
                'apache_modules: "mod expires" is not valid (expected module names as in'
                " /etc/apache2/mods-available, like 'expires').",
                "apache_modules: 3 is not valid (expected module names as in /etc/apache2/mods-available,"
                " like 'expires').",
            ],
        ),
        (
            ["mpm_prefork", "mpm_worker"],
            [],
            [
                'apache_modules: "mpm_prefork" is not allowed (the role runs the event MPM).',
                'apache_modules: "mpm_worker" is not allowed (the role runs the event MPM).',
            ],
        ),
        (
            [],
            ["Apache2", "php 8", "x", "ok-pkg=1:2.0~rc1+deb12u1"],
            [
                f"apache_packages[0]: 'Apache2' is not valid (expected {PACKAGES_EXPECTED})",
                f"apache_packages[1]: 'php 8' is not valid (expected {PACKAGES_EXPECTED})",
                f"apache_packages[2]: 'x' is not valid (expected {PACKAGES_EXPECTED})",
            ],
        ),
        (
            "expires",
            None,
            [
                'apache_modules: "expires" must be a list (module names as in /etc/apache2/mods-available,'
                " like 'expires').",
                "apache_packages: None must be a list of Debian package names",
            ],
        ),
    ],
)
def test_modules_and_packages_settings(modules, packages, expected):
    assert problems_of(apache_modules=modules, apache_packages=packages) == expected


@pytest.mark.parametrize(
    ("lines", "bad"),
    [
        (["<Directory />"], 0),
        (["   </VirtualHost>"], 0),
        (["Header set X-A 1", "SetEnv A \\"], 1),
        (['Header set X-A "a\tb"'], 0),
        (["Header set X-A \x7f"], 0),
    ],
)
def test_raw_apache_lines_that_could_leave_their_place_are_refused(lines, bad):
    problems = problems_of(apache_sites=_site(root="/srv/www", raw_apache=lines))
    assert problems == [
        f"apache_sites[0] (shop): raw_apache[{bad}] {lines[bad]!r} must be one directive: no control"
        " characters, no section (<...>), no final backslash"
    ]


def test_raw_apache_lines_are_accepted_otherwise_and_rendered_stripped():
    lines = [
        '  Header set X-Robots-Tag "noindex"  ',
        "SetEnvIf Request_URI \\.gif$ image",
        "RewriteRule ^ - [L]",
    ]
    model = validated(
        apache_sites=_site(root="/srv/www", raw_apache=lines, locations=[{"path": "/a", "raw_apache": lines}])
    )
    site = model["sites"][0]
    stripped = [line.strip() for line in lines]
    assert site["raw_apache"] == stripped
    assert apache.site_rules(site)[0]["raw"] == stripped


def test_upstreams_default_to_what_apache_does():
    upstream = validated(apache_upstreams=_upstream())["upstreams"][0]
    assert upstream["next_upstream"] == ["error"]
    assert [server["max_fails"] for server in upstream["servers"]] == [1]
    assert apache.UPSTREAM_DEFAULTS == {"max_fails": 1, "next_upstream": ["error"]}


def test_passwords_never_appear_in_problems():
    sites = copy.deepcopy(SITES["apache_sites"])
    sites[1]["basic_auth"]["users"][0]["name"] = "bad name"
    _model, problems = role.validate(inputs(apache_sites=sites), Context())
    assert problems and not any("secret-pw" in problem for problem in problems)


# --- modules ----------------------------------------------------------------------------


def _needed(**changes):
    return sorted(set(apache.needed_modules(validated(**changes))) - set(apache.BASE_MODULES))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"apache_sites": [], "apache_upstreams": [], "apache_certificates": []}, []),
        ({"apache_sites": _site(root="/srv/www"), "apache_upstreams": []}, []),
        # TLS: mod_ssl, its session cache, HTTP/2; the redirect to HTTPS is a rewrite
        (
            {"apache_sites": _site(root="/srv/www", tls={"certificate": "shop"}), "apache_upstreams": []},
            ["http2", "rewrite", "socache_shmcb", "ssl"],
        ),
        (
            {
                "apache_sites": _site(root="/srv/www", tls={"certificate": "shop", "redirect": False}),
                "apache_upstreams": [],
            },
            ["http2", "socache_shmcb", "ssl"],
        ),
        (
            {
                "apache_sites": _site(
                    root="/srv/www", basic_auth={"users": [{"name": "a", "password": "b"}]}
                ),
                "apache_upstreams": [],
            },
            ["auth_basic", "authn_file", "authz_user"],
        ),
        (
            {"apache_sites": [], "apache_upstreams": _upstream()},
            ["lbmethod_byrequests", "proxy", "proxy_balancer", "proxy_http", "slotmem_shm"],
        ),
        (
            {"apache_sites": [], "apache_upstreams": _upstream(method="least_conn")},
            ["lbmethod_bybusyness", "proxy", "proxy_balancer", "proxy_http", "slotmem_shm"],
        ),
        (
            {
                "apache_sites": [],
                "apache_upstreams": [
                    *_upstream(),
                    {"name": "api", "method": "least_connections", "servers": [{"address": "b:1"}]},
                ],
            },
            [
                "lbmethod_bybusyness",
                "lbmethod_byrequests",
                "proxy",
                "proxy_balancer",
                "proxy_http",
                "slotmem_shm",
            ],
        ),
        (
            {"apache_sites": [], "apache_upstreams": _upstream(health_check={"path": "/health"})},
            ["lbmethod_byrequests", "proxy", "proxy_balancer", "proxy_hcheck", "proxy_http", "slotmem_shm"],
        ),
        ({"apache_sites": [], "apache_upstreams": [], "apache_modules": ["expires"]}, ["expires"]),
    ],
)
def test_the_modules_the_sites_need(changes, expected):
    assert _needed(**changes) == expected


def test_every_configuration_loads_the_base_modules_with_the_event_mpm():
    assert apache.needed_modules(validated(apache_sites=[], apache_upstreams=[])) == sorted(
        apache.BASE_MODULES
    )
    assert "mpm_event" in apache.BASE_MODULES


def test_dependencies_come_from_the_probes_depends_lines_transitively():
    model = validated(apache_sites=[], apache_upstreams=_upstream())
    # lbmethod_byrequests -> proxy_balancer -> proxy, alias, ...; the probe's word counts
    # (here headers depends on env and the balancer on shm_slots, which Debian does not say)
    mods = available(
        lbmethod_byrequests={"depends": ["proxy_balancer"], "conf": False},
        headers={"depends": ["env"], "conf": False},
        env={"depends": [], "conf": False},
        shm_slots={"depends": [], "conf": False},
        proxy_balancer={"depends": ["proxy", "alias", "shm_slots"], "conf": True},
    )
    loaded, problems = apache.modules(model, mods)
    assert problems == []
    assert {"lbmethod_byrequests", "proxy_balancer", "proxy", "alias", "shm_slots", "env"} <= set(loaded)
    assert "env" not in apache.modules(model, available())[0]
    assert loaded == sorted(loaded)
    assert len(loaded) == len(set(loaded))


def test_without_apache_installed_the_known_dependencies_are_assumed():
    model = validated()
    loaded, problems = apache.modules(model, None)
    assert problems == []
    # ssl -> setenvif (only Debian's Depends line says so); the balancer -> alias, slotmem_shm
    assert {"setenvif", "socache_shmcb", "proxy", "alias", "slotmem_shm", "authn_core", "authz_core"} <= set(
        loaded
    )
    assert loaded == apache.modules(model, available())[0]


@pytest.mark.parametrize(
    ("changes", "missing", "expected"),
    [
        (
            {},
            {"proxy_balancer": None},
            [
                "proxy_balancer: a module the sites need is not in /etc/apache2/mods-available (install the"
                " package that provides it with apache_packages)."
            ],
        ),
        # a dependency missing is named too
        (
            {},
            {"slotmem_shm": None},
            [
                "slotmem_shm: a module the sites need is not in /etc/apache2/mods-available (install the"
                " package that provides it with apache_packages)."
            ],
        ),
        (
            {"apache_modules": ["security2"]},
            {},
            [
                "security2: a module apache_modules need is not in /etc/apache2/mods-available (install the"
                " package that provides it with apache_packages)."
            ],
        ),
    ],
)
def test_a_module_not_in_mods_available_is_a_problem_naming_it(changes, missing, expected):
    assert apache.modules(validated(**changes), available(**missing))[1] == expected


def test_module_links_load_every_module_and_debians_conf_only_for_the_users_extras():
    model = validated(apache_modules=["expires", "autoindex"])
    mods = available()
    loaded, _problems = apache.modules(model, mods)
    links = apache.module_links(model, loaded, mods)
    assert all(link["state"] == "link" for link in links)
    loads = [link for link in links if link["path"].endswith(".load")]
    confs = [link for link in links if link["path"].endswith(".conf")]
    assert [link["path"] for link in loads] == [f"{MODS}/{name}.load" for name in loaded]
    assert loads[0]["src"] == f"../mods-available/{loaded[0]}.load"
    # ssl, proxy, mime have a .conf too: the role renders their settings itself
    assert confs == [
        {"path": f"{MODS}/autoindex.conf", "state": "link", "src": "../mods-available/autoindex.conf"}
    ]
    # expires has no .conf; without the probe's answer no .conf is known
    assert [
        link["path"] for link in apache.module_links(model, loaded, None) if link["path"].endswith(".conf")
    ] == []


# --- rendering helpers --------------------------------------------------------------------


def test_site_rules_follow_nginxs_order_of_locations():
    _model, site = site_of(
        root="/srv/www",
        locations=[
            {"path": "/a", "root": "/srv/a"},  # 0 prefix
            {"path": "/abc", "root": "/srv/abc"},  # 1 prefix, longer
            {"path": r"\.php$", "match": "regex", "return": {"code": 403}},  # 2 regex
            {"path": "/", "match": "exact", "return": {"code": 200, "target": "home"}},  # 3 exact
            {"path": "/static", "match": "priority", "alias": "/srv/static"},  # 4 priority
            {"path": "/static/img", "match": "priority", "alias": "/srv/img"},  # 5 priority, longer
            {"path": r"\.JPG$", "match": "iregex", "return": {"code": 404}},  # 6 regex, after 2
            {"path": "/ping", "match": "exact", "return": {"code": 200}},  # 7 exact, after 3
        ],
    )
    # exact (in order), priority (longest first), regex (in order), prefix (longest first, "/" last)
    assert [rule["index"] for rule in apache.site_rules(site)] == [3, 7, 5, 4, 2, 6, 1, 0, 8]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (
            {"path": "/api", "proxy": "app"},
            {"pattern": "^/api", "prefix": "/api", "target": "balancer://app/api", "capture": "^(/api.*)$"},
        ),
        (
            {"path": "/api/", "proxy": "app", "proxy_path": "/v1/"},
            {"pattern": "^/api/", "prefix": "/api/", "target": "balancer://app/v1/"},
        ),
        (
            {"path": "/login", "match": "exact", "proxy": "app"},
            {
                "pattern": "^/login$",
                "prefix": None,
                "target": "balancer://app/login",
                "capture": "^(/login)$",
            },
        ),
        (
            {"path": "/v1.0", "match": "priority", "proxy": "app"},
            {"pattern": r"^/v1\.0", "prefix": "/v1.0", "target": "balancer://app/v1.0"},
        ),
        # a regular expression: the whole path captured as $1, the pattern kept as written
        (
            {"path": r"\.php$", "match": "regex", "proxy": "app"},
            {
                "pattern": r"\.php$",
                "prefix": None,
                "target": "balancer://app$1",
                "capture": r"^((?=.*(?:\.php$))/.*)$",
            },
        ),
        (
            {"path": r"\.php$", "match": "iregex", "proxy": "app"},
            {"pattern": r"(?i)\.php$", "capture": r"(?i)^((?=.*(?:\.php$))/.*)$"},
        ),
    ],
)
def test_proxy_targets(location, expected):
    _model, site = site_of(upstream="app", locations=[location])
    rule = apache.site_rules(site)[0]
    assert rule["kind"] == "proxy"
    assert {key: rule[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("path", "match", "request_path"),
    [
        (r"\.php$", "regex", "/shop/index.php"),
        (r"\.PHP$", "iregex", "/shop/index.php"),
        pytest.param(
            "^/(images|js)/",
            "regex",
            "/images/logo.png",
        ),
    ],
)
def test_the_capture_of_a_regex_location_is_the_whole_path(path, match, request_path):
    """ProxyPassMatch "<capture>" "balancer://app$1" and AliasMatch "<capture>" "<root>$1" rely on
    $1 being the request's whole path (PCRE and Python number groups alike)."""
    _model, site = site_of(upstream="app", locations=[{"path": path, "match": match, "proxy": "app"}])
    rule = apache.site_rules(site)[0]
    found = re.search(rule["capture"], request_path)
    assert found is not None
    assert found.group(1) == request_path
    assert re.sub(r"\$1", found.group(1), rule["target"]) == "balancer://app" + request_path


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (
            {"path": "/old", "return": {"code": 301, "target": "https://new.test/"}},
            {"kind": "redirect", "code": 301, "target": "https://new.test/", "pattern": "^/old"},
        ),
        (
            {"path": "/tmp", "match": "exact", "return": {"code": 307, "target": "/temp"}},
            {"kind": "redirect", "code": 307, "target": "/temp", "pattern": "^/tmp$"},
        ),
        (
            {"path": "/ping", "match": "exact", "return": {"code": 200, "target": "pong"}},
            {
                "kind": "respond",
                "code": 200,
                "file": "/etc/apache2/groundwork/responses/shop-0",
                "content": "pong",
            },
        ),
        (
            {"path": "/empty", "return": {"code": 200}},
            {"kind": "respond", "file": "/etc/apache2/groundwork/responses/shop-0", "content": ""},
        ),
        (
            {"path": "/private", "return": {"code": 403, "target": 'No "entry"'}},
            {"kind": "status", "code": 403, "text": 'No "entry"'},
        ),
        ({"path": "/gone", "return": {"code": 410}}, {"kind": "status", "code": 410, "text": None}),
        (
            {"path": "/files", "alias": "/srv/files"},
            {"kind": "alias", "prefix": "/files", "directory": "/srv/files", "file": "/srv/files"},
        ),
        (
            {"path": "/assets", "root": "/srv/public/"},
            {
                "kind": "root",
                "directory": "/srv/public/",
                "file": "/srv/public$1",
                "capture": "^(/assets.*)$",
            },
        ),
        (
            {"path": "/docs", "headers": {"Cache-Control": "max-age=60", "X-Rate": "100%"}},
            {"kind": "static", "headers": {"Cache-Control": '"max-age=60"', "X-Rate": '"100%%"'}},
        ),
    ],
)
def test_return_alias_root_and_headers_of_locations(location, expected):
    _model, site = site_of(root="/srv/www", locations=[location])
    rule = apache.site_rules(site)[0]
    assert {key: rule[key] for key in expected} == expected


def error_document_kind(text):
    """What Apache 2.4 makes of ErrorDocument's second argument (server/core.c
    set_error_document): a text with a space is a message; else a leading '/' is a local
    path and a URL a redirect; anything else a message."""
    if " " in text:
        return "message"
    if text.startswith("/"):
        return "local path"
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", text):
        return "redirect"
    return "message"


@pytest.mark.parametrize(
    "target",
    [
        "No entry here",
        "Forbidden",
        pytest.param(
            "/denied",
        ),
    ],
)
def test_the_text_of_a_status_response_is_sent_as_text(target):
    model, problems = role.validate(
        inputs(
            apache_sites=_site(
                root="/srv/www", locations=[{"path": "/p", "return": {"code": 403, "target": target}}]
            )
        ),
        Context(),
    )
    if problems:  # refused before any change: also a way to keep the model's meaning
        return
    (rule,) = apache.site_rules(model["sites"][0])[:1]
    word, _rest = apache_word(rule["q"]["text"])
    assert error_document_kind(word) == "message"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        # every backslash is doubled (Apache reads a doubled one as one)
        ("C:\\dir\\", '"C:\\\\dir\\\\"'),
        ("a\\d+b", '"a\\\\d+b"'),
        ("", '""'),
        (404, '"404"'),
    ],
)
def test_quoted(value, expected):
    assert apache.quoted(value) == expected


def apache_word(text):
    """One argument as Apache 2.4 reads it (server/util.c ap_getword_conf and substring_conf):
    in a quoted word a backslash escapes the quote and a backslash; any other backslash is
    itself. Returns (word, rest of the line)."""
    quote = text[0]
    assert quote == '"'
    end = 1
    while end < len(text) and text[end] != quote:
        end += 2 if text[end] == "\\" and end + 1 < len(text) and text[end + 1] in (quote, "\\") else 1
    inner, word, i = text[1:end], [], 0
    while i < len(inner):
        if inner[i] == "\\" and i + 1 < len(inner) and inner[i + 1] in (quote, "\\"):
            i += 1
        word.append(inner[i])
        i += 1
    return "".join(word), text[end + 1 :]


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'say "hi"',
        "C:\\dir\\",
        "a\\d+b",
        '50% of "it"',
        pytest.param("a\\\\b", id="two-backslashes"),
        pytest.param('a\\"b', id="backslash-before-quote"),
        pytest.param("dir\\\\", id="two-final-backslashes"),
    ],
)
def test_apache_reads_a_quoted_value_back_unchanged(value):
    word, rest = apache_word(apache.quoted(value))
    assert (word, rest) == (value, "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nosniff", '"nosniff"'),
        ("100%", '"100%%"'),
        ("%{REMOTE_ADDR}e", '"%%{REMOTE_ADDR}e"'),
        ('default-src "self"', '"default-src \\"self\\""'),
    ],
)
def test_header_values_double_the_percent_sign(value, expected):
    assert apache.header_value(value) == expected


@pytest.mark.parametrize(
    ("text", "seconds", "param", "whole"),
    [
        ("10s", 10, "10", 10),
        ("5", 5, "5", 5),
        ("1m30s", 90, "90", 90),
        ("2h", 7200, "7200", 7200),
        ("1d", 86400, "86400", 86400),
        ("500ms", 0.5, "500ms", 1),
        ("1500ms", 1.5, "1500ms", 2),
        ("1s500ms", 1.5, "1500ms", 2),
        ("0s", 0, "1ms", 1),
    ],
)
def test_times(text, seconds, param, whole):
    assert apache.seconds(text) == seconds
    assert apache.timeout_param(text) == param
    assert apache.whole_seconds(text) == whole


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("5", 5),
        ("1k", 1024),
        ("512K", 512 * 1024),
        ("10m", 10 * 1024 * 1024),
        ("2G", 2 * 1024**3),
        ("10 MB", None),
        ("1t", None),
        (None, None),
    ],
)
def test_size_bytes(text, expected):
    assert apache.size_bytes(text) == expected


@pytest.mark.parametrize(
    ("cpus", "memory_kb", "setting", "expected"),
    [
        # 256 requests per CPU, one per 4 MiB, in processes of 64 threads
        (2, 2 * 1024 * 1024, "auto", (8, 512, 2, 192)),
        (1, 2 * 1024 * 1024, "auto", (4, 256, 2, 192)),
        (8, 512 * 1024, "auto", (2, 128, 2, 192)),
        (4, 128 * 1024, "auto", (1, 64, 1, 128)),  # at least one process
        (64, 64 * 1024 * 1024, "auto", (128, 8192, 2, 192)),  # at most 8192
        (None, None, "auto", (4, 256, 2, 192)),  # unknown: one CPU, 1 GiB
        (0, 0, "auto", (4, 256, 2, 192)),
        # an explicit number, rounded up to whole processes
        (2, 2 * 1024 * 1024, "1000", (16, 1024, 2, 192)),
        (2, 2 * 1024 * 1024, 10, (1, 64, 1, 128)),
        (2, 2 * 1024 * 1024, "640", (10, 640, 2, 192)),
    ],
)
def test_mpm_sizing(cpus, memory_kb, setting, expected):
    settings = {**DEFAULTS, "apache_max_request_workers": setting}
    size = apache.mpm(settings, {"cpus": cpus, "memory_kb": memory_kb})
    assert (
        size["server_limit"],
        size["max_request_workers"],
        size["start_servers"],
        size["max_spare_threads"],
    ) == expected
    assert size["min_spare_threads"] == 64
    # the event MPM's rule: MaxSpareThreads >= MinSpareThreads + ThreadsPerChild
    assert size["max_spare_threads"] >= size["min_spare_threads"] + 64


def _member(upstream=None, server=None, websocket=False):
    model = validated(apache_upstreams=_upstream(**(upstream or {}), server=server or {}))
    up = model["upstreams"][0]
    return apache.member_params(up, up["servers"][0], websocket)


@pytest.mark.parametrize(
    ("upstream", "server", "websocket", "expected"),
    [
        ({}, {}, False, ["retry=10", "connectiontimeout=5", "timeout=60", "ttl=60"]),
        (
            {},
            {"weight": 5},
            False,
            ["loadfactor=5", "retry=10", "connectiontimeout=5", "timeout=60", "ttl=60"],
        ),
        (
            {},
            {"backup": True},
            False,
            ["retry=10", "connectiontimeout=5", "timeout=60", "ttl=60", "status=+H"],
        ),
        # never marked failed
        ({}, {"max_fails": 0}, False, ["retry=0", "connectiontimeout=5", "timeout=60", "ttl=60"]),
        ({}, {"fail_timeout": "1m"}, False, ["retry=60", "connectiontimeout=5", "timeout=60", "ttl=60"]),
        ({"keepalive": 0}, {}, False, ["retry=10", "connectiontimeout=5", "timeout=60", "disablereuse=On"]),
        ({}, {}, True, ["retry=10", "connectiontimeout=5", "timeout=60", "ttl=60", "upgrade=websocket"]),
        (
            {"connect_timeout": "500ms", "read_timeout": "2m", "send_timeout": "2m"},
            {},
            False,
            ["retry=10", "connectiontimeout=500ms", "timeout=120", "ttl=60"],
        ),
        (
            {"health_check": {"path": "/health", "interval": "5s", "status": 204}},
            {"weight": 2, "backup": True},
            True,
            [
                "loadfactor=2",
                "retry=10",
                "connectiontimeout=5",
                "timeout=60",
                "ttl=60",
                "upgrade=websocket",
                "hcmethod=GET",
                "hcuri=/health",
                "hcinterval=5",
                "hcexpr=status_204",
                "hcpasses=1",
                "hcfails=1",
                "status=+H",
            ],
        ),
        (
            {"health_check": {"path": "/"}},
            {"max_fails": 0},
            False,
            [
                "retry=0",
                "connectiontimeout=5",
                "timeout=60",
                "ttl=60",
                "hcmethod=GET",
                "hcuri=/",
                "hcinterval=10",
                "hcexpr=status_200",
                "hcpasses=1",
                "hcfails=1",
            ],
        ),
    ],
)
def test_balancer_member_parameters(upstream, server, websocket, expected):
    assert _member(upstream, server, websocket) == expected


def test_a_read_timeout_below_a_second_is_whole_seconds_for_apache():
    params = _member({"read_timeout": "1500ms", "send_timeout": "1500ms"})
    assert "timeout=2" in params


@pytest.mark.parametrize(
    ("upstream", "expected"),
    [
        ({}, {"lbmethod": "byrequests", "maxattempts": 1}),
        ({"method": "least_connections"}, {"lbmethod": "bybusyness", "maxattempts": 1}),
        ({"next_upstream_tries": 3}, {"lbmethod": "byrequests", "maxattempts": 2}),
        ({"next_upstream_tries": 1}, {"lbmethod": "byrequests", "maxattempts": 0}),
        # no retry on the next server at all
        ({"next_upstream": ["off"], "next_upstream_tries": 5}, {"lbmethod": "byrequests", "maxattempts": 0}),
    ],
)
def test_balancers_method_and_tries(upstream, expected):
    model = validated(apache_upstreams=_upstream(**upstream), apache_sites=[])
    (balancer,) = apache.balancers(model)
    assert {key: balancer[key] for key in expected} == expected
    assert balancer["name"] == "app"
    assert [member["url"] for member in balancer["members"]] == ["http://10.0.0.5:8000"]


def test_websocket_upgrade_for_the_upstreams_of_websocket_locations_only():
    model = validated(
        apache_upstreams=[*_upstream(), {"name": "ws", "servers": [{"address": "[fd00::5]:9000"}]}],
        apache_sites=_site(upstream="app", locations=[{"path": "/socket", "proxy": "ws", "websocket": True}]),
    )
    members = {balancer["name"]: balancer["members"][0] for balancer in apache.balancers(model)}
    assert "upgrade=websocket" not in members["app"]["params"]
    assert "upgrade=websocket" in members["ws"]["params"]
    assert members["ws"]["url"] == "http://[fd00::5]:9000"


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ({}, ["Require all granted"]),
        ({"allow": ["10.0.0.0/8", "192.0.2.1"]}, ["Require ip 10.0.0.0/8 192.0.2.1/32"]),
        ({"deny": ["192.0.2.0/24"]}, ["Require all granted", "Require not ip 192.0.2.0/24"]),
        ({"allow": ["all"], "deny": ["192.0.2.7"]}, ["Require all granted", "Require not ip 192.0.2.7/32"]),
        ({"deny": ["all"], "allow": ["10.0.0.0/8"]}, ["Require all denied"]),
        (
            {"basic_auth": {"users": [{"name": "a", "password": "b"}]}},
            ["Require all granted", "Require valid-user"],
        ),
    ],
)
def test_access_lines(site, expected):
    model = validated(apache_sites=_site(root="/srv/www", **site), apache_upstreams=[])
    assert apache.tuning(model, probe(), "lb1")["access"]["shop"] == expected


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ({}, None),
        ({"basic_auth": {"users": [{"name": "a", "password": "b"}]}}, None),
        ({"allow": ["all"]}, None),
        ({"allow": ["10.0.0.0/8", "192.0.2.1"]}, "(!(-R '10.0.0.0/8' || -R '192.0.2.1/32'))"),
        ({"deny": ["192.0.2.0/24"]}, "(-R '192.0.2.0/24')"),
        ({"allow": ["all"], "deny": ["192.0.2.7"]}, "(-R '192.0.2.7/32')"),
        ({"allow": ["10.0.0.0/8"], "deny": ["10.1.0.0/16"]}, "(!(-R '10.0.0.0/8')) || (-R '10.1.0.0/16')"),
        ({"deny": ["all"], "allow": ["10.0.0.0/8"]}, "true"),
    ],
)
def test_the_address_list_refuses_before_any_redirect(site, expected):
    """The expression mod_rewrite forbids with says what the Require lines say."""
    model = validated(apache_sites=_site(root="/srv/www", **site), apache_upstreams=[])
    values = apache.tuning(model, probe(), "lb1")
    assert values["refused"]["shop"] == expected
    assert ("rewrite" in apache.needed_modules(model)) == (expected is not None)


def test_tuning_from_the_host_and_the_model():
    model = validated(
        apache_certificates=["shop", "api"],
        apache_sites=[
            *SITES["apache_sites"],
            {
                "name": "api",
                "server_names": ["api.test"],
                "tls": {"certificate": "api", "port": 8443},
                "upstream": "app",
            },
        ],
    )
    answer = probe(ocsp={"shop": "http://r3.o.lencr.org", "api": ""})
    values = apache.tuning(model, answer, "lb1")
    assert values["version"] == "2.4.62"
    assert values["server_name"] == "lb1"
    assert values["plain_ports"] == [80, 8080]
    assert values["tls_ports"] == [443, 8443]
    assert values["ocsp"] == {"api": "", "shop": "http://r3.o.lencr.org"}
    assert values["stapling"] is True
    assert values["body_limit"] == {"shop": 1048576, "admin": 1048576, "api": 1048576}
    assert values["ssl_session_cache_bytes"] == 10 * 1024 * 1024
    assert values["challenge_dir"] == "/var/lib/groundwork/acme/.well-known/acme-challenge"
    assert values["headers"]["shop"]["X-Frame-Options"] == '"SAMEORIGIN"'
    # a host name Apache's ServerName cannot take
    assert apache.tuning(model, probe(ocsp={}), "lb_1 x")["server_name"] == "localhost"
    assert apache.tuning(model, probe(ocsp={}), "lb1")["stapling"] is False


# --- files and changes ---------------------------------------------------------------------


MODEL = validated()
CONVERGED = converged(MODEL)


def test_a_converged_host_has_nothing_to_change():
    result = role.plan(MODEL, CONVERGED, Context())
    assert result.changes == []
    assert result.problems == []
    assert result.data["activate"] == "reload"
    assert result.data["packages_missing"] == []


def test_files_of_the_configuration():
    result = role.plan(MODEL, CONVERGED, Context())
    specs = {spec["path"]: spec for spec in result.data["files"]}
    loaded = result.data["modules"]
    assert list(specs) == [
        "/etc/apache2/ports.conf",
        "/etc/apache2/conf-enabled/groundwork.conf",
        "/etc/apache2/groundwork/ffdhe2048.pem",
        "/etc/apache2/groundwork/check",
        "/etc/apache2/groundwork/responses/health",
        "/etc/systemd/system/apache2.service.d/groundwork-sandbox.conf",
        *(f"{MODS}/{name}.load" for name in loaded),
        "/etc/apache2/sites-enabled/shop.conf",
        "/etc/apache2/sites-enabled/admin.conf",
        "/etc/apache2/groundwork/htpasswd/admin",
        "/etc/groundwork/tls/hooks/shop.d/apache",
    ]
    assert specs["/etc/apache2/groundwork/ffdhe2048.pem"] == {
        "path": "/etc/apache2/groundwork/ffdhe2048.pem",
        "content": "DHPARAM\n",
    }
    assert specs["/etc/apache2/groundwork/check"] == {
        "path": "/etc/apache2/groundwork/check",
        "content": "CHECK\n",
    }
    assert specs["/etc/apache2/groundwork/responses/health"]["content"] == "ok\n"
    htpasswd = specs["/etc/apache2/groundwork/htpasswd/admin"]
    assert htpasswd["secret"] is True and htpasswd["mode"] == "0640" and htpasswd["group"] == "www-data"
    assert htpasswd["content"].startswith("ops:$") and "secret-pw" not in htpasswd["content"]
    assert specs["/etc/groundwork/tls/hooks/shop.d/apache"] == {
        "path": "/etc/groundwork/tls/hooks/shop.d/apache",
        "mode": "0755",
        "content": "hook shop\n",
    }
    assert specs["/etc/apache2/sites-enabled/shop.conf"]["content"] == "site shop\n"
    assert result.data["owned_dirs"] == list(apache.OWNED_DIRS)
    assert result.data["check"] == "/etc/apache2/groundwork/check"
    assert result.data["health_url"] == "http://127.0.0.1/.groundwork-health"
    assert result.data["webroot"] == {
        "path": "/var/lib/groundwork/acme/.well-known/acme-challenge",
        "state": "directory",
        "owner": "root",
        "group": "root",
        "mode": "0755",
    }


def test_fixed_responses_are_files_of_the_configuration():
    model = validated(
        apache_sites=_site(
            root="/srv/www",
            locations=[{"path": "/", "match": "exact", "return": {"code": 200, "target": "hello"}}],
        ),
        apache_upstreams=[],
        apache_certificates=[],
    )
    specs = {spec["path"]: spec for spec in role.plan(model, empty_host(model), Context()).data["files"]}
    # the body exactly as given, like nginx's return 200 "hello"
    assert specs["/etc/apache2/groundwork/responses/shop-0"]["content"] == "hello"
    assert "/etc/apache2/groundwork/responses/shop-0" in apache.paths(model)


def test_basic_auth_makes_the_plan_secret():
    assert role.plan(MODEL, CONVERGED, Context()).secret is True
    model = validated(apache_sites=SITES["apache_sites"][:1])
    assert role.plan(model, converged(model), Context()).secret is False


def test_a_fresh_host_gets_everything():
    result = role.plan(MODEL, empty_host(MODEL), Context())
    summary = [str(change) for change in result.changes]
    assert summary[:5] == [
        "package apache2: not installed",
        "package openssl: not installed",
        "package python3-apt: not installed",
        "package ssl-cert: not installed",
        "file /var/lib/groundwork/acme/.well-known/acme-challenge: does not exist",
    ]
    assert f"file {MODS}/ssl.load: does not exist" in summary
    assert "file /etc/apache2/groundwork/htpasswd/admin: does not exist" in summary
    assert summary[-1] == "service apache2.service: not enabled (not-found), not running (inactive)"
    assert result.kinds() == ["file", "package", "service"]
    assert result.data["activate"] == "restart"
    assert result.data["packages_report_only"] is False and result.data["start"] is True


def test_check_mode_on_a_fresh_host_reports_packages_and_does_not_start_apache():
    model = MODEL
    result = role.plan(model, empty_host(model, probe(version=None, modules=None)), Context(check_mode=True))
    assert result.problems == []
    assert result.data["packages_report_only"] is True
    assert result.data["start"] is False
    # the modules Debian's Depends lines would add, assumed
    assert "setenvif" in result.data["modules"]


@pytest.mark.parametrize(
    ("inspection", "expected", "activate"),
    [
        (
            drift(CONVERGED, files={"/etc/apache2/sites-enabled/shop.conf": state("edited")}),
            ["file /etc/apache2/sites-enabled/shop.conf: content differs"],
            "reload",
        ),
        (
            drift(
                CONVERGED,
                files={
                    "/etc/apache2/groundwork/check": {
                        **CONVERGED["files"]["/etc/apache2/groundwork/check"],
                        "mode": "0755",
                    }
                },
            ),
            ["file /etc/apache2/groundwork/check: owner, group or mode differs"],
            "reload",
        ),
        (
            drift(CONVERGED, dirs={"/etc/apache2/conf-enabled": {"security.conf": "link"}}),
            ["file /etc/apache2/conf-enabled/security.conf: not part of the configuration"],
            "reload",
        ),
        (
            drift(CONVERGED, dirs={"/etc/apache2/sites-enabled": {"000-default.conf": "link"}}),
            ["file /etc/apache2/sites-enabled/000-default.conf: not part of the configuration"],
            "reload",
        ),
        (
            drift(CONVERGED, dirs={"/etc/apache2/groundwork/responses": {"old-3": "file"}}),
            ["file /etc/apache2/groundwork/responses/old-3: not part of the configuration"],
            "reload",
        ),
        # the modules: a link missing, pointing elsewhere, not a link, or one too many
        (
            drift(CONVERGED, enabled={"rewrite.load": "gone"}),
            [f"file {MODS}/rewrite.load: does not exist"],
            "restart",
        ),
        (
            drift(CONVERGED, enabled={"ssl.load": "/usr/local/lib/ssl.load"}),
            [f"file {MODS}/ssl.load: content differs"],
            "restart",
        ),
        (
            drift(CONVERGED, enabled={"ssl.load": None}),
            [f"file {MODS}/ssl.load: content differs"],
            "restart",
        ),
        (
            drift(CONVERGED, enabled={"autoindex.load": "../mods-available/autoindex.load"}),
            [f"file {MODS}/autoindex.load: not part of the configuration"],
            "restart",
        ),
        (
            drift(CONVERGED, enabled={"mpm_prefork.conf": "../mods-available/mpm_prefork.conf"}),
            [f"file {MODS}/mpm_prefork.conf: not part of the configuration"],
            "restart",
        ),
        (
            drift(CONVERGED, packages={**CONVERGED["packages"], "openssl": "config-files"}),
            ["package openssl: not installed"],
            "reload",
        ),
        (
            drift(CONVERGED, units={"apache2.service": {"enabled": "enabled", "active": "failed"}}),
            ["service apache2.service: not running (failed)"],
            "reload",
        ),
        (
            drift(CONVERGED, units={"apache2.service": {"enabled": "disabled", "active": "active"}}),
            ["service apache2.service: not enabled (disabled)"],
            "reload",
        ),
        (
            drift(CONVERGED, probe={"acme_pending": ["shop"], "renew_service": True}),
            ["certificate shop: ACME certificate waits for Apache"],
            "reload",
        ),
        # without the renewal service there is nothing to run
        (drift(CONVERGED, probe={"acme_pending": ["shop"]}), [], "reload"),
        (
            drift(
                CONVERGED,
                probe={"hooks": ["/etc/groundwork/tls/hooks/old.d/apache"]},
                files={"/etc/groundwork/tls/hooks/old.d/apache": state("hook")},
            ),
            ["file /etc/groundwork/tls/hooks/old.d/apache: not part of the configuration"],
            "reload",
        ),
    ],
)
def test_what_differs_is_planned_with_its_reason(inspection, expected, activate):
    result = role.plan(MODEL, inspection, Context())
    assert [str(change) for change in result.changes] == expected
    assert result.data["activate"] == activate


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        ([], "reload"),
        (["/etc/apache2/sites-enabled/shop.conf", "/etc/apache2/conf-enabled/groundwork.conf"], "reload"),
        (["/etc/apache2/mods-available/ssl.load"], "reload"),
        (["/etc/apache2/mods-enabledx/ssl.load"], "reload"),
        ([f"{MODS}/ssl.load"], "restart"),
        (["/etc/apache2/ports.conf", f"{MODS}/expires.conf"], "restart"),
    ],
)
def test_activation_restarts_exactly_when_a_module_link_changes(targets, expected):
    from ansible_collections.groundwork.server.plugins.plugin_utils._plan import Change

    assert apache.activation([Change("file", target, "content differs") for target in targets]) == expected


def test_adding_a_module_restarts_apache():
    model = validated(apache_modules=["expires"])
    result = role.plan(model, CONVERGED, Context())
    assert [str(change) for change in result.changes] == [f"file {MODS}/expires.load: does not exist"]
    assert result.data["activate"] == "restart"


def test_a_module_missing_on_the_host_is_a_problem_and_nothing_changes():
    inspection = drift(CONVERGED, probe={"modules": available(proxy_hcheck=None)})
    model = validated(apache_upstreams=_upstream(health_check={"path": "/health"}))
    result = role.plan(model, inspection, Context())
    assert result.problems == [
        "proxy_hcheck: a module the sites need is not in /etc/apache2/mods-available (install the package"
        " that provides it with apache_packages)."
    ]
    assert result.changes == []
    assert result.data == {}


def test_raw_directives_the_installed_apache_refuses_are_problems_before_any_change():
    model = validated(
        apache_sites=[
            {
                "name": "shop",
                "server_names": ["shop.test"],
                "root": "/srv/www",
                "raw_apache": ["Bogus on"],
                "locations": [{"path": "/a", "raw_apache": ["Header set A b"]}],
            }
        ]
    )
    request = role.request(model, Context())["probe"]
    assert request["raw"] == [
        {"where": "apache_sites[0] (shop)", "key": "raw_apache", "context": "server", "lines": ["Bogus on"]},
        {
            "where": "apache_sites[0] (shop)",
            "key": "locations[0].raw_apache",
            "context": "location",
            "lines": ["Header set A b"],
        },
    ]
    assert request["raw_modules"] == apache.needed_modules(model)
    error = {"where": "apache_sites[0] (shop)", "key": "raw_apache", "error": "Invalid command 'Bogus'"}
    inspection = copy.deepcopy(empty_host(model))
    inspection["probe"]["raw_errors"] = [error]
    context = Context()
    result = role.plan(model, inspection, context)
    assert result.problems == [
        "apache_sites[0] (shop): raw_apache ['Bogus on'] is refused by the installed Apache: Invalid command"
        " 'Bogus' (expected directives Apache accepts in this place)"
    ]
    assert result.changes == [] and context.rendered == []


def test_an_unsupported_release_is_a_problem_before_any_change():
    inspection = drift(
        CONVERGED, os={"id": "ubuntu", "name": "Ubuntu", "version_id": "24.04", "version": "24.04"}
    )
    context = Context()
    result = role.plan(MODEL, inspection, context)
    assert result.problems == [
        "groundwork.server.apache supports Debian 12 and 13; this host runs Ubuntu 24.04."
    ]
    assert result.changes == []
    assert context.rendered == []


def test_stale_hooks_are_removed_and_other_consumers_hooks_kept():
    inspection = drift(
        CONVERGED,
        probe={
            "hooks": ["/etc/groundwork/tls/hooks/old.d/apache", "/etc/groundwork/tls/hooks/shop.d/apache"]
        },
    )
    specs = role.plan(MODEL, inspection, Context()).data["files"]
    assert {"path": "/etc/groundwork/tls/hooks/old.d/apache", "state": "absent"} in specs
    assert sum(spec["path"].endswith("shop.d/apache") for spec in specs) == 1


def test_acme_pending_is_passed_to_the_apply_step():
    inspection = drift(CONVERGED, probe={"acme_pending": ["shop"], "renew_service": True})
    data = role.plan(MODEL, inspection, Context()).data
    assert data["acme_pending"] == ["shop"]
    assert data["certificate_dir"] == "/etc/ssl/groundwork"
    assert data["renew_unit"] == "groundwork-tls-renew.service"


def test_the_templates_get_the_model_and_the_derived_values():
    context = Context()
    role.plan(MODEL, CONVERGED, context)
    ((template, extra),) = context.rendered
    assert template == "files.j2"
    assert extra["__apache_model"] is MODEL
    values = extra["__apache"]
    assert values["mpm"]["max_request_workers"] == 512
    assert values["certificate_dir"] == "/etc/ssl/groundwork"
    assert values["htpasswd_dir"] == "/etc/apache2/groundwork/htpasswd"
    assert values["dhparam"] == "/etc/apache2/groundwork/ffdhe2048.pem"
    assert values["balancers"][0]["members"][0]["url"] == "http://10.0.0.11:8000"
    assert [rule["target"] for rule in values["rules"]["shop"]] == ["balancer://app/"]


def test_the_request_asks_for_every_file_dir_package_and_unit():
    request = role.request(validated(apache_packages=["libapache2-mod-security2=2.9.7-1"]), Context())
    assert request["files"] == [
        "/etc/apache2/ports.conf",
        "/etc/apache2/conf-enabled/groundwork.conf",
        "/etc/apache2/groundwork/ffdhe2048.pem",
        "/etc/apache2/groundwork/check",
        "/etc/apache2/groundwork/responses/health",
        "/etc/systemd/system/apache2.service.d/groundwork-sandbox.conf",
        "/var/lib/groundwork/acme/.well-known/acme-challenge",
        "/etc/apache2/sites-enabled/shop.conf",
        "/etc/apache2/sites-enabled/admin.conf",
        "/etc/apache2/groundwork/htpasswd/admin",
        "/etc/groundwork/tls/hooks/shop.d/apache",
    ]
    assert request["dirs"] == list(apache.OWNED_DIRS)
    assert request["packages"] == [
        "apache2",
        "openssl",
        "python3-apt",
        "ssl-cert",
        "libapache2-mod-security2",
    ]
    assert request["units"] == ["apache2.service"]
    assert request["probe"]["names"] == ["shop"]
    assert request["probe"]["consumer"] == "apache"
    assert request["probe"]["mods_available"] == "/etc/apache2/mods-available"
    assert request["probe"]["mods_enabled"] == "/etc/apache2/mods-enabled"


def test_without_tls_no_snakeoil_package():
    model = validated(apache_sites=SITES["apache_sites"][1:], apache_certificates=[])
    assert role.request(model, Context())["packages"] == ["apache2", "openssl", "python3-apt"]


def test_a_package_with_a_version_always_counts_as_missing():
    model = validated(apache_packages=["libapache2-mod-security2=2.9.7-1"])
    inspection = converged(model)
    inspection["packages"]["libapache2-mod-security2"] = "installed"
    result = role.plan(model, inspection, Context())
    assert [str(change) for change in result.changes] == [
        "package libapache2-mod-security2=2.9.7-1: not installed"
    ]


@pytest.mark.parametrize(
    ("names", "server_name", "aliases"),
    [
        (["shop.test", "www.shop.test"], "shop.test", ["www.shop.test"]),
        (["*.shop.test", "shop.test"], "shop.test", ["*.shop.test"]),
        (["*.shop.test"], "w.invalid", ["*.shop.test"]),
    ],
)
def test_the_server_name_is_a_name_and_wildcards_are_aliases(names, server_name, aliases):
    site = {
        "name": "w",
        "server_names": names,
        "root": None,
        "index": [],
        "basic_auth": None,
        "redirects": [],
    }
    values = apache.site_values(site)
    assert (values["server_name"], values["aliases"]) == (server_name, aliases)


@pytest.mark.parametrize("name", ["php8.2", "proxy_http", "auth-openidc"])
def test_debian_module_names_with_dots_and_dashes_are_accepted(name):
    assert not [
        p for p in apache.setting_problems({**DEFAULTS, "apache_modules": [name]}) if "apache_modules" in p
    ]
