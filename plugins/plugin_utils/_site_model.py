# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The logic of the site_model filter (plugins/filter/site_model.py documents it).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._site_model import site_model
"""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    Checker,
    named_items,
    quote,
)

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
NAME_EXPECTED = "a-z, 0-9, '_', '.' and '-', starting with a-z or 0-9"
UPSTREAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
SIZE = re.compile(r"[0-9]+[kKmMgG]?")
TIME = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|M|y)?)+")
RATE = re.compile(r"[1-9][0-9]*r/[sm]")
URI_PATH = re.compile(r"/[^\s{};\"'\\]*")
HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]+)")
NGINX_VARIABLE = re.compile(r"(?:\$[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9_.:/-])+")
USER = re.compile(r"[^:\s]{1,64}")

LOCATION_MATCHES = {"prefix": "", "exact": "= ", "regex": "~ ", "iregex": "~* ", "priority": "^~ "}
METHODS = ("round_robin", "least_conn", "ip_hash", "hash")
NEXT_UPSTREAM = (
    "error",
    "timeout",
    "invalid_header",
    "http_500",
    "http_502",
    "http_503",
    "http_504",
    "http_403",
    "http_404",
    "http_429",
    "non_idempotent",
    "off",
)
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
    "next_upstream": ["error", "timeout", "http_502", "http_503", "http_504"],
    "next_upstream_tries": 2,
    "next_upstream_timeout": "10s",
    "connect_timeout": "5s",
    "send_timeout": "60s",
    "read_timeout": "60s",
}


def is_hostname(value, wildcard=False):
    """RFC 1123 host name; with ``wildcard`` a leading ``*.`` label is allowed."""
    if not isinstance(value, str) or not value or len(value) > 253:
        return False
    if wildcard and value.startswith("*."):
        value = value[2:]
    return all(LABEL.fullmatch(label) for label in value.split("."))


class _SiteChecker(Checker):
    """The shared checks, plus the HTTP-specific ones of sites and locations."""

    def headers(self, where, key, value):
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(where, key, value, "must be a mapping of header name to value")
            return {}
        result = {}
        for name, text in value.items():
            if not isinstance(name, str) or not HEADER_NAME.fullmatch(name):
                self.add(where, f"{key} name", name, "is not a valid HTTP header name")
                continue
            if text is None or text == "":
                result[name] = None  # removes a default header
                continue
            if not isinstance(text, (str, int)) or isinstance(text, bool):
                self.add(where, f"{key}.{name}", text, "must be a string")
                continue
            if self.text(where, f"{key}.{name}", str(text)) is not None:
                result[name] = str(text)
        return result

    def addresses(self, where, key, value):
        result = []
        for i, item in enumerate(value if isinstance(value, list) else []):
            try:
                if item == "all":
                    result.append(item)
                    continue
                result.append(str(ipaddress.ip_network(str(item), strict=False)))
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
        "fail_timeout": check.pattern(
            where,
            f"{at}.fail_timeout",
            server.get("fail_timeout", defaults["fail_timeout"]),
            TIME,
            "a time like '10s'",
        ),
    }
    if address is not None:
        match = HOST_PORT.fullmatch(address) if isinstance(address, str) else None
        host = match.group("host").strip("[]") if match else None
        if not match or not (is_hostname(host) or _is_ip(host)):
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
        formatted = f"[{host}]" if ":" in host else host
        result.append(dict(common, address=f"{formatted}:{port}"))
    return result


def _is_ip(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _upstream(check, where, item, groups, hostvars):
    if not isinstance(item, dict):
        check.errors.append(f"{where}: must be a mapping")
        return None
    name = check.pattern(where, "name", item.get("name"), UPSTREAM_NAME, "letters, digits, '_' and '-'")
    if item.get("name") is None:
        check.errors.append(f"{where}: name is required")
    up = {key: item.get(key, default) for key, default in UPSTREAM_DEFAULTS.items()}
    up["name"] = name
    check.one_of(where, "method", up["method"], METHODS, "a balancing method", optional=False)
    if up["method"] == "hash":
        check.pattern(
            where, "hash_key", up["hash_key"], NGINX_VARIABLE, "nginx variables such as '$request_uri'"
        )
        if not up["hash_key"]:
            check.errors.append(f"{where}: hash_key is required with method 'hash'")
    up["consistent"] = check.boolean(where, "consistent", item.get("consistent"), True)
    if up["keepalive"] != "auto":
        up["keepalive"] = check.integer(where, "keepalive", up["keepalive"], 0, 10000)
    up["next_upstream_tries"] = check.integer(where, "next_upstream_tries", up["next_upstream_tries"], 1, 100)
    for key in ("next_upstream_timeout", "connect_timeout", "send_timeout", "read_timeout"):
        check.pattern(where, key, up[key], TIME, "a time like '10s'")
    next_upstream = up["next_upstream"] if isinstance(up["next_upstream"], list) else [up["next_upstream"]]
    for i, condition in enumerate(next_upstream):
        check.one_of(where, f"next_upstream[{i}]", condition, NEXT_UPSTREAM, optional=False)
    up["next_upstream"] = next_upstream
    servers = item.get("servers")
    if not isinstance(servers, list) or not servers:
        check.add(where, "servers", servers, "must be a non-empty list")
        servers = []
    up["servers"] = [
        expanded
        for index, server in enumerate(servers)
        for expanded in _upstream_servers(check, where, index, server, up, groups, hostvars)
    ]
    if up["method"] in ("ip_hash", "hash") and any(s["backup"] for s in up["servers"]):
        check.errors.append(
            f"{where}: servers with backup: true cannot be used with method {quote(up['method'])}"
        )
    return up


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
        if path is not None and re.search(r"[\s;'\"]", path):
            check.add(where, f"{at}.path", path, "must not contain spaces, quotes or ';'")
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
        "modifier": LOCATION_MATCHES[match],
        "kind": actions[0] if actions else "static",
        "proxy": None,
        "upstream": None,
        "proxy_path": check.pattern(
            where, f"{at}.proxy_path", item.get("proxy_path"), URI_PATH, "a path starting with '/'"
        ),
        "websocket": check.boolean(where, f"{at}.websocket", item.get("websocket"), False),
        "root": check.pattern(where, f"{at}.root", item.get("root"), URI_PATH, "an absolute path"),
        "alias": check.pattern(where, f"{at}.alias", item.get("alias"), URI_PATH, "an absolute path"),
        "return": None,
        "headers": check.headers(where, f"{at}.headers", item.get("headers")),
        "raw": check.strings(where, f"{at}.raw", item.get("raw")),
    }
    if item.get("proxy") is not None:
        location["proxy"] = _upstream_ref(check, where, f"{at}.proxy", item["proxy"], upstreams)
        location["upstream"] = upstreams.get(location["proxy"])
    if item.get("return") is not None:
        location["return"] = _return(check, where, f"{at}.return", item["return"])
    return location


def _upstream_ref(check, where, key, name, upstreams):
    if name not in upstreams:
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
    target = check.text(where, f"{key}.target", value.get("target"))
    if code in RETURN_CODES_REDIRECT and not target:
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
    elif certificate not in certificates:
        known = ", ".join(quote(n) for n in sorted(certificates)) or "none"
        check.add(where, "tls.certificate", certificate, f"is not a known certificate (known: {known})")
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
    realm = check.text(where, "basic_auth.realm", item.get("realm", "Restricted"), required=True)
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
            check.add(where, f"basic_auth.users[{i}].name", name, "is not valid (no ':' or spaces)")
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
        target = check.text(where, f"{at}.to", item.get("to"), required=True)
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
    site = {"name": item.get("name")}
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
    site["root"] = check.pattern(where, "root", item.get("root"), URI_PATH, "an absolute path")
    site["index"] = check.strings(where, "index", item.get("index", ["index.html"]))
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
                "modifier": "",
                "kind": "proxy" if site["upstream"] else "static",
                "proxy": site["upstream"],
                "upstream": upstreams.get(site["upstream"]) if site["upstream"] else None,
                "proxy_path": None,
                "websocket": False,
                "root": None,
                "alias": None,
                "return": None,
                "headers": {},
                "raw": [],
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
    site["rate_limit"] = _rate_limit(check, where, item.get("rate_limit"))
    site["allow"] = check.addresses(where, "allow", item.get("allow"))
    site["deny"] = check.addresses(where, "deny", item.get("deny"))
    site["basic_auth"] = _basic_auth(check, where, item.get("basic_auth"))
    site["raw"] = check.strings(where, "raw", item.get("raw"))
    return site


def site_model(
    sites,
    upstreams=None,
    certificates=None,
    groups=None,
    hostvars=None,
    sites_var="sites",
    upstreams_var="upstreams",
    defaults=None,
):
    """Validate and normalise sites and upstreams; see DOCUMENTATION."""
    if not isinstance(sites, list):
        raise AnsibleFilterError(f"site_model: {sites_var} must be a list of sites")
    upstreams = [] if upstreams is None else upstreams
    if not isinstance(upstreams, list):
        raise AnsibleFilterError(f"site_model: {upstreams_var} must be a list of upstreams")
    certificates = list(certificates or [])
    groups = groups or {}
    hostvars = hostvars or {}
    defaults = dict(SITE_DEFAULTS, **(defaults or {}))
    check = _SiteChecker()

    model_upstreams = {}
    for index, item in enumerate(upstreams):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"{upstreams_var}[{index}]" + (f" ({name})" if isinstance(name, str) else "")
        upstream = _upstream(check, where, item, groups, hostvars)
        if upstream is None or upstream["name"] is None:
            continue
        if upstream["name"] in model_upstreams:
            check.add(where, "name", upstream["name"], "is used by another upstream")
            continue
        model_upstreams[upstream["name"]] = upstream

    for index, name in enumerate(certificates):
        if not isinstance(name, str) or not NAME.fullmatch(name):
            check.add(
                "certificates", f"[{index}]", name, "is not a certificate name (a-z, 0-9, '_', '.', '-')"
            )

    model_sites = []
    served = {}
    for where, item in named_items(check, sites_var, sites, NAME, NAME_EXPECTED):
        site = _site(check, where, item, model_upstreams, certificates, defaults)
        # The plain port serves the site or its redirect to HTTPS: both claim the names.
        ports = [site["port"]]
        if site["tls"] is not None:
            ports.append(site["tls"]["port"])
        if site["tls"] is not None and site["port"] is not None and site["port"] == site["tls"]["port"]:
            check.add(where, "tls.port", site["port"], "is the same as the plain HTTP port")
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
