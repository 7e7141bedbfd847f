# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The validation of groundwork.server.app's input and its environment file (used by
plugins/plugin_utils/_app_role.py). Never raises for bad input: every problem is one line
that names the variable, the value and what is allowed.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._app_model import app_model
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

NAME = re.compile(r"[a-z][a-z0-9_-]{0,30}")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
HEALTH_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*")
HOST = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})|\[?[0-9A-Fa-f:.]+\]?")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
# Variables the role sets itself; the user may not set them through app_environment.
RESERVED = ("APP_VERSION",)
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# app_database.engine: the URL scheme, the default port and the sslmodes the application's
# driver honours (PyMySQL has no opportunistic TLS to match libpq's allow and prefer).
ENGINES = {
    "postgresql": {"port": 5432, "sslmodes": SSLMODES},
    "mariadb": {"port": 3306, "sslmodes": ("disable", "require", "verify-ca", "verify-full")},
}
DEFAULT_ENGINE = "postgresql"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ESCAPE = re.compile(r'(["\\`$])')


def _q(value):
    return repr(value) if isinstance(value, str) else str(value)


class _Checker:
    def __init__(self):
        self.errors = []

    def add(self, var, value, problem, secret=False):
        shown = "(not shown)" if secret else _q(value)
        self.errors.append(f"{var}: {shown} {problem}")


def _port(check, var, value, low=1):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 65535:
        check.add(var, value, f"is not a port from {low} to 65535")
        return False
    return True


def _source(check, item, playbook_dir):
    source, rollback = item.get("source"), bool(item.get("rollback"))
    if rollback and not source:
        return "", "none"
    if not isinstance(source, str) or not source:
        check.add("app_source", source, "is not set (a directory or a .tar.gz archive on the controller)")
        return "", "none"
    path = os.path.normpath(os.path.join(playbook_dir or ".", os.path.expanduser(source)))
    if os.path.isdir(path):
        return path, "directory"
    if os.path.isfile(path) and path.endswith(ARCHIVE_SUFFIXES):
        return path, "archive"
    if os.path.isfile(path):
        check.add("app_source", source, "is a file but not a .tar.gz or .tgz archive")
    elif rollback:
        return "", "none"
    else:
        check.add("app_source", source, f"does not exist on the controller (looked at {path})")
    return "", "none"


def _env_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _environment(check, var, env, secret):
    result = {}
    if not isinstance(env, dict):
        check.add(var, "" if secret else env, "is not a dictionary", secret)
        return result
    for key, value in env.items():
        if not isinstance(key, str) or not ENV_NAME.fullmatch(key):
            check.add(
                f"{var}.{key}", key, "is not a valid variable name (A-Z, a-z, 0-9 and _, not first a digit)"
            )
            continue
        if key in RESERVED:
            check.add(f"{var}.{key}", key, "is set by the role (the running release's version)")
            continue
        if value is None or isinstance(value, (dict, list)):
            check.add(f"{var}.{key}", value, "is not a string or number", secret)
            continue
        text = _env_value(value)
        if CONTROL.search(text):
            check.add(f"{var}.{key}", text, "contains a line break or control character", secret)
            continue
        result[key] = text
    return result


def database_url(db):
    """The URL of ``app_database``: ``<engine>://user:password@host:port/name?sslmode=...``,
    user, password and name percent-encoded; the same query for both engines."""
    engine = db.get("engine") or DEFAULT_ENGINE
    host = str(db["host"])
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    user = quote(str(db["user"]), safe="")
    password = db.get("password")
    auth = f"{user}:{quote(str(password), safe='')}" if password not in (None, "") else user
    query = f"sslmode={db.get('sslmode') or 'verify-full'}"
    rootcert = db.get("sslrootcert")
    rootcert = SYSTEM_CA_BUNDLE if rootcert is None else rootcert
    # Only the verifying modes use it: with a root certificate, libpq's "require" would verify too.
    if query in ("sslmode=verify-ca", "sslmode=verify-full") and rootcert:
        query += f"&sslrootcert={quote(str(rootcert), safe='/')}"
    port = int(db.get("port") or ENGINES[engine]["port"])
    return f"{engine}://{auth}@{host}:{port}/{quote(str(db['name']), safe='')}?{query}"


def _database(check, db):
    if not db:
        return ""
    if not isinstance(db, dict):
        check.add("app_database", "", "is not a dictionary", True)
        return ""
    ok = True
    engine = db.get("engine") or DEFAULT_ENGINE
    if not isinstance(engine, str) or engine not in ENGINES:
        check.add("app_database.engine", db.get("engine"), f"is not one of {', '.join(ENGINES)}")
        # the other fields are still checked, as for the default engine
        engine, ok = DEFAULT_ENGINE, False
    for key in ("host", "name", "user"):
        value = db.get(key)
        if not isinstance(value, str) or not value or CONTROL.search(value):
            check.add(f"app_database.{key}", value, "is not set (required when app_database is given)")
            ok = False
    host = db.get("host")
    if isinstance(host, str) and host and not HOST.fullmatch(host):
        check.add("app_database.host", host, "is not a host name or IP address")
        ok = False
    port = db.get("port")
    ok = _port(check, "app_database.port", ENGINES[engine]["port"] if port is None else port) and ok
    sslmodes = ENGINES[engine]["sslmodes"]
    if (db.get("sslmode") or "verify-full") not in sslmodes:
        check.add(
            "app_database.sslmode",
            db.get("sslmode"),
            f"is not one of {', '.join(sslmodes)} (engine {engine})",
        )
        ok = False
    rootcert = db.get("sslrootcert")
    if rootcert not in (None, "") and (not isinstance(rootcert, str) or not rootcert.startswith("/")):
        check.add("app_database.sslrootcert", rootcert, "is not an absolute path")
        ok = False
    password = db.get("password")
    if password is not None and (isinstance(password, (dict, list)) or CONTROL.search(str(password))):
        check.add("app_database.password", password, "is not a single-line string", True)
        ok = False
    return database_url(db) if ok else ""


def _env_file(env):
    return "".join(f'{key}="{ESCAPE.sub(_escape, value)}"\n' for key, value in env.items())


def _escape(match):
    return "\\" + match.group(1)


def app_model(item, playbook_dir=".", inventory_hosts=None):
    check = _Checker()
    name = item.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        check.add("app_name", name, "is not valid (expected a-z 0-9 _ -, starting with a-z, at most 31)")
    for var in ("user", "group"):
        value = item.get(var)
        if not isinstance(value, str) or not NAME.fullmatch(value) or value == "root":
            check.add(f"app_{var}", value, "is not a valid system account name other than root")
    version = item.get("version")
    version = str(version) if isinstance(version, (int, float)) and not isinstance(version, bool) else version
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        check.add(
            "app_version",
            version,
            "is not valid (expected 1 to 64 of A-Z a-z 0-9 . _ + -, starting with a letter or digit)",
        )
    source, kind = _source(check, item, playbook_dir)
    _port(check, "app_port", item.get("port"), low=1024)
    path = item.get("health_path")
    if not isinstance(path, str) or not HEALTH_PATH.fullmatch(path):
        check.add("app_health_path", path, "is not a URL path starting with '/' (without spaces)")
    command = item.get("command")
    if not isinstance(command, str) or not command.strip() or CONTROL.search(command):
        check.add("app_command", command, "is not a single-line command")
    for var in ("releases_kept", "health_retries"):
        value = item.get(var)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            check.add(f"app_{var}", value, "is not a number of at least 1")
    base = item.get("base_dir")
    if not isinstance(base, str) or not re.fullmatch(r"/[A-Za-z0-9._/-]*", base) or base.rstrip("/") == "":
        check.add("app_base_dir", base, "is not an absolute path other than / (A-Z a-z 0-9 . _ - /)")
    for index, path in enumerate(item.get("writable_paths") or []):
        if not isinstance(path, str) or not re.fullmatch(r"/[^\s\\\"']+", path):
            check.add(
                f"app_writable_paths[{index}]", path, "is not an absolute path without spaces or quotes"
            )
    known = set(inventory_hosts or [])
    for index, host in enumerate(item.get("balancers") or []):
        if known and host not in known:
            check.add(f"app_balancers[{index}]", host, "is not a host of the inventory")
    server = item.get("balancer_server")
    if item.get("balancers") and (not isinstance(server, str) or not re.fullmatch(r"\S+:[0-9]{1,5}", server)):
        check.add("app_balancer_server", server, "is not 'address:port' as the balancers name this server")

    env = _environment(check, "app_environment", item.get("environment") or {}, False)
    secret = _environment(check, "app_secret_environment", item.get("secret_environment") or {}, True)
    for key in sorted(set(env) & set(secret)):
        check.add("app_secret_environment", key, "is also set in app_environment")
    url = _database(check, item.get("database"))
    if url and ("DATABASE_URL" in env or "DATABASE_URL" in secret):
        check.add("app_database", "DATABASE_URL", "would overwrite DATABASE_URL set in app_environment")
    merged = {**env, **secret}
    if isinstance(item.get("port"), int):
        merged.setdefault("APP_PORT", str(item["port"]))
    if url:
        merged["DATABASE_URL"] = url
    return {
        "errors": check.errors,
        "source": source,
        "source_kind": kind,
        "database_url": url,
        "env_content": _env_file(dict(sorted(merged.items()))),
    }
