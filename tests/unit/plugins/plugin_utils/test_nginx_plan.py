# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of groundwork.server.nginx: validation, tuning, files and changes, as tables."""

from __future__ import annotations

import copy
import json

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import digest
from ansible_collections.groundwork.server.plugins.plugin_utils import _nginx_plan as nginx
from ansible_collections.groundwork.server.plugins.plugin_utils import _nginx_role as role
from ansible_collections.groundwork.server.plugins.plugin_utils import _web_server as web
from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import FEATURES

DEFAULTS = {
    "nginx_sites": [],
    "nginx_upstreams": [],
    "nginx_certificates": [],
    "nginx_worker_connections": "auto",
    "nginx_keepalive_timeout": "30s",
    "nginx_keepalive_requests": 1000,
    "nginx_client_max_body_size": "1m",
    "nginx_gzip_level": 2,
    "nginx_access_log_buffer": "64k",
    "nginx_access_log_flush": "5s",
    "nginx_hsts_max_age": 63072000,
    "nginx_security_headers": True,
    "nginx_ssl_session_cache_size": "10m",
    "nginx_resolvers": [],
    "nginx_acme_webroot": "/var/lib/groundwork/acme",
    "nginx_packages": [],
    "nginx_ipv6": True,
}
SITES = {
    "nginx_certificates": ["shop"],
    "nginx_upstreams": [{"name": "app", "servers": [{"group": "appservers", "port": 8000}]}],
    "nginx_sites": [
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


class Context:
    host = "lb1"

    def __init__(self, check_mode=False):
        self.groups = {"appservers": ["app1", "app2"], "loadbalancers": ["lb1"]}
        self.hostvars = {"app1": {"ansible_host": "10.0.0.11"}, "app2": {}}
        self.check_mode = check_mode
        self.rendered = []

    def render(self, template, **extra):
        """What files.j2 renders, made of the values it was given (the tests check the plan)."""
        self.rendered.append(extra)
        model = extra["__nginx_model"]
        return json.dumps(
            {
                "nginx.conf": f"connections {extra['__nginx']['connections']}\n",
                "http.conf": "http\n",
                "default.conf": f"ports {extra['__nginx']['plain_ports']}\n",
                "sandbox.conf": "[Service]\n",
                "sites": {site["name"]: f"site {site['name']}\n" for site in model["sites"]},
                "hooks": {name: f"hook {name}\n" for name in model["certificates"]},
            }
        )

    def read_file(self, name):
        return "DHPARAM\n\n"


def inputs(**changes):
    values = copy.deepcopy(DEFAULTS)
    values.update(copy.deepcopy(SITES))
    values.update(changes)
    return values


def validated(**changes):
    model, problems = role.validate(inputs(**changes), Context())
    assert problems == []
    return model


def probe(**changes):
    answer = {
        "version": "1.22.1",
        "cpus": 2,
        "memory_kb": 2 * 1024 * 1024,
        "nofile_limit": 524288,
        "ocsp": {"shop": ""},
        "resolvers": ["10.0.0.2"],
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


def converged(model, check_mode=False, **probe_changes):
    """The inspection of a host that runs exactly this configuration."""
    answer = probe(**probe_changes)
    first = role.plan(model, empty_host(model, answer), Context(check_mode))
    files = {}
    for spec in first.data["files"]:
        if spec.get("state") == "absent":
            files[spec["path"]] = {"state": "absent"}
            continue
        files[spec["path"]] = state(
            spec["content"],
            group=spec.get("group", "root"),
            mode=spec.get("mode", "0644"),
        )
    files[nginx.challenge_dir(model)] = {
        "state": "directory",
        "owner": "root",
        "uid": 0,
        "group": "root",
        "gid": 0,
        "mode": "0755",
    }
    dirs = {directory: {} for directory in nginx.OWNED_DIRS}
    for path in files:
        for directory in nginx.OWNED_DIRS:
            if path.rpartition("/")[0] == directory:
                dirs[directory][path.rpartition("/")[2]] = "file"
    return {
        "os": DEBIAN_12,
        "packages": dict.fromkeys(web.package_names(nginx.packages(model)), "installed"),
        "units": {"nginx.service": {"enabled": "enabled", "active": "active"}},
        "files": files,
        "dirs": dirs,
        "probe": answer,
    }


def empty_host(model, answer=None):
    return {
        "os": DEBIAN_12,
        "packages": {},
        "units": {"nginx.service": {"enabled": "not-found", "active": "inactive"}},
        "files": {path: {"state": "absent"} for path in nginx.paths(model)},
        "dirs": {directory: {} for directory in nginx.OWNED_DIRS},
        "probe": answer or probe(version=None),
    }


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"nginx_worker_connections": 50},
            "nginx_worker_connections: 50 is not valid (expected 'auto' or a number of connections per worker"
            " from 100 to 999999).",
        ),
        (
            {"nginx_keepalive_timeout": "30 s"},
            "nginx_keepalive_timeout: \"30 s\" is not valid (expected a time like '30s').",
        ),
        ({"nginx_gzip_level": 10}, "nginx_gzip_level: 10 is not valid (expected a level from 1 to 9)."),
        (
            {"nginx_client_max_body_size": "10 MB"},
            "nginx_client_max_body_size: \"10 MB\" is not valid (expected a size like '10m').",
        ),
        (
            {"nginx_acme_webroot": "relative/dir"},
            "nginx_acme_webroot: 'relative/dir' is not a normalised absolute path (expected /like/this,"
            " without '..')",
        ),
        (
            {"nginx_resolvers": ["10.0.0.2", "not a name"]},
            'nginx_resolvers: "not a name" is not an IP address or host name.',
        ),
        (
            {"nginx_upstreams": [{"name": "app", "servers": [{"group": "nosuch", "port": 8000}]}]},
            "nginx_upstreams[0] (app): servers[0].group 'nosuch' is not a group of the inventory",
        ),
        (
            {"nginx_sites": [{"name": "shop", "server_names": ["shop.test"], "tls": {"certificate": "www"}}]},
            "nginx_sites[0] (shop): tls.certificate 'www' is not a known certificate (known: 'shop')",
        ),
    ],
)
def test_bad_input_is_refused_with_variable_value_and_what_is_allowed(changes, expected):
    _model, problems = role.validate(inputs(**changes), Context())
    # the site model's own problems come first (a site's default body size is the setting)
    assert problems[-1] == expected


def test_valid_settings_pass():
    for value in ("auto", 100, "4096", 999999):
        assert nginx.setting_problems({**DEFAULTS, "nginx_worker_connections": value}) == []
    assert nginx.setting_problems({**DEFAULTS, "nginx_resolvers": ["10.0.0.2", "::1", "dns.example"]}) == []


def test_nginx_refuses_active_health_checks_before_any_change():
    upstreams = [{"name": "app", "health_check": {"path": "/health"}, "servers": [{"address": "a:1"}]}]
    _model, problems = role.validate(inputs(nginx_upstreams=upstreams), Context())
    listed = ", ".join(feature for feature in FEATURES if feature in role.FEATURES)
    assert problems == [
        "nginx_upstreams[0] (app): health_check {'path': '/health', 'interval': '10s', 'status': 200}"
        f" is not rendered by groundwork.server.nginx (feature active_health_check; it renders: {listed})"
    ]


def test_nginx_renders_every_feature_but_active_health_checks_and_apache_directives():
    assert set(FEATURES) - role.FEATURES == {"active_health_check", "raw_apache"}
    assert set(FEATURES) >= role.FEATURES


def test_passwords_never_appear_in_problems():
    sites = copy.deepcopy(SITES["nginx_sites"])
    sites[1]["basic_auth"]["users"][0]["name"] = "bad name"
    _model, problems = role.validate(inputs(nginx_sites=sites), Context())
    assert problems and not any("secret-pw" in problem for problem in problems)


# --- tuning from the host -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probe_changes", "settings", "expected"),
    [
        # 2 CPUs, 2 GiB: 2048 * 8 // 2 = 8192 connections per worker
        ({}, {}, {"workers": 2, "memory_mb": 2048, "connections": 8192}),
        # at least 1024, at most 16384
        ({"memory_kb": 256 * 1024}, {}, {"connections": 1024}),
        ({"memory_kb": 64 * 1024 * 1024, "cpus": 1}, {}, {"connections": 16384}),
        # no more than half the open files a worker may have
        ({"nofile_limit": 4096}, {}, {"connections": 2048}),
        ({"cpus": 0, "memory_kb": None}, {}, {"workers": 1, "memory_mb": 1024, "connections": 8192}),
        ({}, {"nginx_worker_connections": "2000"}, {"connections": 2000}),
    ],
)
def test_connections_from_memory_cpus_and_open_files(probe_changes, settings, expected):
    model = validated(**settings)
    values = nginx.tuning(model, probe(**probe_changes), DEBIAN_12)
    assert {key: values[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("version", "release", "directive", "listen"),
    [
        ("1.22.1", "12", False, " http2"),
        ("1.25.0", "12", False, " http2"),
        ("1.25.1", "12", True, ""),
        ("1.26.3", "13", True, ""),
        # not installed yet (check mode): the release's nginx
        (None, "12", False, " http2"),
        (None, "13", True, ""),
    ],
)
def test_http2_syntax_follows_the_nginx_version(version, release, directive, listen):
    values = nginx.tuning(validated(), probe(version=version), {**DEBIAN_12, "version_id": release})
    assert (values["http2_directive"], values["listen_http2"]) == (directive, listen)


@pytest.mark.parametrize(
    ("ocsp", "resolvers", "host_resolvers", "expected"),
    [
        ({"shop": ""}, [], ["10.0.0.2"], []),  # no responder: no stapling, no resolver
        ({"shop": "http://ocsp.example"}, [], ["10.0.0.2", "fd00::53"], ["10.0.0.2", "[fd00::53]"]),
        ({"shop": "http://ocsp.example"}, ["192.0.2.53"], ["10.0.0.2"], ["192.0.2.53"]),
    ],
)
def test_resolvers_only_for_ocsp_stapling(ocsp, resolvers, host_resolvers, expected):
    model = validated(nginx_resolvers=resolvers)
    values = nginx.tuning(model, probe(ocsp=ocsp, resolvers=host_resolvers), DEBIAN_12)
    assert values["resolvers"] == expected
    assert values["ocsp"] == ocsp


def test_ports_and_upstream_keepalive():
    upstreams = [
        {"name": "app", "servers": [{"group": "appservers", "port": 8000}]},
        {"name": "big", "servers": [{"address": f"10.0.0.{i}:80"} for i in range(1, 11)]},
        {"name": "fixed", "keepalive": 0, "servers": [{"address": "a:1"}]},
    ]
    values = nginx.tuning(validated(nginx_upstreams=upstreams), probe(cpus=2), DEBIAN_12)
    assert values["plain_ports"] == [80, 8080]
    assert values["tls_ports"] == [443]
    assert values["keepalive"] == {"app": 32, "big": 128, "fixed": 0}
    assert (
        nginx.tuning(validated(nginx_upstreams=upstreams), probe(cpus=16), DEBIAN_12)["keepalive"]["app"] == 8
    )


@pytest.mark.parametrize(
    ("key", "variable"),
    [
        ("uri", "$request_uri"),
        ("client_address", "$remote_addr"),
        ("header:X-Tenant-Id", "$http_x_tenant_id"),
        ("cookie:session", "$cookie_session"),
        ("query:user", "$arg_user"),
        ("$remote_addr$http_host", "$remote_addr$http_host"),
    ],
)
def test_hash_keys_become_nginx_variables(key, variable):
    upstreams = [{"name": "app", "method": "hash", "hash_key": key, "servers": [{"address": "a:1"}]}]
    values = nginx.tuning(validated(nginx_upstreams=upstreams), probe(), DEBIAN_12)
    assert values["hash_keys"] == {"app": variable}


# --- files and changes ---------------------------------------------------------------------


def test_files_of_the_configuration():
    model = validated()
    result = role.plan(model, empty_host(model), Context())
    specs = {spec["path"]: spec for spec in result.data["files"]}
    assert list(specs) == [
        "/etc/nginx/nginx.conf",
        "/etc/nginx/conf.d/groundwork.conf",
        "/etc/nginx/sites-enabled/_default.conf",
        "/etc/nginx/groundwork/ffdhe2048.pem",
        "/etc/systemd/system/nginx.service.d/groundwork-sandbox.conf",
        "/etc/nginx/sites-enabled/shop.conf",
        "/etc/nginx/sites-enabled/admin.conf",
        "/etc/nginx/groundwork/htpasswd/admin",
        "/etc/groundwork/tls/hooks/shop.d/nginx",
    ]
    assert specs["/etc/nginx/groundwork/ffdhe2048.pem"]["content"] == "DHPARAM\n"
    htpasswd = specs["/etc/nginx/groundwork/htpasswd/admin"]
    assert htpasswd["secret"] is True and htpasswd["mode"] == "0640" and htpasswd["group"] == "www-data"
    assert htpasswd["content"].startswith("ops:$6$") and "secret-pw" not in htpasswd["content"]
    assert specs["/etc/groundwork/tls/hooks/shop.d/nginx"]["mode"] == "0755"
    assert result.secret is True
    assert result.data["owned_dirs"] == list(nginx.OWNED_DIRS)


def test_a_plan_without_basic_auth_is_not_secret():
    model = validated(nginx_sites=SITES["nginx_sites"][:1])
    assert role.plan(model, converged(model), Context()).secret is False


def test_a_fresh_host_gets_everything():
    model = validated()
    result = role.plan(model, empty_host(model), Context())
    summary = [str(change) for change in result.changes]
    assert summary[:4] == [
        "package nginx: not installed",
        "package openssl: not installed",
        "package python3-apt: not installed",
        "file /var/lib/groundwork/acme/.well-known/acme-challenge: does not exist",
    ]
    assert "file /etc/nginx/groundwork/htpasswd/admin: does not exist" in summary
    assert summary[-1] == "service nginx.service: not enabled (not-found), not running (inactive)"
    assert result.kinds() == ["file", "package", "service"]
    assert result.data["packages_missing"] == ["nginx", "openssl", "python3-apt"]
    assert result.data["packages_report_only"] is False and result.data["start"] is True


@pytest.mark.parametrize(
    ("changes", "enable_start"),
    [
        # as configured and running: no task starts nginx
        ({}, False),
        # the transaction writes a file and its reload starts a stopped nginx
        (
            {
                "units": {"nginx.service": {"enabled": "enabled", "active": "inactive"}},
                "files": {"/etc/nginx/nginx.conf": {"state": "absent"}},
            },
            False,
        ),
        # stopped and nothing to write: the task starts it
        ({"units": {"nginx.service": {"enabled": "enabled", "active": "failed"}}}, True),
        # not enabled: the task enables it, whatever the transaction does
        (
            {
                "units": {"nginx.service": {"enabled": "disabled", "active": "active"}},
                "files": {"/etc/nginx/nginx.conf": {"state": "absent"}},
            },
            True,
        ),
    ],
)
def test_nginx_is_enabled_and_started_apart_only_when_the_transaction_leaves_it_undone(changes, enable_start):
    result = role.plan(MODEL, drift(CONVERGED, **changes), Context())
    assert result.data["enable_start"] is enable_start
    assert result.data["start"] is True


def test_a_fresh_host_enables_and_starts_nginx_after_its_packages():
    model = validated()
    assert role.plan(model, empty_host(model), Context()).data["enable_start"] is True


def test_check_mode_on_a_fresh_host_reports_packages_and_does_not_start_nginx():
    model = validated()
    result = role.plan(model, empty_host(model), Context(check_mode=True))
    assert result.data["packages_report_only"] is True
    assert result.data["start"] is False
    assert result.data["enable_start"] is False


def test_a_converged_host_has_nothing_to_change():
    model = validated()
    inspection = converged(model)
    result = role.plan(model, inspection, Context())
    assert result.changes == []
    assert result.problems == []


def drift(inspection, **changes):
    inspection = copy.deepcopy(inspection)
    for key, value in changes.items():
        if key == "files":
            inspection["files"].update(value)
        elif key == "dirs":
            for directory, entries in value.items():
                inspection["dirs"][directory].update(entries)
        else:
            inspection[key] = value
    return inspection


MODEL = validated()
CONVERGED = converged(MODEL)


@pytest.mark.parametrize(
    ("inspection", "expected"),
    [
        (
            drift(CONVERGED, files={"/etc/nginx/sites-enabled/shop.conf": state("edited")}),
            ["file /etc/nginx/sites-enabled/shop.conf: content differs"],
        ),
        (
            drift(
                CONVERGED,
                files={
                    "/etc/nginx/nginx.conf": {**CONVERGED["files"]["/etc/nginx/nginx.conf"], "mode": "0600"}
                },
            ),
            ["file /etc/nginx/nginx.conf: owner, group or mode differs"],
        ),
        (
            drift(CONVERGED, dirs={"/etc/nginx/conf.d": {"leftover.conf": "file"}}),
            ["file /etc/nginx/conf.d/leftover.conf: not part of the configuration"],
        ),
        (
            drift(CONVERGED, dirs={"/etc/nginx/sites-enabled": {"default": "link"}}),
            ["file /etc/nginx/sites-enabled/default: not part of the configuration"],
        ),
        (
            drift(CONVERGED, packages={**CONVERGED["packages"], "openssl": "config-files"}),
            ["package openssl: not installed"],
        ),
        (
            drift(CONVERGED, units={"nginx.service": {"enabled": "enabled", "active": "failed"}}),
            ["service nginx.service: not running (failed)"],
        ),
        (
            drift(CONVERGED, probe={**CONVERGED["probe"], "acme_pending": ["shop"], "renew_service": True}),
            ["certificate shop: ACME certificate waits for nginx"],
        ),
        # without the renewal service there is nothing to run
        (drift(CONVERGED, probe={**CONVERGED["probe"], "acme_pending": ["shop"]}), []),
        (
            drift(
                CONVERGED,
                probe={**CONVERGED["probe"], "hooks": ["/etc/groundwork/tls/hooks/old.d/nginx"]},
                files={"/etc/groundwork/tls/hooks/old.d/nginx": state("hook")},
            ),
            ["file /etc/groundwork/tls/hooks/old.d/nginx: not part of the configuration"],
        ),
    ],
)
def test_what_differs_is_planned_with_its_reason(inspection, expected):
    result = role.plan(MODEL, inspection, Context())
    assert [str(change) for change in result.changes] == expected


def test_stale_hooks_are_removed_and_other_consumers_hooks_kept():
    inspection = drift(
        CONVERGED,
        probe={
            **CONVERGED["probe"],
            "hooks": ["/etc/groundwork/tls/hooks/old.d/nginx", "/etc/groundwork/tls/hooks/shop.d/nginx"],
        },
    )
    specs = role.plan(MODEL, inspection, Context()).data["files"]
    assert {"path": "/etc/groundwork/tls/hooks/old.d/nginx", "state": "absent"} in specs
    assert sum(spec["path"].endswith("shop.d/nginx") for spec in specs) == 1


def test_a_changed_sandbox_is_planned_and_named_for_the_restart():
    path = "/etc/systemd/system/nginx.service.d/groundwork-sandbox.conf"
    assert path in nginx.paths(MODEL)
    result = role.plan(MODEL, drift(CONVERGED, files={path: {"state": "absent"}}), Context())
    assert [str(change) for change in result.changes] == [f"file {path}: does not exist"]
    assert {"path": path, "content": "[Service]\n"} in result.data["files"]
    assert result.data["sandbox"] == path


def test_acme_pending_is_passed_to_the_apply_step():
    inspection = drift(
        CONVERGED, probe={**CONVERGED["probe"], "acme_pending": ["shop"], "renew_service": True}
    )
    data = role.plan(MODEL, inspection, Context()).data
    assert data["acme_pending"] == ["shop"]
    assert data["certificate_dir"] == "/etc/ssl/groundwork"
    assert data["renew_unit"] == "groundwork-tls-renew.service"


def test_an_unsupported_release_is_a_problem_before_any_change():
    inspection = drift(
        CONVERGED, os={"id": "ubuntu", "name": "Ubuntu", "version_id": "24.04", "version": "24.04"}
    )
    result = role.plan(MODEL, inspection, Context())
    assert result.problems == [
        "groundwork.server.nginx supports Debian 12 and 13; this host runs Ubuntu 24.04."
    ]
    assert result.changes == []


def test_raw_directives_the_installed_nginx_refuses_are_problems_before_any_change():
    model = validated(
        nginx_sites=[
            {
                "name": "shop",
                "server_names": ["shop.test"],
                "root": "/srv/www",
                "raw_nginx": ["bogus_directive on;"],
                "locations": [{"path": "/a", "raw_nginx": ["expires 1h;"]}],
            }
        ]
    )
    request = role.request(model, Context())["probe"]
    assert request["raw"] == [
        {
            "where": "nginx_sites[0] (shop)",
            "key": "raw_nginx",
            "context": "server",
            "lines": ["bogus_directive on;"],
        },
        {
            "where": "nginx_sites[0] (shop)",
            "key": "locations[0].raw_nginx",
            "context": "location",
            "lines": ["expires 1h;"],
        },
    ]
    assert "upstream app { server 127.0.0.1:1; }" in request["raw_stubs"]
    error = {
        "where": "nginx_sites[0] (shop)",
        "key": "raw_nginx",
        "error": 'unknown directive "bogus_directive"',
    }
    inspection = copy.deepcopy(empty_host(model))
    inspection["probe"]["raw_errors"] = [error]
    context = Context()
    result = role.plan(model, inspection, context)
    assert result.problems == [
        "nginx_sites[0] (shop): raw_nginx ['bogus_directive on;'] is refused by the installed nginx: unknown"
        ' directive "bogus_directive" (expected directives nginx accepts in this place)'
    ]
    assert result.changes == [] and context.rendered == []
    # no answer (nginx not installed yet): nothing to check against, the plan goes on
    inspection["probe"]["raw_errors"] = None
    assert role.plan(model, inspection, Context()).problems == []


def test_the_templates_get_the_model_and_the_derived_values():
    context = Context()
    role.plan(MODEL, CONVERGED, context)
    (extra,) = context.rendered
    assert extra["__nginx_model"] is MODEL
    assert extra["__nginx"]["connections"] == 8192
    assert extra["__nginx"]["certificate_dir"] == "/etc/ssl/groundwork"
    assert extra["__nginx"]["htpasswd_dir"] == "/etc/nginx/groundwork/htpasswd"


def test_the_request_asks_for_every_file_dir_package_and_unit():
    request = role.request(validated(nginx_packages=["libnginx-mod-stream=1.22.1-9"]), Context())
    assert request["files"] == [
        "/etc/nginx/nginx.conf",
        "/etc/nginx/conf.d/groundwork.conf",
        "/etc/nginx/sites-enabled/_default.conf",
        "/etc/nginx/groundwork/ffdhe2048.pem",
        "/etc/systemd/system/nginx.service.d/groundwork-sandbox.conf",
        "/var/lib/groundwork/acme/.well-known/acme-challenge",
        "/etc/nginx/sites-enabled/shop.conf",
        "/etc/nginx/sites-enabled/admin.conf",
        "/etc/nginx/groundwork/htpasswd/admin",
        "/etc/groundwork/tls/hooks/shop.d/nginx",
    ]
    assert request["dirs"] == list(nginx.OWNED_DIRS)
    assert request["packages"] == ["nginx", "openssl", "python3-apt", "libnginx-mod-stream"]
    assert request["units"] == ["nginx.service"]
    assert request["probe"]["names"] == ["shop"]
    assert request["probe"]["hook_dir"] == "/etc/groundwork/tls/hooks"


def test_a_package_with_a_version_always_counts_as_missing():
    model = validated(nginx_packages=["libnginx-mod-stream=1.22.1-9"])
    inspection = converged(model)
    inspection["packages"]["libnginx-mod-stream"] = "installed"
    result = role.plan(model, inspection, Context())
    assert [str(change) for change in result.changes] == [
        "package libnginx-mod-stream=1.22.1-9: not installed"
    ]
