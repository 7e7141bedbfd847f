# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decisions of groundwork.server.apache as pure functions (plugin_utils/_apache_role.py
composes them; the unit tests call them with tables):

- ``setting_problems`` / ``model_problems``: the global settings, and what the shared site
  model allows but Apache cannot express exactly as the model means it;
- ``modules``: the modules the sites need, with their dependencies (Debian's ``Depends:``
  lines in mods-available), and the links of mods-enabled;
- ``tuning``: the values derived from the host (event MPM sized from CPUs and memory,
  OCSP stapling, the ports) and the Apache rendering of every site (``site_rules``);
- ``paths`` / ``file_specs``: every file and link of the configuration;
- ``changes``: what differs, with its reason; ``activation``: a graceful reload, or a
  restart when the loaded modules change.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _apache_plan
"""

from __future__ import annotations

import math
import posixpath
import re

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils import _web_server as web
from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import RETURN_CODES_REDIRECT
from ansible_collections.groundwork.server.plugins.plugin_utils._web_server import SSL_CIPHERS, SSL_CURVES

ROLE = "groundwork.server.apache"
CONSUMER = "apache"  # the name of Apache's renewal hooks (contracts.hook_path)
UNIT = "apache2.service"
PACKAGES = ("apache2", "openssl", "python3-apt")
# The default TLS virtual host shows Debian's snakeoil certificate (made when ssl-cert is
# installed), never the certificate of a site.
TLS_PACKAGES = ("ssl-cert",)
SNAKEOIL_CERT = "/etc/ssl/certs/ssl-cert-snakeoil.pem"
SNAKEOIL_KEY = "/etc/ssl/private/ssl-cert-snakeoil.key"

APACHE_DIR = "/etc/apache2"
PORTS_CONF = f"{APACHE_DIR}/ports.conf"
MODS_AVAILABLE = f"{APACHE_DIR}/mods-available"
MODS_DIR = f"{APACHE_DIR}/mods-enabled"
CONF_DIR = f"{APACHE_DIR}/conf-enabled"
SITES_DIR = f"{APACHE_DIR}/sites-enabled"
OWN_DIR = f"{APACHE_DIR}/groundwork"
HTPASSWD_DIR = f"{OWN_DIR}/htpasswd"
RESPONSES_DIR = f"{OWN_DIR}/responses"
GLOBAL_CONF = f"{CONF_DIR}/groundwork.conf"
DHPARAM = f"{OWN_DIR}/ffdhe2048.pem"
CHECK = f"{OWN_DIR}/check"
HEALTH_FILE = f"{RESPONSES_DIR}/health"
OWNED_DIRS = (MODS_DIR, CONF_DIR, SITES_DIR, OWN_DIR, HTPASSWD_DIR, RESPONSES_DIR)
HEALTH_PATH = "/.groundwork-health"
LOG_DIR = "/var/log/apache2"
# The systemd drop-in that sandboxes apache2.service (templates/sandbox.conf.j2): a change
# restarts Apache after a daemon-reload (tasks/config.yml).
SANDBOX = "/etc/systemd/system/apache2.service.d/groundwork-sandbox.conf"

COMPRESS_TYPES = (
    "text/html",
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

# What every configuration of the role loads: the event MPM, access control, types, index
# files, aliases (the health response, ACME challenges), slow-client time-outs, the status
# page (loopback only), response headers and compression.
BASE_MODULES = (
    "mpm_event",
    "authz_core",
    "authz_host",
    "authn_core",
    "mime",
    "dir",
    "alias",
    "reqtimeout",
    "status",
    "headers",
    "deflate",
    "filter",
)
MPMS = ("mpm_event", "mpm_worker", "mpm_prefork")
METHODS = {"round_robin": "byrequests", "least_connections": "bybusyness"}
LB_MODULES = {"round_robin": "lbmethod_byrequests", "least_connections": "lbmethod_bybusyness"}
# Apache's LimitRequestBody is at most 2 GiB.
BODY_LIMIT_MAX = 2147483647
THREADS_PER_CHILD = 64

# The features of the site model (plugin_utils/_site_model.py FEATURES) this role renders.
# Not rendered: balancing by client address or by hash (mod_proxy_balancer has neither),
# a failure count above one (Apache marks a server failed at its first failure), retries
# after a response (Apache marks the server failed but answers the request), request rate
# limits (mod_ratelimit limits bandwidth, not requests) and nginx's directives.
FEATURES = web.renders(
    {
        "method_client_address",
        "method_hash",
        "failure_count",
        "retries_on_response",
        "rate_limit",
        "raw_nginx",
    }
)
# What an upstream does not say, for Apache: one failure marks a server failed, and a
# request is retried on the next server when the connection fails.
UPSTREAM_DEFAULTS = {"max_fails": 1, "next_upstream": ["error"]}

# The global settings: variable -> (pattern of its value as text, what is allowed).
SETTINGS = {
    "apache_max_request_workers": (
        r"auto|[1-9][0-9]{1,5}",
        "'auto' or a number of simultaneous requests from 10 to 999999",
    ),
    "apache_keepalive_timeout": (r"[1-9][0-9]{0,3}", "seconds from 1 to 9999"),
    "apache_keepalive_requests": (r"[0-9]{1,7}", "a number (0: unlimited)"),
    "apache_timeout": (r"[1-9][0-9]{0,4}", "seconds from 1 to 99999"),
    "apache_client_max_body_size": (r"[0-9]+[kKmMgG]?", "a size like '10m'"),
    "apache_compression_level": (r"[1-9]", "a level from 1 to 9"),
    "apache_ssl_session_cache_size": (r"[0-9]{1,6}[kKmM]?", "a size like '10m'"),
}
# Debian's module names: ssl, proxy_http, php8.2, ...
MODULE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
TIME_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}
SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


_json = web.json_text


def seconds(text):
    """Seconds of a time of the site model ('10s', '1m30s', '500ms')."""
    total = 0.0
    for number, unit in re.findall(r"([0-9]+)(ms|s|m|h|d|w|M|y)?", str(text)):
        total += int(number) * TIME_UNITS[unit or "s"]
    return total


def timeout_param(text):
    """A time as Apache's time-out parameters take it: whole seconds, or milliseconds."""
    value = seconds(text)
    if value == int(value) and value >= 1:
        return str(int(value))
    return f"{max(1, math.ceil(value * 1000))}ms"


def whole_seconds(text, low=1):
    return max(low, math.ceil(seconds(text)))


def size_bytes(text):
    match = re.fullmatch(r"([0-9]+)([kKmMgG]?)", str(text))
    return int(match.group(1)) * SIZE_UNITS[match.group(2).lower()] if match else None


def setting_problems(settings):
    """The problems of the global settings ({variable: value}), in the order of SETTINGS."""
    problems = []
    for var, (pattern, expected) in SETTINGS.items():
        value = settings.get(var)
        if value is None or isinstance(value, (list, dict, bool)) or not re.fullmatch(pattern, str(value)):
            problems.append(f"{var}: {_json(value)} is not valid (expected {expected}).")
    size = size_bytes(settings.get("apache_client_max_body_size"))
    if size is not None and size > BODY_LIMIT_MAX:
        problems.append(
            f"apache_client_max_body_size: {_json(settings['apache_client_max_body_size'])} is above"
            " Apache's limit of 2 GiB (use 0 for no limit)."
        )
    var, expected = "apache_modules", "module names as in /etc/apache2/mods-available, like 'expires'"
    values = settings.get(var)
    if not isinstance(values, list):
        problems.append(f"{var}: {_json(values)} must be a list ({expected}).")
        values = []
    for item in values:
        if not isinstance(item, str) or not MODULE_NAME.fullmatch(item):
            problems.append(f"{var}: {_json(item)} is not valid (expected {expected}).")
        elif item in MPMS and item != "mpm_event":
            problems.append(f"{var}: {_json(item)} is not allowed (the role runs the event MPM).")
    # the ACME webroot, the defaults of the sites, the extra packages (Debian's names)
    problems += web.global_problems(settings, "apache")
    return problems


def model_problems(model):
    """What the site model allows but Apache cannot express as the model means it, beyond the
    features (``unrendered``): one time-out for sending and reading, weights up to 100, a
    path replaced only in a prefix location, body limits up to 2 GiB."""
    problems = []
    for upstream in model["upstreams"]:
        where = upstream["where"]
        if upstream["send_timeout"] != upstream["read_timeout"]:
            problems.append(
                f"{where}: send_timeout {_json(upstream['send_timeout'])} and read_timeout"
                f" {_json(upstream['read_timeout'])} differ; Apache has one time-out for both"
                f" (give them the same value for {ROLE})."
            )
        for server in upstream["servers"]:
            if server["weight"] > 100:
                problems.append(
                    f"{where}: servers weight {server['weight']} of {server['address']} is above"
                    f" 100, the highest load factor of {ROLE}."
                )
    for site in model["sites"]:
        size = size_bytes(site["client_max_body_size"])
        if size is not None and size > BODY_LIMIT_MAX:
            problems.append(
                f"{site['where']}: client_max_body_size {_json(site['client_max_body_size'])} is above"
                " Apache's limit of 2 GiB (use 0 for no limit)."
            )
        for index, location in enumerate(site["locations"]):
            if location["proxy_path"] and location["match"] in ("regex", "iregex"):
                problems.append(
                    f"{site['where']}: locations[{index}].proxy_path {_json(location['proxy_path'])}"
                    " cannot replace a path matched by a regular expression."
                )
            target = (location["return"] or {}).get("target")
            if (
                location["kind"] == "return"
                and target
                and "$" in target
                and location["return"]["code"] in (RETURN_CODES_REDIRECT)
            ):
                problems.append(
                    f"{site['where']}: locations[{index}].return.target {_json(target)} must not contain"
                    " '$' (Apache reads it as a reference to the matched path)."
                )
            text = target if location["kind"] == "return" else None
            if (
                text
                and location["return"]["code"] not in (*RETURN_CODES_REDIRECT, 200)
                and (" " not in text and (text.startswith("/") or re.match(r"[A-Za-z0-9+.-]+:", text)))
            ):
                problems.append(
                    f"{site['where']}: locations[{index}].return.target {_json(text)} would be read by"
                    " Apache as a document to send instead of the text (a path or URL without spaces);"
                    " give a text with a space, or a redirect code."
                )
        for index, redirect in enumerate(site["redirects"]):
            if "$" in redirect["to"]:
                problems.append(
                    f"{site['where']}: redirects[{index}].to {_json(redirect['to'])} must not contain '$'"
                    " (Apache reads it as a reference to the matched path)."
                )
    return problems


# --- modules --------------------------------------------------------------------------


def needed_modules(model):
    """The modules the sites and upstreams need (before dependencies), sorted."""
    sites, upstreams = model["sites"], model["upstreams"]
    needed = set(BASE_MODULES)
    if any(site["tls"] for site in sites):
        needed |= {"ssl", "socache_shmcb", "http2"}
    if any((site["tls"] and site["tls"]["redirect"]) or refused(site) for site in sites):
        needed.add("rewrite")
    if upstreams:
        needed |= {"proxy", "proxy_http", "proxy_balancer", "slotmem_shm"}
        needed |= {
            LB_MODULES[upstream["method"]] for upstream in upstreams if upstream["method"] in LB_MODULES
        }
    if any(upstream["health_check"] for upstream in upstreams):
        needed.add("proxy_hcheck")
    if any(site["basic_auth"] for site in sites):
        needed |= {"auth_basic", "authn_file", "authz_user"}
    needed |= set(model["settings"]["apache_modules"])
    return sorted(needed)


def modules(model, available):
    """(modules to load with their dependencies, problems). ``available`` is the probe's
    {module: {"depends": [...], "conf": bool}} of mods-available; None when Apache is not
    installed yet (a check run on a fresh host): then the dependencies Debian declares for
    the modules the role uses are assumed."""
    wanted, problems, seen = [], [], set()
    todo = list(needed_modules(model))
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        if available is not None and name not in available:
            source = "apache_modules" if name in model["settings"]["apache_modules"] else "the sites"
            problems.append(
                f"{name}: a module {source} need is not in {MODS_AVAILABLE} (install the package"
                " that provides it with apache_packages)."
            )
            continue
        wanted.append(name)
        depends = (available or {}).get(name, {}).get("depends")
        if depends is None:
            depends = KNOWN_DEPENDS.get(name, [])
        todo.extend(depends)
    return sorted(wanted), problems


# Debian's "Depends:" lines of the modules the role uses, for a host without Apache yet.
KNOWN_DEPENDS = {
    "auth_basic": ["authn_core"],
    "authz_host": ["authz_core"],
    "authz_user": ["authz_core"],
    "deflate": ["filter"],
    "lbmethod_bybusyness": ["proxy_balancer"],
    "lbmethod_byrequests": ["proxy_balancer"],
    "proxy_balancer": ["proxy", "alias", "slotmem_shm"],
    "proxy_hcheck": ["proxy"],
    "proxy_http": ["proxy"],
    "ssl": ["setenvif", "mime", "socache_shmcb"],
}


def _link(name, kind):
    return {"path": f"{MODS_DIR}/{name}.{kind}", "state": "link", "src": f"../mods-available/{name}.{kind}"}


def module_links(model, loaded, available):
    """The links of mods-enabled: every module's .load; the .conf of Debian only for the
    modules the user adds (apache_modules), whose settings the role does not render."""
    extra = set(model["settings"]["apache_modules"])
    links = []
    for name in loaded:
        links.append(_link(name, "load"))
        if name in extra and ((available or {}).get(name) or {}).get("conf"):
            links.append(_link(name, "conf"))
    return links


# --- tuning and rendering ---------------------------------------------------------------


def mpm(settings, probe):
    """The event MPM sized from the host: up to 256 requests per CPU and one per 4 MiB of
    memory (a worker thread with its proxy buffers), in whole processes of 64 threads."""
    cpus = max(int(probe.get("cpus") or 1), 1)
    memory_mb = int(probe.get("memory_kb") or 1048576) // 1024
    configured = settings["apache_max_request_workers"]
    if str(configured) == "auto":
        workers = min(256 * cpus, max(memory_mb // 4, THREADS_PER_CHILD), 8192)
    else:
        workers = int(configured)
    processes = max(1, math.ceil(workers / THREADS_PER_CHILD))
    return {
        "cpus": cpus,
        "memory_mb": memory_mb,
        "server_limit": processes,
        "max_request_workers": processes * THREADS_PER_CHILD,
        "start_servers": min(2, processes),
        "min_spare_threads": THREADS_PER_CHILD,
        "max_spare_threads": THREADS_PER_CHILD * min(3, processes + 1),
    }


def quoted(value):
    """A value as one double-quoted argument of an Apache directive. Inside double quotes
    Apache (server/util.c, ap_getword_conf) reads a backslash before a backslash or a quote
    as an escape: every backslash is doubled, then every quote escaped."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


# The values of a rule the templates print as quoted arguments (rule["q"]).
QUOTED_KEYS = ("pattern", "capture", "prefix", "target", "file", "directory")


def header_value(value):
    """A value of mod_headers: '%' starts a format specifier there, '%%' is a percent sign."""
    return quoted(str(value).replace("%", "%%"))


def _headers(values):
    return {name: header_value(value) for name, value in values.items()}


def _pattern(location):
    """The regular expression of a location, as Apache's *Match directives take it."""
    match, path = location["match"], location["path"]
    if match == "exact":
        return "^" + re.escape(path) + "$"
    if match in ("prefix", "priority"):
        return "^" + re.escape(path)
    return ("(?i)" if match == "iregex" else "") + path


def _order(indexed):
    """nginx's order of locations, which the model means: exact matches, then prefixes that
    take priority (longest first), then regular expressions (in order), then prefixes
    (longest first)."""
    index, location = indexed
    match = location["match"]
    if match == "exact":
        return (0, 0, index)
    if match == "priority":
        return (1, -len(location["path"]), index)
    if match in ("regex", "iregex"):
        return (2, 0, index)
    return (3, -len(location["path"]), index)


def response_file(site_name, index):
    return f"{RESPONSES_DIR}/{site_name}-{index}"


def capture(location):
    """A regular expression capturing the whole path of the requests a location matches."""
    match, path = location["match"], location["path"]
    if match == "exact":
        return "^(" + re.escape(path) + ")$"
    if match in ("prefix", "priority"):
        return "^(" + re.escape(path) + ".*)$"
    # the location's own groups come after the whole path's: $1 is the path
    flags = "(?i)" if match == "iregex" else ""
    return f"{flags}^((?=.*(?:{path}))/.*)$"


def site_rules(site):
    """The Apache rendering of a site's locations, in the order nginx would match them:
    [{"kind", "pattern" (a regular expression), "prefix" (for ProxyPass/Alias) or None,
    ...}]. The templates turn each into directives."""
    rules = []
    for index, location in sorted(enumerate(site["locations"]), key=_order):
        pattern = _pattern(location)
        prefix = location["path"] if location["match"] in ("prefix", "priority") else None
        rule = {
            "index": index,
            "pattern": pattern,
            "prefix": prefix,
            "kind": location["kind"],
            "headers": _headers(location["headers"]),
            "raw": location["raw_apache"],
        }
        kind = location["kind"]
        rule["capture"] = capture(location)
        if kind == "proxy":
            upstream = location["upstream"]
            name = upstream["name"]
            if location["match"] in ("regex", "iregex"):
                rule["target"] = f"balancer://{name}$1"
            else:
                rule["target"] = f"balancer://{name}{location['proxy_path'] or location['path']}"
        elif kind == "return":
            code, target = location["return"]["code"], location["return"]["target"]
            rule["code"] = code
            if code in RETURN_CODES_REDIRECT:
                rule["kind"] = "redirect"
                rule["target"] = target
            elif code == 200:
                rule["kind"] = "respond"
                rule["file"] = response_file(site["name"], index)
                # the body exactly as given, like nginx's return 200 "text"
                rule["content"] = target or ""
            else:
                rule["kind"] = "status"
                rule["text"] = target
        elif kind == "alias":
            rule["directory"] = location["alias"]
            rule["file"] = location["alias"]
        elif kind == "root":
            rule["directory"] = location["root"]
            rule["file"] = location["root"].rstrip("/") + "$1"
        rule["q"] = {key: quoted(rule[key]) for key in QUOTED_KEYS if rule.get(key) is not None}
        if rule.get("text"):
            rule["q"]["text"] = quoted(rule["text"])
        rules.append(rule)
    return rules


def site_values(site):
    """The site's own values the templates print: its names (ServerName must be a name, not
    a wildcard, which only ServerAlias matches) and the quoted arguments."""
    names = site["server_names"]
    plain = [name for name in names if not name.startswith("*.")]
    server_name = plain[0] if plain else f"{site['name']}.invalid"
    return {
        "server_name": server_name,
        "aliases": [name for name in names if name != server_name],
        "root": quoted(site["root"]) if site["root"] else None,
        "index": " ".join(quoted(name) for name in site["index"]),
        "realm": quoted(site["basic_auth"]["realm"]) if site["basic_auth"] else None,
        "redirects": [
            {"code": r["code"], "from": quoted("^" + re.escape(r["from"]) + "$"), "to": quoted(r["to"])}
            for r in site["redirects"]
        ],
    }


def _access(site):
    """The Require lines of a site: addresses allowed and denied, and its users."""
    lines = []
    deny, allow = site["deny"], site["allow"]
    if "all" in deny:
        return ["Require all denied"]
    if allow and "all" not in allow:
        lines.append("Require ip " + " ".join(allow))
    else:
        lines.append("Require all granted")
    if deny:
        lines.append("Require not ip " + " ".join(deny))
    if site["basic_auth"]:
        lines.append("Require valid-user")
    return lines


def refused(site):
    """The expression (ap_expr) true for a client the site's address list refuses, or None
    when every address may ask. It says what the Require lines of _access say: mod_rewrite
    evaluates it in the server context, before the redirects and fixed answers of mod_alias
    that would otherwise answer before the Require lines are read. Every term is in its own
    parentheses: ap_expr reads "!(a) || b" as "!(a || b)"."""
    deny, allow = site["deny"], site["allow"]
    if "all" in deny:
        return "true"
    tests = []
    if allow and "all" not in allow:
        tests.append("(!(" + " || ".join(f"-R '{address}'" for address in allow) + "))")
    if deny:
        tests.append("(" + " || ".join(f"-R '{address}'" for address in deny) + ")")
    return " || ".join(tests) or None


def member_params(upstream, server, websocket):
    params = []
    if server["weight"] != 1:
        params.append(f"loadfactor={server['weight']}")
    # A server marked failed is retried after fail_timeout; max_fails 0: never marked.
    params.append(f"retry={0 if not server['max_fails'] else whole_seconds(server['fail_timeout'])}")
    params.append(f"connectiontimeout={timeout_param(upstream['connect_timeout'])}")
    # mod_proxy reads timeout= as whole seconds (only connectiontimeout= takes "ms")
    params.append(f"timeout={whole_seconds(upstream['read_timeout'])}")
    if upstream["keepalive"] == 0:
        params.append("disablereuse=On")
    else:
        params.append("ttl=60")
    if websocket:
        params.append("upgrade=websocket")
    check = upstream["health_check"]
    if check:
        params += [
            "hcmethod=GET",
            f"hcuri={check['path']}",
            f"hcinterval={whole_seconds(check['interval'])}",
            f"hcexpr=status_{check['status']}",
            "hcpasses=1",
            f"hcfails={max(1, server['max_fails'] or 1)}",
        ]
    if server["backup"]:
        params.append("status=+H")
    return params


def balancers(model):
    """Every upstream as a balancer: members with their parameters, the method and tries."""
    websocket = {
        location["proxy"]
        for site in model["sites"]
        for location in site["locations"]
        if location["websocket"]
    }
    result = []
    for upstream in model["upstreams"]:
        tries = upstream["next_upstream_tries"] or 1
        result.append(
            {
                "name": upstream["name"],
                "members": [
                    {
                        "url": f"http://{server['address']}",
                        "params": member_params(upstream, server, upstream["name"] in websocket),
                    }
                    for server in upstream["servers"]
                ],
                "lbmethod": METHODS.get(upstream["method"], "byrequests"),
                "maxattempts": tries - 1 if "error" in upstream["next_upstream"] else 0,
            }
        )
    return result


def tuning(model, probe, host):
    """The values derived from the host's facts (the probe's answer) and the rendering of
    the model that the templates use."""
    settings = model["settings"]
    sites = model["sites"]
    certificates = model["certificates"]
    ocsp = {name: (probe.get("ocsp") or {}).get(name) or "" for name in certificates}
    status_codes = sorted({u["health_check"]["status"] for u in model["upstreams"] if u["health_check"]})
    return {
        "version": probe.get("version") or "",
        "server_name": host if re.fullmatch(r"[A-Za-z0-9.-]{1,253}", str(host or "")) else "localhost",
        "mpm": mpm(settings, probe),
        "ocsp": ocsp,
        "stapling": any(ocsp.values()),
        "plain_ports": sorted({80} | {site["port"] for site in sites}),
        "tls_ports": sorted({site["tls"]["port"] for site in sites if site["tls"]}),
        "balancers": balancers(model),
        "health_statuses": status_codes,
        "rules": {site["name"]: site_rules(site) for site in sites},
        "site_values": {site["name"]: site_values(site) for site in sites},
        "access": {site["name"]: _access(site) for site in sites},
        "refused": {site["name"]: refused(site) for site in sites},
        "headers": {
            site["name"]: {name: header_value(value) for name, value in site["headers"].items()}
            for site in sites
        },
        "body_limit": {site["name"]: size_bytes(site["client_max_body_size"]) or 0 for site in sites},
        "keepalive_timeout": int(settings["apache_keepalive_timeout"]),
        "keepalive_requests": int(settings["apache_keepalive_requests"]),
        "timeout": int(settings["apache_timeout"]),
        "compression_level": int(settings["apache_compression_level"]),
        "ssl_session_cache_bytes": size_bytes(str(settings["apache_ssl_session_cache_size"]).lower())
        or 10485760,
        "acme_webroot": settings["apache_acme_webroot"],
        "challenge_dir": challenge_dir(model),
    }


def constants():
    """What the templates use besides the model and the tuning."""
    return {
        "certificate_dir": contracts.CERTIFICATE_DIR,
        "htpasswd_dir": HTPASSWD_DIR,
        "dhparam": DHPARAM,
        "health_path": HEALTH_PATH,
        "health_file": HEALTH_FILE,
        "responses_dir": RESPONSES_DIR,
        "check": CHECK,
        "log_dir": LOG_DIR,
        "snakeoil_cert": SNAKEOIL_CERT,
        "snakeoil_key": SNAKEOIL_KEY,
        "ssl_ciphers": list(SSL_CIPHERS),
        "ssl_curves": list(SSL_CURVES),
        "compress_types": list(COMPRESS_TYPES),
    }


def challenge_dir(model):
    return web.challenge_dir(model["settings"]["apache_acme_webroot"])


def site_path(name):
    return f"{SITES_DIR}/{name}.conf"


def htpasswd_path(name):
    return f"{HTPASSWD_DIR}/{name}"


def packages(model):
    extra = TLS_PACKAGES if any(site["tls"] for site in model["sites"]) else ()
    return [*PACKAGES, *extra, *model["settings"]["apache_packages"]]


def paths(model):
    """Every path the configuration may consist of (what the inspection reads)."""
    sites = model["sites"]
    responses = [rule["file"] for site in sites for rule in site_rules(site) if rule["kind"] == "respond"]
    return [
        PORTS_CONF,
        GLOBAL_CONF,
        DHPARAM,
        CHECK,
        HEALTH_FILE,
        SANDBOX,
        challenge_dir(model),
        *(site_path(site["name"]) for site in sites),
        *(htpasswd_path(site["name"]) for site in sites if site["basic_auth"]),
        *responses,
        *(contracts.hook_path(name, CONSUMER) for name in model["certificates"]),
    ]


def file_specs(model, rendered, static, host, registered_hooks, links):
    """Every file and link of the configuration, applied as one transaction
    (service_config), and the stale renewal hooks to remove. ``rendered`` is
    templates/files.j2's answer; ``static`` the role's files (dhparam, check)."""
    specs = [
        {"path": PORTS_CONF, "content": rendered["ports.conf"]},
        {"path": GLOBAL_CONF, "content": rendered["groundwork.conf"]},
        {"path": DHPARAM, "content": static["dhparam"]},
        # run by /usr/bin/python3 (the validate command and the hooks), not executed itself
        {"path": CHECK, "content": static["check"]},
        {"path": HEALTH_FILE, "content": "ok\n"},
        {"path": SANDBOX, "content": rendered["sandbox.conf"]},
        *links,
    ]
    for site in model["sites"]:
        specs.append({"path": site_path(site["name"]), "content": rendered["sites"][site["name"]]})
        specs += [
            {"path": rule["file"], "content": rule["content"]}
            for rule in site_rules(site)
            if rule["kind"] == "respond"
        ]
    specs += web.shared_specs(model, host, CONSUMER, htpasswd_path, rendered["hooks"], registered_hooks)
    return specs


def webroot_spec(model):
    return web.webroot_spec(challenge_dir(model))


def observed_files(inspection, specs):
    """The inspected files, with the entries of mods-enabled as the probe saw them (the
    modules to load are only known from the probe's answer)."""
    files = dict(inspection.get("files") or {})
    enabled = (inspection.get("probe") or {}).get("enabled") or {}
    for name, target in enabled.items():
        path = f"{MODS_DIR}/{name}"
        files.setdefault(
            path, {"state": "link", "target": target} if target is not None else {"state": "other"}
        )
    for spec in specs:
        if posixpath.dirname(spec["path"]) == MODS_DIR:
            files.setdefault(spec["path"], {"state": "absent"})
    return files


def changes(model, specs, inspection):
    """What a run changes: missing packages, files and links that differ (and strays in the
    owned directories), Apache not running, ACME certificates that wait for Apache."""
    observed = observed_files(inspection, specs)
    return web.changes(
        packages(model), specs, webroot_spec(model), observed, OWNED_DIRS, inspection, UNIT, "Apache"
    )


def activation(found):
    """A graceful reload, or a restart when the set of loaded modules (or the MPM) changes:
    Apache loads modules once, when it starts."""
    modules_change = any(change.target.startswith(MODS_DIR + "/") for change in found)
    return "restart" if modules_change else "reload"


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
        "apache2",
        UNIT,
        found,
    )
    data.update(activate=activation(found), check=CHECK, sandbox=SANDBOX)
    return data
