# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decisions of groundwork.server.nginx as pure functions (plugin_utils/_nginx_role.py
composes them; the unit tests call them with tables):

- ``setting_problems``: the global settings the argument spec cannot check;
- ``tuning``: the values derived from the host (workers, connections from memory, CPUs and
  the open-file limit, OCSP stapling and resolvers, the HTTP/2 syntax of the nginx version,
  the ports, the upstreams' keepalive);
- ``paths`` / ``file_specs``: every file of the configuration;
- ``changes``: what differs, with its reason.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _nginx_plan
"""

from __future__ import annotations

import re

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils import _web_server as web
from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import is_hostname, is_ip
from ansible_collections.groundwork.server.plugins.plugin_utils._web_server import (
    SSL_CIPHERS,
    SSL_CURVES,
)

ROLE = "groundwork.server.nginx"
CONSUMER = "nginx"  # the name of nginx's renewal hooks (contracts.hook_path)
UNIT = "nginx.service"
PACKAGES = ("nginx", "openssl", "python3-apt")
# The nginx of each release, for a check-mode run on a host where nginx is not installed yet.
RELEASE_VERSIONS = {"12": "1.22.1", "13": "1.26.3"}
# "http2 on;" from nginx 1.25.1, the listen parameter before.
HTTP2_DIRECTIVE_SINCE = (1, 25, 1)

NGINX_CONF = "/etc/nginx/nginx.conf"
SITES_DIR = "/etc/nginx/sites-enabled"
CONF_DIR = "/etc/nginx/conf.d"
OWN_DIR = "/etc/nginx/groundwork"
HTPASSWD_DIR = f"{OWN_DIR}/htpasswd"
DHPARAM = f"{OWN_DIR}/ffdhe2048.pem"
HTTP_CONF = f"{CONF_DIR}/groundwork.conf"
DEFAULT_CONF = f"{SITES_DIR}/_default.conf"
OWNED_DIRS = (SITES_DIR, CONF_DIR, OWN_DIR, HTPASSWD_DIR)
HEALTH_PATH = "/.groundwork-health"
ZONE_PREFIX = "site_"
PID_FILE = "/run/nginx.pid"
# The systemd drop-in that sandboxes nginx.service (templates/sandbox.conf.j2): a change
# restarts nginx after a daemon-reload (tasks/config.yml).
SANDBOX = "/etc/systemd/system/nginx.service.d/groundwork-sandbox.conf"

GZIP_TYPES = (
    "text/plain",
    "text/css",
    "text/xml",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "image/svg+xml",
)

# The global settings: variable -> (pattern of its value as text, what is allowed).
SETTINGS = {
    "nginx_worker_connections": (
        r"auto|[1-9][0-9]{2,5}",
        "'auto' or a number of connections per worker from 100 to 999999",
    ),
    "nginx_keepalive_timeout": (r"[0-9]{1,6}(ms|s|m|h)?", "a time like '30s'"),
    "nginx_keepalive_requests": (r"[1-9][0-9]{0,6}", "a number"),
    "nginx_client_max_body_size": (r"[0-9]{1,9}[kKmMgG]?", "a size like '10m'"),
    "nginx_gzip_level": (r"[1-9]", "a level from 1 to 9"),
    "nginx_access_log_buffer": (r"[0-9]{1,6}[kKmM]?", "a size like '64k'"),
    "nginx_access_log_flush": (r"[0-9]{1,6}(ms|s|m)?", "a time like '5s'"),
    "nginx_ssl_session_cache_size": (r"[0-9]{1,6}[kKmM]?", "a size like '10m'"),
}


_json = web.json_text


def _text(value):
    """A value as Jinja's ``string`` filter gives it."""
    return str(value)


def setting_problems(settings):
    """The problems of the global settings ({variable: value}), in the order of SETTINGS."""
    problems = []
    for var, (pattern, expected) in SETTINGS.items():
        value = settings.get(var)
        if value is None or isinstance(value, (list, dict)) or not re.fullmatch(pattern, _text(value)):
            problems.append(f"{var}: {_json(value)} is not valid (expected {expected}).")
    resolvers = settings.get("nginx_resolvers") or []
    if not isinstance(resolvers, list):
        problems.append(f"nginx_resolvers: {_json(resolvers)} must be a list of IP addresses or host names.")
        resolvers = []
    for item in resolvers:
        if not (is_ip(item) or is_hostname(item)):
            problems.append(f"nginx_resolvers: {_json(item)} is not an IP address or host name.")
    if not isinstance(settings.get("nginx_ipv6"), bool):
        problems.append(f"nginx_ipv6: {_json(settings.get('nginx_ipv6'))} must be true or false.")
    problems += web.global_problems(settings, "nginx")
    return problems


def version_tuple(text):
    """(1, 25, 1) of "1.25.1"; () when it cannot be read."""
    parts = []
    for part in str(text or "").split("."):
        digits = re.match(r"\d+", part)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def packages(model):
    return [*PACKAGES, *model["settings"]["nginx_packages"]]


def hash_variable(key):
    """The nginx variable of a hash key of the site model."""
    on = key["on"]
    if on == "uri":
        return "$request_uri"
    if on == "client_address":
        return "$remote_addr"
    if on == "header":
        return "$http_" + key["name"].lower().replace("-", "_")
    if on == "cookie":
        return "$cookie_" + key["name"]
    if on == "query":
        return "$arg_" + key["name"]
    return key["text"]


def tuning(model, probe, os_release):
    """The values derived from the host's facts (the probe's answer)."""
    settings = model["settings"]
    version = probe.get("version") or RELEASE_VERSIONS.get(os_release.get("version_id")) or "0"
    workers = max(int(probe.get("cpus") or 1), 1)
    memory_mb = int(probe.get("memory_kb") or 1048576) // 1024
    # About a quarter of the memory at ~32 KiB per connection, shared by the workers, and no
    # more than half the open files a worker may have (client and upstream descriptor each).
    auto = min(
        max((memory_mb * 8) // workers // 512 * 512, 1024),
        16384,
        int(probe.get("nofile_limit") or 524288) // 2,
    )
    configured = settings["nginx_worker_connections"]
    connections = auto if str(configured) == "auto" else int(configured)
    certificates = model["certificates"]
    ocsp = {name: (probe.get("ocsp") or {}).get(name) or "" for name in certificates}
    resolvers = []
    if any(ocsp.values()):
        resolvers = [
            f"[{server}]" if ":" in server else server
            for server in (settings["nginx_resolvers"] or probe.get("resolvers") or [])
        ]
    http2_directive = version_tuple(version) >= HTTP2_DIRECTIVE_SINCE
    sites = model["sites"]
    return {
        "version": version,
        "workers": workers,
        "memory_mb": memory_mb,
        "connections": connections,
        "ocsp": ocsp,
        "resolvers": resolvers,
        "http2_directive": http2_directive,
        "listen_http2": "" if http2_directive else " http2",
        "plain_ports": sorted({80} | {site["port"] for site in sites}),
        "tls_ports": sorted({site["tls"]["port"] for site in sites if site["tls"]}),
        "hash_keys": {
            upstream["name"]: hash_variable(upstream["hash_key"])
            for upstream in model["upstreams"]
            if upstream["hash_key"]
        },
        # Idle connections kept per worker: from the servers and workers, between 8 and 128.
        "keepalive": {
            upstream["name"]: (
                upstream["keepalive"]
                if upstream["keepalive"] != "auto"
                else max(8, min(128, (32 * len(upstream["servers"])) // workers))
            )
            for upstream in model["upstreams"]
        },
    }


def constants():
    """What the templates use besides the model and the tuning."""
    return {
        "certificate_dir": contracts.CERTIFICATE_DIR,
        "htpasswd_dir": HTPASSWD_DIR,
        "dhparam": DHPARAM,
        "health_path": HEALTH_PATH,
        "zone_prefix": ZONE_PREFIX,
        "ssl_ciphers": list(SSL_CIPHERS),
        "ssl_curves": list(SSL_CURVES),
        "gzip_types": list(GZIP_TYPES),
    }


def raw_stubs(model):
    """What the raw directives may refer to besides nginx's own: the upgrade map, the
    upstreams and the rate limit zones of the configuration (http.conf.j2), as stand-ins."""
    stubs = ["map $http_upgrade $connection_upgrade { default upgrade; '' ''; }"]
    stubs += [f"upstream {upstream['name']} {{ server 127.0.0.1:1; }}" for upstream in model["upstreams"]]
    stubs += [
        f"limit_req_zone $binary_remote_addr zone={ZONE_PREFIX}{site['name']}:1m rate=1r/s;"
        for site in model["sites"]
        if site["rate_limit"]
    ]
    return stubs


def challenge_dir(model):
    return web.challenge_dir(model["settings"]["nginx_acme_webroot"])


def site_path(name):
    return f"{SITES_DIR}/{name}.conf"


def htpasswd_path(name):
    return f"{HTPASSWD_DIR}/{name}"


def paths(model):
    """Every path the configuration may consist of (what the inspection reads)."""
    sites = model["sites"]
    return [
        NGINX_CONF,
        HTTP_CONF,
        DEFAULT_CONF,
        DHPARAM,
        SANDBOX,
        challenge_dir(model),
        *(site_path(site["name"]) for site in sites),
        *(htpasswd_path(site["name"]) for site in sites if site["basic_auth"]),
        *(contracts.hook_path(name, CONSUMER) for name in model["certificates"]),
    ]


def file_specs(model, rendered, dhparam, host, registered_hooks):
    """Every file of the configuration, applied as one transaction (service_config), and the
    stale renewal hooks to remove. ``rendered`` is templates/files.j2's answer."""
    specs = [
        {"path": NGINX_CONF, "content": rendered["nginx.conf"]},
        {"path": HTTP_CONF, "content": rendered["http.conf"]},
        {"path": DEFAULT_CONF, "content": rendered["default.conf"]},
        {"path": DHPARAM, "content": dhparam},
        {"path": SANDBOX, "content": rendered["sandbox.conf"]},
    ]
    specs += [
        {"path": site_path(site["name"]), "content": rendered["sites"][site["name"]]}
        for site in model["sites"]
    ]
    specs += web.shared_specs(model, host, CONSUMER, htpasswd_path, rendered["hooks"], registered_hooks)
    return specs


def webroot_spec(model):
    return web.webroot_spec(challenge_dir(model))


def changes(model, specs, inspection):
    """What a run changes: missing packages, files that differ (and strays in the owned
    directories), nginx not running, ACME certificates that wait for nginx."""
    observed = inspection.get("files") or {}
    return web.changes(
        packages(model), specs, webroot_spec(model), observed, OWNED_DIRS, inspection, UNIT, "nginx"
    )


acme_pending = web.acme_pending


def apply_data(model, specs, found, inspection, check_mode):
    """What the applying tasks need."""
    data = web.apply_data(
        packages(model),
        specs,
        webroot_spec(model),
        OWNED_DIRS,
        f"http://127.0.0.1{HEALTH_PATH}",
        inspection,
        check_mode,
        "nginx",
        UNIT,
        found,
    )
    data["sandbox"] = SANDBOX
    return data
