# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The site model of the web-server roles: one schema for sites and upstreams, validated
once, in HTTP's vocabulary, rendered by any web-server role (groundwork.server.nginx and
groundwork.server.apache).

``site_model(sites, upstreams=..., certificates=..., groups=..., hostvars=...)`` validates
and normalises the input and returns ``{"sites", "upstreams", "certificates", "errors"}``;
every error names the site (or upstream), the key and the value (passwords never).

The model speaks HTTP, not a server's directives. What a model uses is a set of
*features* (``FEATURES``: static files, proxying, each balancing method, backup servers,
passive and active health checks, WebSockets, ...). A server role declares the features it
renders and refuses a model that needs others before any change
(``unrendered(model, renders, role)``). Directives of one server (``raw_nginx``,
``raw_apache``) are a feature of their own that only that server's role declares.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import (
        FEATURES, site_model, features_used, unrendered)
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    CONTROL,
    Checker,
    named_items,
    quote,
)

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
NAME_EXPECTED = "a-z, 0-9, '_', '.' and '-', starting with a-z or 0-9"
UPSTREAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Header names: letters, digits, '-' and '_'. HTTP's token also has !#$%&'*+.^`|~, but a name
# is written unquoted, and a leading quote or '#' would start a string or a comment in both
# servers' syntax.
HEADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
HEADER_NAME_EXPECTED = "letters, digits, '-' and '_', starting with a letter or digit"
SIZE = re.compile(r"[0-9]+[kKmMgG]?")
TIME = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|M|y)?)+")
SIZE_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
SIZE_MAX = 1024**4  # 1024g: a number nginx reads without overflow
RATE = re.compile(r"[1-9][0-9]*r/[sm]")
# A path of a request: written unquoted by nginx, so no white space, quotes, ';', braces,
# backslash or control character.
URI_PATH = re.compile("/[^\\s{};\"'\\\\" + CONTROL.pattern[1:-1] + "]*")
# A directory or file of the host (root, alias): written unquoted by nginx, and '$' would be
# a variable there (and a reference to a match in Apache's AliasMatch).
FS_PATH = re.compile(r"/[A-Za-z0-9._~+@,=:/-]*")
FS_PATH_EXPECTED = "an absolute path of letters, digits and . _ ~ + @ , = : - /, without '..', '.' or '//'"
# An index file name (relative to the directory, or absolute).
INDEX_FILE = re.compile(r"[A-Za-z0-9._~+@,=:/-]{1,255}")
# A '$' before a name or a brace: a variable in nginx ($host), a definition in Apache
# (${APACHE_LOG_DIR}). Text of the site model means what it says in both servers.
VARIABLE = re.compile(r"\$[A-Za-z0-9_{]")
VARIABLE_WHAT = "must not contain '$' before a name or '{' (a server would read a variable there)"
HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]+)")
NGINX_VARIABLE = re.compile(r"(?:\$[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9_.:/-])+")
# What the hash method hashes, in HTTP terms: the request URI, the client's address, or a
# named request header, cookie or query argument; nginx variables are nginx's own (raw_nginx).
HASH_ON = ("uri", "client_address")
HASH_NAMED = {
    "header": re.compile(r"[A-Za-z0-9-]{1,64}"),
    "cookie": re.compile(r"[A-Za-z0-9_]{1,64}"),
    "query": re.compile(r"[A-Za-z0-9_]{1,64}"),
}
HASH_EXPECTED = (
    "uri, client_address, header:<name>, cookie:<name> or query:<name>;"
    " or nginx variables such as '$request_uri' (nginx only)"
)
# A user of a basic-auth file (name:hash lines; a leading '#' makes a comment line).
USER = re.compile("[^:\\s#" + CONTROL.pattern[1:-1] + "][^:\\s" + CONTROL.pattern[1:-1] + "]{0,63}")
USER_EXPECTED = "1 to 64 characters, no ':', spaces or control characters, not starting with '#'"
RAW_APACHE_FORBIDDEN = CONTROL
# Units of a time, largest first, as nginx reads them (each at most once, in this order);
# the seconds of each (Apache's time-outs are computed from them).
TIME_PART = re.compile(r"([0-9]{1,10})(ms|y|M|w|d|h|m|s)?")
TIME_ORDER = ("y", "M", "w", "d", "h", "m", "s", "ms")
TIME_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}
TIME_MAX = 31536000  # a year
TIME_EXPECTED = "a time like '10s' or '1m30s': units y M w d h m s ms, largest first, at most a year"

# How a location's path matches: a prefix, the exact path, a regular expression (case
# sensitive or not), or a prefix that takes priority over the regular expressions.
LOCATION_MATCHES = ("prefix", "exact", "regex", "iregex", "priority")
# Balancing methods in HTTP terms; the names nginx uses are accepted as aliases.
METHODS = ("round_robin", "least_connections", "client_address", "hash")
METHOD_ALIASES = {"least_conn": "least_connections", "ip_hash": "client_address"}
# When a request is retried on the next server: a connection error, a timeout, an invalid
# response header, a status code, also for non-idempotent requests (POST, ...), or never.
# nginx's names of the status conditions (http_502) are accepted as aliases.
RETRY_STATUSES = (500, 502, 503, 504, 403, 404, 429)
NEXT_UPSTREAM = (
    "error",
    "timeout",
    "invalid_header",
    *(str(c) for c in RETRY_STATUSES),
    "non_idempotent",
    "off",
)
NEXT_UPSTREAM_ALIASES = {f"http_{code}": str(code) for code in RETRY_STATUSES}

# What a site model can ask of a web server. Each role declares the features it renders
# (its FEATURES) and refuses a model that uses any other one.
FEATURES = {
    "static": "files served from a directory (root, alias, a site without upstream)",
    "proxy": "requests proxied to an upstream (upstream, locations[].proxy)",
    "proxy_path": "the path replaced when proxying (locations[].proxy_path)",
    "upstreams": "groups of backend servers with weights",
    "method_round_robin": "balancing: round robin",
    "method_least_connections": "balancing: the server with the fewest active connections",
    "method_client_address": "balancing: by the client's address (sticky)",
    "method_hash": "balancing: consistent hash of a key (hash_key)",
    "backup_servers": "servers used only when the others are unavailable (servers[].backup)",
    "passive_health": "servers skipped after failed requests (max_fails, fail_timeout)",
    "failure_count": "a server marked failed only after several failed requests (max_fails above 1)",
    "retries": "requests retried on the next server when the connection fails (next_upstream: error)",
    "retries_on_response": "requests retried on the next server after a timeout, an invalid"
    " header or a status code (next_upstream: timeout, invalid_header, 502, ..., non_idempotent)",
    "active_health_check": "servers probed by the web server itself (health_check)",
    "websocket": "WebSocket upgrade for proxied locations (locations[].websocket)",
    "return": "fixed responses and redirects of a location (locations[].return)",
    "redirects": "redirects of single paths (redirects)",
    "headers": "response headers (headers, locations[].headers)",
    "security_headers": "the default security headers (security_headers)",
    "tls": "HTTPS with a certificate by name (tls)",
    "tls_redirect": "plain HTTP redirected to HTTPS (tls.redirect)",
    "hsts": "Strict-Transport-Security (tls.hsts...)",
    "http2": "HTTP/2 on the HTTPS port",
    "rate_limit": "requests per client address limited (rate_limit)",
    "access_control": "clients allowed or denied by address (allow, deny)",
    "basic_auth": "HTTP basic authentication (basic_auth)",
    "regex_locations": "locations matched by regular expression (locations[].match regex, iregex)",
    "raw_nginx": "nginx's own text: directives (raw_nginx, or raw), nginx variables as hash_key",
    "raw_apache": "Apache's own text: directives (raw_apache)",
}
RETURN_CODES_REDIRECT = (301, 302, 303, 307, 308)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
SITE_DEFAULTS = {"client_max_body_size": "1m", "hsts_max_age": 63072000, "security_headers": True}
UPSTREAM_DEFAULTS = {
    "method": "round_robin",
    "hash_key": None,
    "consistent": True,
    "keepalive": "auto",
    "max_fails": 3,
    "fail_timeout": "10s",
    "next_upstream": ["error", "timeout", "502", "503", "504"],
    "next_upstream_tries": 2,
    "next_upstream_timeout": "10s",
    "connect_timeout": "5s",
    "send_timeout": "60s",
    "read_timeout": "60s",
    "health_check": None,
}
HEALTH_CHECK_KEYS = ("path", "interval", "status")


def time_seconds(text):
    """The seconds of a time as nginx reads it ('10s', '1m30s', '500ms', '30': seconds), or
    None when nginx would refuse it: units largest first, each at most once."""
    if not isinstance(text, str) or not text:
        return None
    total, rank, position = 0.0, -1, 0
    while position < len(text):
        part = TIME_PART.match(text, position)
        if not part:
            return None
        unit = part.group(2) or "s"
        if part.group(2) is None and part.end() != len(text):
            return None
        if TIME_ORDER.index(unit) <= rank:
            return None
        rank = TIME_ORDER.index(unit)
        total += int(part.group(1)) * TIME_SECONDS[unit]
        position = part.end()
    return total


def is_hostname(value, wildcard=False):
    """RFC 1123 host name; with ``wildcard`` a leading ``*.`` label is allowed."""
    if not isinstance(value, str) or not value or len(value) > 253:
        return False
    if wildcard and value.startswith("*."):
        value = value[2:]
    return all(LABEL.fullmatch(label) for label in value.split("."))


class _SiteChecker(Checker):
    """The shared checks, plus the HTTP-specific ones of sites and locations."""

    def time(self, where, key, value, positive=True):
        """A time nginx and Apache both read (``time_seconds``), above zero when ``positive``,
        at most a year; the text as given."""
        if value is None:
            return None
        seconds = time_seconds(value) if isinstance(value, str) else None
        if seconds is None or seconds > TIME_MAX or (positive and seconds <= 0):
            above = "above zero, " if positive else ""
            self.add(where, key, value, f"is not valid (expected {above}{TIME_EXPECTED})")
            return None
        return value

    def literal(self, where, key, value, required=False):
        """Text written into a configuration (quoted there): ``text``, and no variable."""
        value = self.text(where, key, value, required=required)
        if value is not None and VARIABLE.search(value):
            self.add(where, key, value, VARIABLE_WHAT)
            return None
        return value

    def fs_path(self, where, key, value, final_slash=False):
        """A directory or file of the host: FS_PATH, normalised; a final '/' only with
        ``final_slash`` (a location's root or alias: a directory of the location, which nginx
        keeps as given for an alias)."""
        if value is None:
            return None
        if not isinstance(value, str) or not FS_PATH.fullmatch(value):
            self.add(where, key, value, f"is not valid (expected {FS_PATH_EXPECTED})")
            return None
        bare = value[:-1] if final_slash and len(value) > 1 and value.endswith("/") else value
        if self.path(where, key, bare) is None:
            return None
        return value

    def index(self, where, key, value):
        """Index file names: INDEX_FILE, no '..' or '.' segment."""
        result = []
        for i, name in enumerate(self.strings(where, key, value)):
            if not INDEX_FILE.fullmatch(name) or {"..", "."} & set(name.split("/")):
                self.add(
                    where,
                    f"{key}[{i}]",
                    name,
                    "is not a file name (expected letters, digits and . _ ~ + @ , = : - /, without '..')",
                )
            else:
                result.append(name)
        return result

    def headers(self, where, key, value):
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(where, key, value, "must be a mapping of header name to value")
            return {}
        result = {}
        for name, text in value.items():
            if not isinstance(name, str) or not HEADER_NAME.fullmatch(name):
                self.add(
                    where,
                    f"{key} name",
                    name,
                    f"is not a valid HTTP header name (expected {HEADER_NAME_EXPECTED})",
                )
                continue
            if text is None or text == "":
                result[name] = None  # removes a default header
                continue
            if not isinstance(text, (str, int)) or isinstance(text, bool):
                self.add(where, f"{key}.{name}", text, "must be a string")
                continue
            if self.literal(where, f"{key}.{name}", str(text)) is not None:
                result[name] = str(text)
        return result

    def addresses(self, where, key, value):
        result = []
        for i, item in enumerate(value if isinstance(value, list) else []):
            try:
                if item == "all":
                    result.append(item)
                    continue
                if not isinstance(item, str) or "%" in item:
                    raise ValueError(item)  # a zone (fe80::1%eth0) is no address of a rule
                result.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                self.add(where, f"{key}[{i}]", item, "is not an IP address or network (or 'all')")
        if value is not None and not isinstance(value, list):
            self.add(where, key, value, "must be a list")
        return result


def _upstream_servers(check, where, index, server, defaults, groups, hostvars):
    at = f"servers[{index}]"
    if not isinstance(server, dict):
        check.add(where, at, server, "must be a mapping with 'address' or 'group' and 'port'")
        return []
    address, group = server.get("address"), server.get("group")
    if (address is None) == (group is None):
        check.errors.append(
            f"{where}: {at} needs exactly one of 'address' (host:port) or 'group' (with 'port')"
        )
        return []
    common = {
        "weight": check.integer(where, f"{at}.weight", server.get("weight", 1), 1, 1000) or 1,
        "backup": check.boolean(where, f"{at}.backup", server.get("backup"), False),
        "max_fails": check.integer(
            where, f"{at}.max_fails", server.get("max_fails", defaults["max_fails"]), 0, 1000
        ),
        "fail_timeout": check.time(
            where, f"{at}.fail_timeout", server.get("fail_timeout", defaults["fail_timeout"]), positive=False
        ),
    }
    if address is not None:
        match = HOST_PORT.fullmatch(address) if isinstance(address, str) else None
        host = match.group("host") if match else None
        bracketed = bool(host) and host.startswith("[")
        host = host.strip("[]") if host else None
        if not match or not (
            (is_hostname(host) and not bracketed) or is_ip(host, version=6 if bracketed else None)
        ):
            check.add(where, f"{at}.address", address, "is not valid (expected host:port, e.g. 'app1:8000')")
            return []
        if check.integer(where, f"{at}.address port", int(match.group("port")), 1, 65535) is None:
            return []
        return [dict(common, address=address)]
    port = check.integer(where, f"{at}.port", server.get("port"), 1, 65535)
    if server.get("port") is None:
        check.errors.append(f"{where}: {at}.port is required with 'group'")
    if not isinstance(group, str) or group not in groups:
        check.add(where, f"{at}.group", group, "is not a group of the inventory")
        return []
    members = list(groups[group])
    if not members:
        check.add(where, f"{at}.group", group, "has no hosts")
        return []
    if port is None:
        return []
    result = []
    for member in members:
        host = member
        variables = hostvars.get(member) if hasattr(hostvars, "get") else None
        if variables is not None and variables.get("ansible_host"):
            host = str(variables.get("ansible_host"))
        if not isinstance(host, str) or not (is_hostname(host) or is_ip(host)):
            check.add(
                where,
                f"{at}.group",
                group,
                f"has the host {quote(member)} whose address {quote(host)} (ansible_host or its"
                " name) is not a host name or IP address",
            )
            continue
        formatted = f"[{host}]" if ":" in host else host
        result.append(dict(common, address=f"{formatted}:{port}"))
    return result


def is_ip(value, version=None):
    """An IP address (of ``version`` when given), without a zone (``%eth0``)."""
    if not isinstance(value, str) or "%" in value:
        return False
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return version is None or address.version == version


def _upstream(check, where, item, groups, hostvars, defaults=None):
    if not isinstance(item, dict):
        check.errors.append(f"{where}: must be a mapping")
        return None
    name = check.pattern(where, "name", item.get("name"), UPSTREAM_NAME, "letters, digits, '_' and '-'")
    if item.get("name") is None:
        check.errors.append(f"{where}: name is required")
    defaults = dict(UPSTREAM_DEFAULTS, **(defaults or {}))
    up = {key: item.get(key, default) for key, default in defaults.items()}
    up["name"] = name
    up["where"] = where
    method = up["method"]
    up["method"] = METHOD_ALIASES.get(method, method) if isinstance(method, str) else method
    if up["method"] not in METHODS:
        check.add(
            where,
            "method",
            method,
            f"is not a balancing method (expected one of {', '.join(METHODS)};"
            f" {' and '.join(METHOD_ALIASES)} are accepted as aliases)",
        )
    up["hash_key"] = _hash_key(check, where, up["hash_key"]) if up["method"] == "hash" else None
    up["consistent"] = check.boolean(where, "consistent", item.get("consistent"), True)
    if up["keepalive"] != "auto":
        up["keepalive"] = check.integer(where, "keepalive", up["keepalive"], 0, 10000)
    up["next_upstream_tries"] = check.integer(where, "next_upstream_tries", up["next_upstream_tries"], 1, 100)
    # next_upstream_timeout 0: no limit
    check.time(where, "next_upstream_timeout", up["next_upstream_timeout"], positive=False)
    for key in ("connect_timeout", "send_timeout", "read_timeout"):
        check.time(where, key, up[key])
    next_upstream = up["next_upstream"] if isinstance(up["next_upstream"], list) else [up["next_upstream"]]
    conditions = []
    for i, condition in enumerate(next_upstream):
        condition = (
            str(condition) if isinstance(condition, int) and not isinstance(condition, bool) else condition
        )
        condition = NEXT_UPSTREAM_ALIASES.get(condition, condition)
        if check.one_of(where, f"next_upstream[{i}]", condition, NEXT_UPSTREAM, optional=False) is not None:
            conditions.append(condition)
    up["next_upstream"] = conditions
    up["health_check"] = _health_check(check, where, item.get("health_check"))
    servers = item.get("servers")
    if not isinstance(servers, list) or not servers:
        check.add(where, "servers", servers, "must be a non-empty list")
        servers = []
    up["servers"] = [
        expanded
        for index, server in enumerate(servers)
        for expanded in _upstream_servers(check, where, index, server, up, groups, hostvars)
    ]
    if up["method"] in ("client_address", "hash") and any(s["backup"] for s in up["servers"]):
        check.errors.append(
            f"{where}: servers with backup: true cannot be used with method {quote(up['method'])}"
        )
    return up


def _hash_key(check, where, value):
    """{"on": "uri" | "client_address"}, {"on": "header" | "cookie" | "query", "name"}, or
    {"on": "nginx", "text": nginx variables} (the older, nginx-only form)."""
    if value is None or value == "":
        check.line(where, "hash_key is required with method 'hash'")
        return None
    if isinstance(value, str):
        if value in HASH_ON:
            return {"on": value}
        kind, sep, name = value.partition(":")
        if sep and kind in HASH_NAMED and HASH_NAMED[kind].fullmatch(name):
            return {"on": kind, "name": name}
        if "$" in value and NGINX_VARIABLE.fullmatch(value):
            return {"on": "nginx", "text": value}
    check.add(where, "hash_key", value, f"is not valid (expected {HASH_EXPECTED})")
    return None


def _health_check(check, where, item):
    """Active health checks: the web server itself probes every server."""
    if item is None:
        return None
    if not isinstance(item, dict):
        check.add(where, "health_check", item, "must be a mapping with 'path'")
        return None
    unknown = sorted(set(item) - set(HEALTH_CHECK_KEYS))
    if unknown:
        check.add(
            where,
            "health_check",
            item,
            f"has unknown keys {unknown} (allowed: {', '.join(HEALTH_CHECK_KEYS)})",
        )
    return {
        "path": check.pattern(
            where, "health_check.path", item.get("path", "/"), URI_PATH, "a path starting with '/'"
        ),
        "interval": check.time(where, "health_check.interval", item.get("interval", "10s")),
        "status": check.integer(where, "health_check.status", item.get("status", 200), 100, 599),
    }


def _location(check, where, index, item, upstreams):
    at = f"locations[{index}]"
    if not isinstance(item, dict):
        check.add(where, at, item, "must be a mapping")
        return None
    match = check.one_of(where, f"{at}.match", item.get("match", "prefix"), LOCATION_MATCHES, optional=False)
    match = match or "prefix"
    path = item.get("path")
    if match in ("regex", "iregex"):
        path = check.text(where, f"{at}.path", path, required=True)
        if path is not None and (re.search(r"[\s;'\"]", path) or _odd_final_backslashes(path)):
            check.add(
                where, f"{at}.path", path, "must not contain spaces, quotes or ';', nor end with a backslash"
            )
            path = None
    else:
        if path is None:
            check.errors.append(f"{where}: {at}.path is required")
        path = check.pattern(where, f"{at}.path", path, URI_PATH, "a path starting with '/'")
    actions = [key for key in ("proxy", "root", "alias", "return") if item.get(key) is not None]
    if len(actions) > 1:
        check.errors.append(f"{where}: {at} has {' and '.join(actions)}; a location has at most one of them")
    location = {
        "path": path,
        "match": match,
        "kind": actions[0] if actions else "static",
        "proxy": None,
        "upstream": None,
        "proxy_path": _proxy_path(check, where, f"{at}.proxy_path", item.get("proxy_path")),
        "websocket": check.boolean(where, f"{at}.websocket", item.get("websocket"), False),
        "root": check.fs_path(where, f"{at}.root", item.get("root"), final_slash=True),
        "alias": check.fs_path(where, f"{at}.alias", item.get("alias"), final_slash=True),
        "return": None,
        "headers": check.headers(where, f"{at}.headers", item.get("headers")),
        "raw_nginx": _raw_nginx(check, where, at + ".", item),
        "raw_apache": _raw_apache(check, where, f"{at}.raw_apache", item.get("raw_apache")),
    }
    if item.get("proxy") is not None:
        location["proxy"] = _upstream_ref(check, where, f"{at}.proxy", item["proxy"], upstreams)
        location["upstream"] = upstreams.get(location["proxy"])
    if item.get("return") is not None:
        location["return"] = _return(check, where, f"{at}.return", item["return"])
    return location


def _proxy_path(check, where, key, value):
    """The path of a proxied request: a request path, without '$' (nginx would take the
    proxy_pass for one with variables, resolved at run time)."""
    path = check.pattern(where, key, value, URI_PATH, "a path starting with '/'")
    if path is not None and "$" in path:
        check.add(where, key, path, "must not contain '$' (nginx would read a variable)")
        return None
    return path


def _odd_final_backslashes(text):
    """A final backslash that escapes what the configuration puts after the value."""
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


def nginx_statement_problem(line):
    """Why one line of nginx directives would not stay on its line, or None: a quote left
    open (it would take the next lines), a final backslash, a directive not ended by ';'.
    nginx reads a quote only at the start of a word, and '#' there starts a comment."""
    quote, escaped, start, ended = None, False, True, True
    for char in line:
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped, start, ended = True, False, False
        elif quote:
            if char == quote:
                quote = None
        elif char in "\"'" and start:
            quote, start, ended = char, False, False
        elif char == "#" and start:
            break
        elif char == ";":
            start, ended = True, True
        elif char.isspace():
            start = True
        else:
            start, ended = False, False
    if quote:
        return f"leaves a quote ({quote}) open"
    if escaped:
        return "ends with a backslash"
    if not ended:
        return "does not end its directive with ';'"
    return None


def _upstream_ref(check, where, key, name, upstreams):
    if not isinstance(name, str) or name not in upstreams:
        known = ", ".join(quote(n) for n in sorted(upstreams)) or "none"
        check.add(where, key, name, f"is not a known upstream (known: {known})")
        return None
    return name


def _return(check, where, key, value):
    if not isinstance(value, dict):
        check.add(where, key, value, "must be a mapping with 'code' and optional 'target'")
        return None
    code = check.integer(where, f"{key}.code", value.get("code"), 200, 599)
    if value.get("code") is None:
        check.errors.append(f"{where}: {key}.code is required")
    target = check.literal(where, f"{key}.target", value.get("target"))
    if code in RETURN_CODES_REDIRECT and value.get("target") in (None, ""):
        check.errors.append(f"{where}: {key}.target is required for a redirect ({code})")
    return {"code": code, "target": target}


def _tls(check, where, item, certificates, defaults):
    if item is None:
        return None
    if not isinstance(item, dict):
        check.add(where, "tls", item, "must be a mapping with 'certificate'")
        return None
    certificate = item.get("certificate")
    if certificate is None:
        check.errors.append(f"{where}: tls.certificate is required")
    elif not isinstance(certificate, str) or certificate not in certificates:
        known = ", ".join(quote(n) for n in sorted(c for c in certificates if isinstance(c, str))) or "none"
        check.add(where, "tls.certificate", certificate, f"is not a known certificate (known: {known})")
        certificate = None
    hsts = check.boolean(where, "tls.hsts", item.get("hsts"), True)
    max_age = check.integer(
        where, "tls.hsts_max_age", item.get("hsts_max_age", defaults["hsts_max_age"]), 0, 10**9
    )
    hsts_value = None
    if hsts:
        hsts_value = f"max-age={max_age}"
        if check.boolean(where, "tls.hsts_subdomains", item.get("hsts_subdomains"), False):
            hsts_value += "; includeSubDomains"
        if check.boolean(where, "tls.hsts_preload", item.get("hsts_preload"), False):
            hsts_value += "; preload"
    return {
        "certificate": certificate,
        "port": check.integer(where, "tls.port", item.get("port", 443), 1, 65535),
        "redirect": check.boolean(where, "tls.redirect", item.get("redirect"), True),
        "hsts": hsts_value,
    }


def _basic_auth(check, where, item):
    if item is None:
        return None
    if not isinstance(item, dict):
        check.add(where, "basic_auth", "(not shown)", "must be a mapping with 'users'")
        return None
    realm = check.literal(where, "basic_auth.realm", item.get("realm", "Restricted"), required=True)
    if realm is not None and '"' in realm:
        check.add(where, "basic_auth.realm", realm, "must not contain double quotes")
    users = item.get("users")
    if not isinstance(users, list) or not users:
        check.errors.append(f"{where}: basic_auth.users must be a non-empty list of {{name, password}}")
        return None
    result = []
    for i, user in enumerate(users):
        name = user.get("name") if isinstance(user, dict) else None
        if not isinstance(name, str) or not USER.fullmatch(name):
            check.add(where, f"basic_auth.users[{i}].name", name, f"is not valid (expected {USER_EXPECTED})")
            continue
        password = user.get("password")
        # The password itself never appears in a message.
        if not isinstance(password, str) or not password or "\n" in password or "\r" in password:
            check.errors.append(
                f"{where}: basic_auth.users[{i}].password of {name!r} must be a non-empty string"
                " without line breaks"
            )
            continue
        result.append({"name": name, "password": password})
    return {"realm": realm or "Restricted", "users": result}


def _rate_limit(check, where, item):
    if item is None:
        return None
    if not isinstance(item, dict):
        check.add(where, "rate_limit", item, "must be a mapping with 'rate'")
        return None
    if item.get("rate") is None:
        check.errors.append(f"{where}: rate_limit.rate is required")
    return {
        "rate": check.pattern(
            where, "rate_limit.rate", item.get("rate"), RATE, "requests per second or minute, like '10r/s'"
        ),
        "burst": check.integer(where, "rate_limit.burst", item.get("burst", 0), 0, 100000),
        "nodelay": check.boolean(where, "rate_limit.nodelay", item.get("nodelay"), True),
    }


def _redirects(check, where, value):
    result = []
    if value is not None and not isinstance(value, list):
        check.add(where, "redirects", value, "must be a list")
        return result
    for i, item in enumerate(value or []):
        at = f"redirects[{i}]"
        if not isinstance(item, dict):
            check.add(where, at, item, "must be a mapping with 'from' and 'to'")
            continue
        source = check.pattern(where, f"{at}.from", item.get("from"), URI_PATH, "a path starting with '/'")
        target = check.literal(where, f"{at}.to", item.get("to"), required=True)
        if target is not None and re.search(r"[\s\"']", target):
            check.add(where, f"{at}.to", target, "must not contain spaces or quotes")
            target = None
        code = item.get("code", 301)
        if code not in RETURN_CODES_REDIRECT:
            check.add(
                where,
                f"{at}.code",
                code,
                f"is not a redirect status (expected one of {RETURN_CODES_REDIRECT})",
            )
        if item.get("from") is None:
            check.errors.append(f"{where}: {at}.from is required")
        if source and target:
            result.append({"from": source, "to": target, "code": code})
    return result


def _site(check, where, item, upstreams, certificates, defaults):
    site = {"name": item.get("name"), "where": where}
    site["server_names"] = []
    names = item.get("server_names")
    if not isinstance(names, list) or not names:
        check.add(where, "server_names", names, "must be a non-empty list of host names")
        names = []
    for i, name in enumerate(names):
        if is_hostname(name, wildcard=True):
            site["server_names"].append(name.lower())
        else:
            check.add(where, f"server_names[{i}]", name, "is not a valid host name")
    site["port"] = check.integer(where, "port", item.get("port", 80), 1, 65535)
    site["tls"] = _tls(check, where, item.get("tls"), certificates, defaults)
    site["root"] = check.fs_path(where, "root", item.get("root"))
    site["index"] = check.index(where, "index", item.get("index", ["index.html"]))
    site["upstream"] = None
    if item.get("upstream") is not None:
        site["upstream"] = _upstream_ref(check, where, "upstream", item["upstream"], upstreams)
    locations = item.get("locations")
    if locations is not None and not isinstance(locations, list):
        check.add(where, "locations", locations, "must be a list")
        locations = []
    site["locations"] = [
        location
        for index, entry in enumerate(locations or [])
        if (location := _location(check, where, index, entry, upstreams)) is not None
    ]
    has_root_location = any(
        loc["path"] == "/" and loc["match"] in ("prefix", "priority") for loc in site["locations"]
    )
    if not has_root_location and (site["upstream"] or site["root"]):
        site["locations"].append(
            {
                "path": "/",
                "match": "prefix",
                "kind": "proxy" if site["upstream"] else "static",
                "proxy": site["upstream"],
                "upstream": upstreams.get(site["upstream"]) if site["upstream"] else None,
                "proxy_path": None,
                "websocket": False,
                "root": None,
                "alias": None,
                "return": None,
                "headers": {},
                "raw_nginx": [],
                "raw_apache": [],
            }
        )
    site["redirects"] = _redirects(check, where, item.get("redirects"))
    headers = (
        dict(SECURITY_HEADERS)
        if check.boolean(
            where, "security_headers", item.get("security_headers"), defaults["security_headers"]
        )
        else {}
    )
    headers.update(check.headers(where, "headers", item.get("headers")))
    site["headers"] = {k: v for k, v in headers.items() if v is not None}
    site["client_max_body_size"] = check.pattern(
        where,
        "client_max_body_size",
        item.get("client_max_body_size", defaults["client_max_body_size"]),
        SIZE,
        "a size like '10m'",
    )
    size = site["client_max_body_size"]
    if (
        size is not None
        and int(size[:-1] if size[-1:].isalpha() else size)
        * SIZE_FACTORS[size[-1:].lower() if size[-1:].isalpha() else ""]
        > SIZE_MAX
    ):
        check.add(
            where, "client_max_body_size", size, "is too large (expected at most 1024g; 0 for no limit)"
        )
        site["client_max_body_size"] = None
    site["rate_limit"] = _rate_limit(check, where, item.get("rate_limit"))
    site["allow"] = check.addresses(where, "allow", item.get("allow"))
    site["deny"] = check.addresses(where, "deny", item.get("deny"))
    site["basic_auth"] = _basic_auth(check, where, item.get("basic_auth"))
    site["raw_nginx"] = _raw_nginx(check, where, "", item)
    site["raw_apache"] = _raw_apache(check, where, "raw_apache", item.get("raw_apache"))
    return site


def _raw_nginx(check, where, at, item):
    """nginx directives given as text: ``raw_nginx``, or ``raw`` (its older, nginx-only name)."""
    if item.get("raw_nginx") and item.get("raw"):
        check.line(where, f"{at}raw and {at}raw_nginx are the same setting; give only raw_nginx")
        return []
    key = "raw" if item.get("raw") else "raw_nginx"
    lines = item.get(key)
    if lines is None:
        return []
    if not isinstance(lines, list):
        check.add(where, f"{at}{key}", lines, "must be a list")
        return []
    result = []
    for index, line in enumerate(lines):
        if check.text(where, f"{at}{key}[{index}]", line, required=True) is None:
            continue
        problem = nginx_statement_problem(line)
        if problem:
            check.add(where, f"{at}{key}[{index}]", line, f"{problem} (expected whole nginx directives)")
        else:
            result.append(line)
    return result


def _raw_apache(check, where, key, value):
    """Apache directives given as text, one per line: a line may not open or close a section
    (``<...>``, which could end the virtual host it is placed in), continue onto the next line
    (a final backslash) or hold control characters."""
    if value is None:
        return []
    if not isinstance(value, list):
        check.add(where, key, value, "must be a list of strings")
        return []
    result = []
    for index, line in enumerate(value):
        if not isinstance(line, str) or not line.strip():
            check.add(where, f"{key}[{index}]", line, "must be a non-empty string")
        elif RAW_APACHE_FORBIDDEN.search(line) or line.lstrip().startswith("<") or line.endswith("\\"):
            check.add(
                where,
                f"{key}[{index}]",
                line,
                "must be one directive: no control characters, no section (<...>), no final backslash",
            )
        else:
            result.append(line.strip())
    return result


def site_model(
    sites,
    upstreams=None,
    certificates=None,
    groups=None,
    hostvars=None,
    sites_var="sites",
    upstreams_var="upstreams",
    defaults=None,
    certificates_var="certificates",
    upstream_defaults=None,
):
    """Validate and normalise sites and upstreams (see the module's documentation).
    ``defaults`` (SITE_DEFAULTS) and ``upstream_defaults`` (UPSTREAM_DEFAULTS) are a server
    role's defaults for what a site or an upstream does not say."""
    check = _SiteChecker()
    if not isinstance(sites, list):
        check.line(sites_var, "must be a list of sites")
        sites = []
    upstreams = [] if upstreams is None else upstreams
    if not isinstance(upstreams, list):
        check.line(upstreams_var, "must be a list of upstreams")
        upstreams = []
    if certificates is not None and not isinstance(certificates, list):
        check.line(certificates_var, "must be a list of certificate names")
        certificates = []
    certificates = list(certificates or [])
    groups = groups or {}
    hostvars = hostvars or {}
    defaults = dict(SITE_DEFAULTS, **(defaults or {}))

    model_upstreams = {}
    for index, item in enumerate(upstreams):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"{upstreams_var}[{index}]" + (f" ({name})" if isinstance(name, str) else "")
        upstream = _upstream(check, where, item, groups, hostvars, upstream_defaults)
        if upstream is None or upstream["name"] is None:
            continue
        if upstream["name"] in model_upstreams:
            check.add(where, "name", upstream["name"], "is used by another upstream")
            continue
        model_upstreams[upstream["name"]] = upstream

    for index, name in enumerate(certificates):
        if not isinstance(name, str) or not NAME.fullmatch(name):
            check.add(
                f"{certificates_var}[{index}]",
                None,
                name,
                "is not a certificate name (expected a-z, 0-9, '_', '.' and '-', starting with a-z or 0-9)",
            )

    model_sites = []
    served = {}
    # A port is plain HTTP or HTTPS for every site (port 80 is plain: the default server).
    kinds = {80: ("plain", "the default server")}
    for where, item in named_items(check, sites_var, sites, NAME, NAME_EXPECTED):
        site = _site(check, where, item, model_upstreams, certificates, defaults)
        # The plain port serves the site or its redirect to HTTPS: both claim the names.
        ports = [site["port"]]
        if site["tls"] is not None:
            ports.append(site["tls"]["port"])
        if site["tls"] is not None and site["port"] is not None and site["port"] == site["tls"]["port"]:
            check.add(where, "tls.port", site["port"], "is the same as the plain HTTP port")
        uses = [(site["port"], "plain", "port")]
        if site["tls"] is not None:
            uses.append((site["tls"]["port"], "tls", "tls.port"))
        for port, kind, key in uses:
            if port is None:
                continue
            other_kind, other = kinds.setdefault(port, (kind, where))
            if other_kind != kind:
                what = {"plain": "plain HTTP", "tls": "HTTPS"}
                check.add(where, key, port, f"is {what[kind]} here but {what[other_kind]} for {other}")
        for port in {p for p in ports if p is not None}:
            for server_name in site["server_names"]:
                other = served.setdefault((server_name, port), where)
                if other != where:
                    check.add(
                        where, "server_names", server_name, f"is already served on port {port} by {other}"
                    )
        model_sites.append(site)

    return {
        "sites": model_sites,
        "upstreams": list(model_upstreams.values()),
        "certificates": sorted(
            {s["tls"]["certificate"] for s in model_sites if s["tls"] and s["tls"]["certificate"]}
        ),
        "errors": check.errors,
    }


def _site_features(site):
    """(feature, key, value) for everything a site uses."""
    used = []
    if site["root"] is not None:
        used.append(("static", "root", site["root"]))
    if site["upstream"] is not None:
        used.append(("proxy", "upstream", site["upstream"]))
    tls = site["tls"]
    if tls is not None:
        used.append(("tls", "tls.certificate", tls["certificate"]))
        used.append(("http2", "tls.certificate", tls["certificate"]))
        if tls["redirect"]:
            used.append(("tls_redirect", "tls.redirect", True))
        if tls["hsts"]:
            used.append(("hsts", "tls.hsts", tls["hsts"]))
    for index, location in enumerate(site["locations"]):
        at = f"locations[{index}]"
        kind = location["kind"]
        if kind in ("static", "root", "alias"):
            used.append(("static", f"{at}.path", location["path"]))
        elif kind == "proxy":
            used.append(("proxy", f"{at}.proxy", location["proxy"]))
        elif kind == "return":
            used.append(("return", f"{at}.return", location["return"]))
        if location["proxy_path"]:
            used.append(("proxy_path", f"{at}.proxy_path", location["proxy_path"]))
        if location["websocket"]:
            used.append(("websocket", f"{at}.websocket", True))
        if location["match"] in ("regex", "iregex"):
            used.append(("regex_locations", f"{at}.match", location["match"]))
        if location["headers"]:
            used.append(("headers", f"{at}.headers", sorted(location["headers"])))
        if location["raw_nginx"]:
            used.append(("raw_nginx", f"{at}.raw_nginx", location["raw_nginx"]))
        if location["raw_apache"]:
            used.append(("raw_apache", f"{at}.raw_apache", location["raw_apache"]))
    if site["redirects"]:
        used.append(("redirects", "redirects", [r["from"] for r in site["redirects"]]))
    custom = sorted(name for name in site["headers"] if SECURITY_HEADERS.get(name) != site["headers"][name])
    if custom:
        used.append(("headers", "headers", custom))
    if any(SECURITY_HEADERS.get(name) == value for name, value in site["headers"].items()):
        used.append(("security_headers", "security_headers", True))
    if site["rate_limit"]:
        used.append(("rate_limit", "rate_limit.rate", site["rate_limit"]["rate"]))
    if site["allow"] or site["deny"]:
        used.append(("access_control", "allow" if site["allow"] else "deny", site["allow"] or site["deny"]))
    if site["basic_auth"]:
        used.append(("basic_auth", "basic_auth.realm", site["basic_auth"]["realm"]))
    if site["raw_nginx"]:
        used.append(("raw_nginx", "raw_nginx", site["raw_nginx"]))
    if site["raw_apache"]:
        used.append(("raw_apache", "raw_apache", site["raw_apache"]))
    return used


def _upstream_features(upstream):
    used = [("upstreams", "servers", [s["address"] for s in upstream["servers"]])]
    used.append((f"method_{upstream['method']}", "method", upstream["method"]))
    if upstream["hash_key"] and upstream["hash_key"]["on"] == "nginx":
        used.append(("raw_nginx", "hash_key", upstream["hash_key"]["text"]))
    if any(server["backup"] for server in upstream["servers"]):
        used.append(("backup_servers", "servers[].backup", True))
    if any(server["max_fails"] for server in upstream["servers"]):
        used.append(("passive_health", "max_fails", upstream["max_fails"]))
    counts = sorted({server["max_fails"] for server in upstream["servers"] if (server["max_fails"] or 0) > 1})
    if counts:
        used.append(("failure_count", "max_fails", counts[-1]))
    if "error" in upstream["next_upstream"]:
        used.append(("retries", "next_upstream", upstream["next_upstream"]))
    on_response = [c for c in upstream["next_upstream"] if c not in ("error", "off")]
    if on_response:
        used.append(("retries_on_response", "next_upstream", on_response))
    if upstream["health_check"] is not None:
        used.append(("active_health_check", "health_check", upstream["health_check"]))
    return used


def features_used(model):
    """[(where, feature, key, value)] of a validated model, sites first, then upstreams."""
    used = []
    for site in model["sites"]:
        used.extend((site["where"], feature, key, value) for feature, key, value in _site_features(site))
    for upstream in model["upstreams"]:
        used.extend(
            (upstream["where"], feature, key, value) for feature, key, value in _upstream_features(upstream)
        )
    return used


def unrendered(model, renders, role):
    """The problems of a validated model that uses features the server role ``role`` does not
    render (``renders``: the features it does), one per site or upstream and feature::

        nginx_upstreams[0] (app): health_check {'path': '/'} is not rendered by
        groundwork.server.nginx (feature active_health_check; it renders: static, proxy, ...)
    """
    problems, seen = [], set()
    listed = ", ".join(feature for feature in FEATURES if feature in renders)
    for where, feature, key, value in features_used(model):
        if feature in renders or (where, feature) in seen:
            continue
        seen.add((where, feature))
        problems.append(
            f"{where}: {key} {quote(value)} is not rendered by {role}"
            f" (feature {feature}; it renders: {listed})"
        )
    return problems
