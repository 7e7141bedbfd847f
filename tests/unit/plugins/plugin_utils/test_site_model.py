# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the site model of the web-server roles (plugin_utils/_site_model.py)."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import (
    FEATURES,
    features_used,
    is_hostname,
    site_model,
    unrendered,
)

UPSTREAMS = [
    {"name": "app", "servers": [{"group": "appservers", "port": 8000}]},
    {"name": "api", "method": "least_conn", "servers": [{"address": "10.0.0.5:9000", "weight": 3}]},
]
SITES = [
    {
        "name": "shop",
        "server_names": ["shop.example.com", "www.shop.example.com"],
        "tls": {"certificate": "shop"},
        "upstream": "app",
        "locations": [{"path": "/api/", "proxy": "api", "proxy_path": "/"}],
    },
    {"name": "static", "server_names": ["static.example.com"], "root": "/srv/static"},
]
GROUPS = {"appservers": ["app1", "app2"], "empty": []}
HOSTVARS = {"app1": {"ansible_host": "10.0.0.11"}, "app2": {}}


def model(sites=None, upstreams=None, certificates=("shop",), **kwargs):
    return site_model(
        copy.deepcopy(SITES if sites is None else sites),
        upstreams=copy.deepcopy(UPSTREAMS if upstreams is None else upstreams),
        certificates=list(certificates),
        groups=GROUPS,
        hostvars=HOSTVARS,
        sites_var="nginx_sites",
        upstreams_var="nginx_upstreams",
        **kwargs,
    )


def with_site(index, **changes):
    sites = copy.deepcopy(SITES)
    sites[index].update(changes)
    return sites


def with_upstream(index, **changes):
    upstreams = copy.deepcopy(UPSTREAMS)
    upstreams[index].update(changes)
    return upstreams


# --- a valid model, normalised ----------------------------------------------------------


def test_valid_input_has_no_errors_and_is_normalised():
    result = model()
    assert result["errors"] == []
    assert result["certificates"] == ["shop"]
    shop, static = result["sites"]
    assert shop["port"] == 80
    assert shop["tls"] == {"certificate": "shop", "port": 443, "redirect": True, "hsts": "max-age=63072000"}
    assert shop["headers"]["X-Content-Type-Options"] == "nosniff"
    assert shop["client_max_body_size"] == "1m"
    # the site's upstream becomes the location "/", after the explicit ones
    assert [(loc["path"], loc["kind"], loc["proxy"]) for loc in shop["locations"]] == [
        ("/api/", "proxy", "api"),
        ("/", "proxy", "app"),
    ]
    assert shop["locations"][1]["upstream"]["name"] == "app"
    assert static["tls"] is None
    assert static["locations"][0]["kind"] == "static"


def test_group_servers_expand_to_the_hosts_addresses():
    app, api = model()["upstreams"]
    assert [s["address"] for s in app["servers"]] == ["10.0.0.11:8000", "app2:8000"]
    assert app["servers"][0] == {
        "address": "10.0.0.11:8000",
        "weight": 1,
        "backup": False,
        "max_fails": 3,
        "fail_timeout": "10s",
    }
    assert api["method"] == "least_connections"  # nginx's name is an alias
    assert api["servers"][0]["weight"] == 3
    assert app["next_upstream"] == ["error", "timeout", "502", "503", "504"]
    assert app["next_upstream_tries"] == 2


@pytest.mark.parametrize(
    ("tls", "expected"),
    [
        ({"certificate": "shop", "hsts": False}, None),
        ({"certificate": "shop", "hsts_subdomains": True}, "max-age=63072000; includeSubDomains"),
        (
            {"certificate": "shop", "hsts_max_age": 300, "hsts_subdomains": True, "hsts_preload": True},
            "max-age=300; includeSubDomains; preload",
        ),
    ],
)
def test_hsts_values(tls, expected):
    assert model(with_site(0, tls=tls))["sites"][0]["tls"]["hsts"] == expected


def test_headers_override_and_remove_security_headers():
    site = model(with_site(1, headers={"X-Frame-Options": "DENY", "Referrer-Policy": "", "X-Extra": 1}))
    headers = site["sites"][1]["headers"]
    assert headers["X-Frame-Options"] == "DENY"
    assert "Referrer-Policy" not in headers
    assert headers["X-Extra"] == "1"
    assert model(with_site(1, security_headers=False))["sites"][1]["headers"] == {}


def test_defaults_come_from_the_role():
    result = model(defaults={"client_max_body_size": "20m", "security_headers": False})
    assert result["sites"][1]["client_max_body_size"] == "20m"
    assert result["sites"][1]["headers"] == {}


def test_wildcard_names_and_ipv6_addresses_are_accepted():
    sites = with_site(1, server_names=["*.example.com"], allow=["2001:db8::/32", "10.0.0.1"])
    result = model(sites, upstreams=with_upstream(1, servers=[{"address": "[2001:db8::1]:80"}]))
    assert result["errors"] == []
    assert result["sites"][1]["allow"] == ["2001:db8::/32", "10.0.0.1/32"]


# --- problems, each named with site, key and value ------------------------------------

P0 = "nginx_sites[0] (shop): "
P1 = "nginx_sites[1] (static): "


@pytest.mark.parametrize(
    ("sites", "upstreams", "expected"),
    [
        (
            with_site(0, tls={"certificate": "www"}),
            None,
            P0 + "tls.certificate 'www' is not a known certificate (known: 'shop')",
        ),
        (
            with_site(0, upstream="nope"),
            None,
            P0 + "upstream 'nope' is not a known upstream (known: 'api', 'app')",
        ),
        (
            with_site(0, locations=[{"path": "/x", "proxy": "nope"}]),
            None,
            P0 + "locations[0].proxy 'nope' is not a known upstream",
        ),
        (
            with_site(1, server_names=["www.shop.example.com"]),
            None,
            P1 + "server_names 'www.shop.example.com' is already served on port 80 by nginx_sites[0] (shop)",
        ),
        (with_site(1, port=0), None, P1 + "port 0 is out of range"),
        (with_site(1, port=65536), None, P1 + "port 65536 is out of range"),
        (
            with_site(0, tls={"certificate": "shop", "port": 99999}),
            None,
            P0 + "tls.port 99999 is out of range",
        ),
        (with_site(0, tls={"certificate": "shop", "port": 80}), None, P0 + "tls.port 80 is the same as"),
        (with_site(1, port="http"), None, P1 + "port 'http' is out of range"),
        (
            with_site(1, headers={"X-A": "a\nb"}),
            None,
            P1 + "headers.X-A 'a\\nb' must not contain control characters (line breaks, tabs, ...) or braces",
        ),
        (
            with_site(1, headers={"X-A": "a{b"}),
            None,
            P1 + "headers.X-A 'a{b' must not contain control characters (line breaks, tabs, ...) or braces",
        ),
        (with_site(1, headers={"X A": "1"}), None, P1 + "headers name 'X A' is not a valid HTTP header name"),
        (
            with_site(1, server_names=["bad_name!"]),
            None,
            P1 + "server_names[0] 'bad_name!' is not a valid host name",
        ),
        (
            with_site(1, server_names=["-a.example"]),
            None,
            P1 + "server_names[0] '-a.example' is not a valid host name",
        ),
        (with_site(1, server_names=[]), None, P1 + "server_names [] must be a non-empty list"),
        (with_site(1, name="Static Site"), None, "name 'Static Site' is not valid"),
        (
            with_site(1, name="shop"),
            None,
            "nginx_sites[1] (shop): name 'shop' is already used by nginx_sites[0] (shop)",
        ),
        (
            with_site(1, raw=["deny all; }"]),
            None,
            P1 + "raw[0] 'deny all; }' must not contain control characters",
        ),
        (
            with_site(1, locations=[{"path": "/", "raw": ["a;\nb;"]}]),
            None,
            P1 + "locations[0].raw[0] 'a;\\nb;' must not contain",
        ),
        (with_site(1, locations=[{"path": "x"}]), None, P1 + "locations[0].path 'x' is not valid"),
        (
            with_site(1, locations=[{"path": "/", "root": "/a", "alias": "/b/"}]),
            None,
            P1 + "locations[0] has root and alias",
        ),
        (
            with_site(1, locations=[{"path": "/", "return": {"code": 301}}]),
            None,
            P1 + "locations[0].return.target is required for a redirect (301)",
        ),
        (with_site(1, client_max_body_size="10 MB"), None, P1 + "client_max_body_size '10 MB' is not valid"),
        (with_site(1, rate_limit={"rate": "10/s"}), None, P1 + "rate_limit.rate '10/s' is not valid"),
        (
            with_site(1, allow=["10.0.0.300"]),
            None,
            P1 + "allow[0] '10.0.0.300' is not an IP address or network",
        ),
        (
            with_site(1, redirects=[{"from": "/a", "to": "/b", "code": 200}]),
            None,
            P1 + "redirects[0].code 200",
        ),
        (
            with_site(1, redirects=[{"from": "/a", "to": "/b c"}]),
            None,
            P1 + "redirects[0].to '/b c' must not contain",
        ),
        (
            with_site(1, basic_auth={"users": [{"name": "a:b", "password": "x"}]}),
            None,
            P1 + "basic_auth.users[0].name 'a:b' is not valid",
        ),
        (
            with_site(1, basic_auth={"realm": 'say "hi"', "users": [{"name": "a", "password": "x"}]}),
            None,
            P1 + "basic_auth.realm 'say \"hi\"' must not contain double quotes",
        ),
        (
            None,
            with_upstream(0, servers=[{"group": "nosuch", "port": 80}]),
            "nginx_upstreams[0] (app): servers[0].group 'nosuch' is not a group of the inventory",
        ),
        (
            None,
            with_upstream(0, servers=[{"group": "empty", "port": 80}]),
            "nginx_upstreams[0] (app): servers[0].group 'empty' has no hosts",
        ),
        (
            None,
            with_upstream(0, servers=[{"group": "appservers"}]),
            "nginx_upstreams[0] (app): servers[0].port is required with 'group'",
        ),
        (
            None,
            with_upstream(1, servers=[{"address": "10.0.0.5"}]),
            "nginx_upstreams[1] (api): servers[0].address '10.0.0.5' is not valid (expected host:port",
        ),
        (
            None,
            with_upstream(1, servers=[{"address": "10.0.0.5:70000"}]),
            "nginx_upstreams[1] (api): servers[0].address port 70000 is out of range",
        ),
        (
            None,
            with_upstream(1, servers=[{"address": "a:1", "group": "appservers", "port": 1}]),
            "nginx_upstreams[1] (api): servers[0] needs exactly one of 'address'",
        ),
        (
            None,
            with_upstream(1, method="random"),
            "nginx_upstreams[1] (api): method 'random' is not a balancing",
        ),
        (
            None,
            with_upstream(1, method="hash"),
            "nginx_upstreams[1] (api): hash_key is required with method 'hash'",
        ),
        (
            None,
            with_upstream(
                1, method="ip_hash", servers=[{"address": "a:1"}, {"address": "b:1", "backup": True}]
            ),
            "nginx_upstreams[1] (api): servers with backup: true cannot be used with method 'client_address'",
        ),
        (
            None,
            with_upstream(1, next_upstream=["error", "http_418"]),
            "nginx_upstreams[1] (api): next_upstream[1] 'http_418' is not one of",
        ),
        (None, with_upstream(1, next_upstream_tries=0), "nginx_upstreams[1] (api): next_upstream_tries 0"),
        (
            None,
            with_upstream(1, read_timeout="1 minute"),
            "nginx_upstreams[1] (api): read_timeout '1 minute'",
        ),
        (
            None,
            with_upstream(1, name="app"),
            "nginx_upstreams[1] (app): name 'app' is used by another upstream",
        ),
        (None, with_upstream(1, servers=[]), "nginx_upstreams[1] (api): servers [] must be a non-empty list"),
    ],
)
def test_problems_name_site_key_and_value(sites, upstreams, expected):
    errors = model(sites, upstreams)["errors"]
    assert any(expected in error for error in errors), errors


def test_all_problems_are_reported_at_once():
    sites = with_site(0, tls={"certificate": "www"}, upstream="nope", port=0)
    assert len(model(sites)["errors"]) == 3


def test_the_same_name_on_different_ports_is_fine():
    sites = with_site(1, server_names=["shop.example.com"], port=8080)
    assert model(sites)["errors"] == []


def test_passwords_never_appear_in_messages():
    sites = with_site(1, basic_auth={"users": [{"name": "bad name", "password": "s3cret-pw"}]})
    sites[1]["headers"] = {"X-A": "}"}
    errors = model(sites)["errors"]
    assert errors
    assert not any("s3cret-pw" in error for error in errors)
    sites = with_site(1, basic_auth={"users": [{"name": "ops", "password": "line\nbreak"}]})
    errors = model(sites)["errors"]
    assert errors == [
        P1 + "basic_auth.users[0].password of 'ops' must be a non-empty string without line breaks"
    ]


@pytest.mark.parametrize(
    ("name", "wildcard", "expected"),
    [
        ("example.com", False, True),
        ("a-b.example", False, True),
        ("*.example.com", True, True),
        ("*.example.com", False, False),
        ("a_b.example", False, False),
        ("", False, False),
        ("a" * 64 + ".com", False, False),
        (None, False, False),
    ],
)
def test_is_hostname(name, wildcard, expected):
    assert is_hostname(name, wildcard=wildcard) is expected


@pytest.mark.parametrize(
    ("sites", "upstreams", "expected"),
    [
        (None, [], "nginx_sites: must be a list of sites"),
        ({}, [], "nginx_sites: must be a list of sites"),
        ([], {}, "nginx_upstreams: must be a list of upstreams"),
    ],
)
def test_bad_arguments(sites, upstreams, expected):
    result = site_model(sites, upstreams=upstreams, sites_var="nginx_sites", upstreams_var="nginx_upstreams")
    assert result["errors"] == [expected]


# --- HTTP's vocabulary, with nginx's names as aliases -----------------------------------


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("round_robin", "round_robin"),
        ("least_connections", "least_connections"),
        ("least_conn", "least_connections"),
        ("client_address", "client_address"),
        ("ip_hash", "client_address"),
    ],
)
def test_balancing_methods_and_their_aliases(method, expected):
    result = model(upstreams=with_upstream(1, method=method))
    assert result["errors"] == []
    assert result["upstreams"][1]["method"] == expected


def test_an_unknown_method_names_the_methods_and_the_aliases():
    errors = model(upstreams=with_upstream(1, method="random"))["errors"]
    assert errors == [
        "nginx_upstreams[1] (api): method 'random' is not a balancing method (expected one of round_robin,"
        " least_connections, client_address, hash; least_conn and ip_hash are accepted as aliases)"
    ]


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (["error", "timeout", "502"], ["error", "timeout", "502"]),
        (["error", "http_502", "http_504"], ["error", "502", "504"]),
        ([503, "non_idempotent"], ["503", "non_idempotent"]),
        ("off", ["off"]),
    ],
)
def test_retry_conditions_in_http_terms(conditions, expected):
    result = model(upstreams=with_upstream(1, next_upstream=conditions))
    assert result["errors"] == []
    assert result["upstreams"][1]["next_upstream"] == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("uri", {"on": "uri"}),
        ("client_address", {"on": "client_address"}),
        ("header:X-Tenant", {"on": "header", "name": "X-Tenant"}),
        ("cookie:session_id", {"on": "cookie", "name": "session_id"}),
        ("query:user", {"on": "query", "name": "user"}),
        ("$request_uri", {"on": "nginx", "text": "$request_uri"}),  # the older, nginx-only form
        ("$host$request_uri", {"on": "nginx", "text": "$host$request_uri"}),
    ],
)
def test_hash_keys_in_http_terms(key, expected):
    result = model(upstreams=with_upstream(1, method="hash", hash_key=key))
    assert result["errors"] == []
    assert result["upstreams"][1]["hash_key"] == expected


@pytest.mark.parametrize("key", ["request uri", "header:", "cookie:a-b", "body:x", "plain", 5])
def test_bad_hash_keys(key):
    errors = model(upstreams=with_upstream(1, method="hash", hash_key=key))["errors"]
    assert errors == [
        f"nginx_upstreams[1] (api): hash_key {key!r} is not valid (expected uri, client_address,"
        " header:<name>, cookie:<name> or query:<name>;"
        " or nginx variables such as '$request_uri' (nginx only))"
    ]


def test_nginx_variables_as_hash_key_are_nginx_only():
    result = model(upstreams=with_upstream(1, method="hash", hash_key="$remote_addr"))
    used = [(f, key, value) for where, f, key, value in features_used(result) if where.endswith("(api)")]
    assert ("raw_nginx", "hash_key", "$remote_addr") in used
    result = model(upstreams=with_upstream(1, method="hash", hash_key="uri"))
    assert "raw_nginx" not in {f for _where, f, _key, _value in features_used(result)}


@pytest.mark.parametrize("key", ["raw", "raw_nginx"])
def test_raw_nginx_directives_and_the_older_key(key):
    sites = with_site(1, **{key: ["expires 1h;"]}, locations=[{"path": "/x/", key: ["gzip off;"]}])
    result = model(sites)
    assert result["errors"] == []
    static = result["sites"][1]
    assert static["raw_nginx"] == ["expires 1h;"]
    assert static["locations"][0]["raw_nginx"] == ["gzip off;"]


def test_raw_and_raw_nginx_together_are_refused():
    errors = model(with_site(1, raw=["a;"], raw_nginx=["b;"]))["errors"]
    assert errors == [P1 + "raw and raw_nginx are the same setting; give only raw_nginx"]


def test_health_check_is_validated():
    result = model(upstreams=with_upstream(0, health_check={"path": "/health"}))
    assert result["errors"] == []
    assert result["upstreams"][0]["health_check"] == {"path": "/health", "interval": "10s", "status": 200}
    errors = model(upstreams=with_upstream(0, health_check={"path": "health", "every": 1}))["errors"]
    assert errors == [
        "nginx_upstreams[0] (app): health_check {'path': 'health', 'every': 1} has unknown keys ['every']"
        " (allowed: path, interval, status)",
        "nginx_upstreams[0] (app): health_check.path 'health' is not valid"
        " (expected a path starting with '/')",
    ]


# --- features: what a model asks of a web server ---------------------------------------


def test_features_of_the_example_model():
    used = {(where, feature) for where, feature, _key, _value in features_used(model())}
    assert used == {
        ("nginx_sites[0] (shop)", "proxy"),
        ("nginx_sites[0] (shop)", "tls"),
        ("nginx_sites[0] (shop)", "tls_redirect"),
        ("nginx_sites[0] (shop)", "http2"),
        ("nginx_sites[0] (shop)", "hsts"),
        ("nginx_sites[0] (shop)", "proxy_path"),
        ("nginx_sites[0] (shop)", "security_headers"),
        ("nginx_sites[1] (static)", "static"),
        ("nginx_sites[1] (static)", "security_headers"),
        ("nginx_upstreams[0] (app)", "upstreams"),
        ("nginx_upstreams[0] (app)", "method_round_robin"),
        ("nginx_upstreams[0] (app)", "passive_health"),
        ("nginx_upstreams[0] (app)", "retries"),
        ("nginx_upstreams[0] (app)", "failure_count"),
        ("nginx_upstreams[0] (app)", "retries_on_response"),
        ("nginx_upstreams[1] (api)", "upstreams"),
        ("nginx_upstreams[1] (api)", "method_least_connections"),
        ("nginx_upstreams[1] (api)", "passive_health"),
        ("nginx_upstreams[1] (api)", "retries"),
        ("nginx_upstreams[1] (api)", "failure_count"),
        ("nginx_upstreams[1] (api)", "retries_on_response"),
    }
    assert all(feature in FEATURES for _where, feature, _key, _value in features_used(model()))


@pytest.mark.parametrize(
    ("sites", "upstreams", "feature"),
    [
        (None, with_upstream(0, health_check={"path": "/health"}), "active_health_check"),
        (None, with_upstream(1, method="ip_hash"), "method_client_address"),
        (None, with_upstream(1, method="hash", hash_key="$request_uri"), "method_hash"),
        (
            None,
            with_upstream(1, servers=[{"address": "a:1"}, {"address": "b:1", "backup": True}]),
            "backup_servers",
        ),
        (with_site(1, raw=["expires 1h;"]), None, "raw_nginx"),
        (with_site(1, locations=[{"path": "/ws", "proxy": "app", "websocket": True}]), None, "websocket"),
        (with_site(1, locations=[{"path": "\\.php$", "match": "regex"}]), None, "regex_locations"),
        (with_site(1, redirects=[{"from": "/a", "to": "/b"}]), None, "redirects"),
        (with_site(1, headers={"X-A": "1"}), None, "headers"),
        (with_site(1, rate_limit={"rate": "5r/s"}), None, "rate_limit"),
        (with_site(1, allow=["10.0.0.0/8"]), None, "access_control"),
        (with_site(1, basic_auth={"users": [{"name": "a", "password": "pw"}]}), None, "basic_auth"),
        (with_site(1, locations=[{"path": "/s", "return": {"code": 204}}]), None, "return"),
    ],
)
def test_each_feature_is_found(sites, upstreams, feature):
    result = model(sites, upstreams)
    assert result["errors"] == []
    assert feature in {f for _where, f, _key, _value in features_used(result)}


def test_a_server_refuses_the_features_it_does_not_render():
    result = model(upstreams=with_upstream(0, health_check={"path": "/health"}))
    renders = set(FEATURES) - {"active_health_check", "raw_nginx"}
    problems = unrendered(result, renders, "groundwork.server.example")
    listed = ", ".join(f for f in FEATURES if f in renders)
    assert problems == [
        "nginx_upstreams[0] (app): health_check {'path': '/health', 'interval': '10s', 'status': 200}"
        f" is not rendered by groundwork.server.example (feature active_health_check; it renders: {listed})"
    ]
    assert unrendered(model(), renders, "groundwork.server.example") == []


def test_a_feature_is_reported_once_per_site():
    sites = with_site(1, raw=["a;"], locations=[{"path": "/x/", "raw": ["b;"]}])
    problems = unrendered(model(sites), set(FEATURES) - {"raw_nginx"}, "groundwork.server.apache")
    assert len(problems) == 1
    assert problems[0].startswith(
        P1 + "locations[0].raw_nginx ['b;'] is not rendered by groundwork.server.apache"
    )
