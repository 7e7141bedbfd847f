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
import posixpath
import re
from urllib.parse import quote

from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    CONTROL,
    CONTROL_WHAT,
    PACKAGE,
    PACKAGE_WHAT,
    is_int,
)

NAME = re.compile(r"[a-z][a-z0-9_-]{0,30}")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A URL path (and query) of RFC 3986's unreserved characters and the delimiters a query
# needs; no '%' (no encoding needed), no quote, ';' or '$'.
HEALTH_PATH = re.compile(r"/[A-Za-z0-9._~!&()*+,=:@/?-]*")
BALANCER_SERVER = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9_.-]*|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})")
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
DATABASE_KEYS = ("engine", "host", "port", "name", "user", "password", "sslmode", "sslrootcert")
ESCAPE = re.compile(r'(["\\`$])')
# Names the application may not take: it becomes /etc/<name>, <base_dir>/<name>, the unit
# <name>.service and (by default) a user and group that the role creates or changes (shell,
# home). Debian's system accounts and groups (base-passwd), the services the collection and
# Debian run, and the top directories of the file system and of /etc.
RESERVED_NAMES = frozenset(
    """
    root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc gnats
    nobody nogroup adm tty disk kmem dialout fax voice cdrom floppy tape sudo audio dip operator
    src shadow utmp video sasl plugdev staff users input sgx kvm render netdev messagebus sshd ssh
    postgres postgresql mysql mariadb nginx apache2 certbot chrony ntp ntpsec unbound bind named
    nftables iptables firewall cron dbus rsyslog polkitd tss uuidd statd avahi dnsmasq postfix
    exim4 dovecot redis memcached haproxy groundwork groundwork-tls apt dpkg default network
    security ssl systemd sysctl udev init initramfs-tools ca-certificates python3 perl alternatives
    logrotate sudoers profile environment hosts passwd group gshadow fstab kernel modprobe ld
    skel cloud grub iproute2 lsb opt etc var usr srv home boot lib lib64 sbin tmp run proc dev
    mnt media login getty emergency rescue reboot poweroff halt shutdown multi-user graphical
    basic sysinit sockets timers paths slices local-fs remote-fs network-online nss-lookup
    time-sync user
    """.split()  # noqa: SIM905
)
RESERVED_PREFIXES = ("systemd-", "_", "dbus-", "getty", "serial-getty", "user-")
RESERVED_WHAT = "a name of the system or of a service it runs"
# Directories an application may not live in: the system's own trees, the state and log
# directories of services (its state directory is /var/lib/<name>, systemd's), temporary ones.
SYSTEM_DIRS = (
    "/etc", "/usr", "/boot", "/efi", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
    "/sys", "/dev", "/run", "/tmp", "/var/tmp",  # noqa: S108 (refused, not used)
    "/var/lib", "/var/cache", "/var/log", "/var/spool", "/root",
)  # fmt: skip
# What the sandbox keeps read-only or hidden: app_writable_paths may not open it again.
PROTECTED_DIRS = (
    "/etc", "/usr", "/boot", "/efi", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
    "/sys", "/dev", "/root",
)  # fmt: skip
# Characters a unit file reads as syntax where the role writes a value unquoted: '%' starts a
# specifier (the role doubles it where it writes free text), whitespace separates the paths of
# ReadWritePaths=, quotes and '\' quote or escape.
UNIT_PATH_SYNTAX = re.compile(r"[\s\"'\\%]")
# ExecStart= prefixes that change how the command runs ('+' and '!' drop the sandbox's user).
EXEC_PREFIXES = "@-:+!|"
LIMITS = {
    # variable: (lowest, highest)
    "health_retries": (1, 1000),
    "health_first_retries": (1, 1000),
    "releases_kept": (1, 100),
    "health_delay": (0, 3600),
    "health_timeout": (1, 3600),
    "stop_timeout": (1, 86400),
    "apt_cache_valid_time": (0, 31_536_000),
}
DEFAULTS = {
    "description": "",
    "requirements_file": "requirements.txt",
    "packages": [],
    "python": None,
    "system_site_packages": False,
    "memory_deny_write_execute": True,
    "health_delay": 2,
    "health_timeout": 5,
    "stop_timeout": 30,
    "apt_cache_valid_time": 3600,
}


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
            shown = f"{var}.{key}" if isinstance(key, str) and not CONTROL.search(key) else var
            check.add(shown, key, "is not a valid variable name (A-Z, a-z, 0-9 and _, not first a digit)")
            continue
        if key in RESERVED:
            check.add(f"{var}.{key}", key, "is set by the role (the running release's version)")
            continue
        if value is None or isinstance(value, (dict, list)):
            check.add(f"{var}.{key}", value, "is not a string or number", secret)
            continue
        text = _env_value(value)
        if CONTROL.search(text):
            check.add(
                f"{var}.{key}",
                text,
                f"contains a line break or control character (expected a single line without {CONTROL_WHAT})",
                secret,
            )
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


def _database(check, db, inventory_hosts=None):
    if not db:
        return ""
    if not isinstance(db, dict):
        check.add("app_database", "", "is not a dictionary", True)
        return ""
    ok = True
    for key in db:
        if key not in DATABASE_KEYS:  # a typo (pasword) would silently drop the value
            shown = repr(key) if isinstance(key, str) else str(key)
            check.errors.append(
                f"app_database: {shown} is not a key of app_database (expected {', '.join(DATABASE_KEYS)})"
            )
            ok = False
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
    elif isinstance(host, str) and host and inventory_hosts and not known_host(host, inventory_hosts):
        check.add(
            "app_database.host",
            host,
            "is not a host of the inventory (expected an inventory host, an IP address or a fully"
            " qualified name of a database outside it)",
        )
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
    if rootcert not in (None, "") and not path_ok(rootcert):
        check.add(
            "app_database.sslrootcert",
            rootcert,
            "is not an absolute path (expected a normalised absolute path, without '..' or control"
            " characters)",
        )
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


def known_host(host, inventory_hosts):
    """A database host resolves: a host of the inventory, an IP address, or a name with a dot
    (a database outside the inventory); a single word that is no inventory host is a typo."""
    return host in inventory_hosts or "." in host or ":" in host


def path_ok(value):
    """A normalised absolute path without control characters (``Checker.path``'s rule)."""
    return (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and not CONTROL.search(value)
        and posixpath.normpath(value) == value
    )


def under(path, directories):
    """Whether ``path`` is one of ``directories`` or inside one."""
    return any(path == top or path.startswith(top + "/") for top in directories)


def reserved(name):
    return name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES)


def _names(check, item):
    name = item.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        check.add("app_name", name, "is not valid (expected a-z 0-9 _ -, starting with a-z, at most 31)")
    elif reserved(name):
        check.add(
            "app_name",
            name,
            f"is reserved: it is {RESERVED_WHAT}, whose unit, directories or account the role would"
            " take over",
        )
    for var in ("user", "group"):
        value = item.get(var)
        if not isinstance(value, str) or not NAME.fullmatch(value) or value == "root":
            check.add(f"app_{var}", value, "is not a valid system account name other than root")
        elif reserved(value):
            check.add(
                f"app_{var}",
                value,
                f"is reserved: it is {RESERVED_WHAT}, whose account the role would change"
                " (expected a system account name of the application's own)",
            )


def quotes_balanced(command):
    """Whether every quote opened in ``command`` is closed (systemd's unquoting of ExecStart=)."""
    open_quote = None
    for char in command:
        if open_quote is None and char in "\"'":
            open_quote = char
        elif char == open_quote:
            open_quote = None
    return open_quote is None


def _command(check, command):
    """ExecStart=: one line of words, a program that is not an ExecStart= prefix nor quoted,
    balanced quotes, no escapes ('%' and '$' are doubled by construction: the command is
    passed as it is, no specifier or variable is expanded - a secret never lands on the
    command line)."""
    if not isinstance(command, str) or not command.strip() or CONTROL.search(command):
        check.add("app_command", command, "is not a single-line command")
        return
    first = command.split()[0]
    problem = None
    if any(char.isspace() and char != " " for char in command):
        problem = "holds white space other than spaces (expected words separated by spaces)"
    elif first[0] in EXEC_PREFIXES:
        problem = f"starts with {first[0]!r}, which ExecStart= reads as a prefix (expected a program)"
    elif "\\" in command:
        problem = "holds '\\', which ExecStart= reads as an escape (expected none)"
    elif not quotes_balanced(command):
        problem = "holds a quote that is not closed (expected pairs of ' or \")"
    elif '"' in first or "'" in first:
        problem = "quotes its program (expected the program as a plain word)"
    elif ";" in command.split(" "):
        problem = "holds ';' as a word, which ExecStart= reads as a second command"
    elif not first.startswith("/") and ".." in first.split("/"):
        problem = "runs a relative program outside the release (expected no '..' in the program's path)"
    if problem:
        check.add("app_command", command, problem)


def _description(check, text):
    if text in (None, ""):
        return ""
    if not isinstance(text, str) or CONTROL.search(text) or len(text) > 256 or text.rstrip().endswith("\\"):
        check.add(
            "app_description",
            text,
            f"is not a one-line description (expected at most 256 characters without {CONTROL_WHAT},"
            " not ending with '\\')",
        )
        return ""
    return text


def _number(check, var, value):
    low, high = LIMITS[var]
    if not is_int(value) or (isinstance(value, str) and not value.isascii()) or not low <= int(value) <= high:
        check.add(f"app_{var}", value, f"is out of range (expected a whole number from {low} to {high})")
        return None
    return int(value)


def _flag(check, var, value, optional=False):
    """true or false, or a word Ansible reads as one; None when not given and ``optional``."""
    if value is None and optional:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return boolean(value, strict=True)
        except TypeError:
            pass
    check.add(f"app_{var}", value, "must be true or false")
    return None


def _paths(check, item):
    base = item.get("base_dir")
    if not isinstance(base, str) or not re.fullmatch(r"/[A-Za-z0-9._/-]*", base) or base.rstrip("/") == "":
        check.add("app_base_dir", base, "is not an absolute path other than / (A-Z a-z 0-9 . _ - /)")
    elif not path_ok(base):
        check.add(
            "app_base_dir", base, "is not a normalised absolute path (expected /like/this, without '..')"
        )
    elif under(base, SYSTEM_DIRS):
        check.add(
            "app_base_dir",
            base,
            f"lies in a directory of the system or its services (expected none of {', '.join(SYSTEM_DIRS)}"
            " or below, for example /srv or /opt)",
        )
    writable = item.get("writable_paths")
    if writable is not None and not isinstance(writable, list):
        check.add("app_writable_paths", writable, "must be a list of absolute paths")
        writable = []
    for index, path in enumerate(writable or []):
        var = f"app_writable_paths[{index}]"
        if (
            not isinstance(path, str)
            or not re.fullmatch(r"/[^\s\\\"']+", path)
            or UNIT_PATH_SYNTAX.search(path)
        ):
            check.add(var, path, "is not an absolute path without spaces, quotes, '\\' or '%'")
        elif not path_ok(path):
            check.add(var, path, "is not a normalised absolute path (expected /like/this, without '..')")
        elif path == "/" or under(path, PROTECTED_DIRS):
            check.add(
                var,
                path,
                "would open what the sandbox protects (expected a path other than / and outside"
                f" {', '.join(PROTECTED_DIRS)})",
            )


def _settings(check, item):
    """The settings the unit, the virtualenv and the tasks use, checked and normalised."""
    given = {key: item.get(key, DEFAULTS[key]) for key in DEFAULTS}
    for key, value in DEFAULTS.items():
        if given[key] is None and key != "python":
            given[key] = value
    settings = {"description": _description(check, given["description"])}
    requirements = given["requirements_file"]
    if (
        not isinstance(requirements, str)
        or not requirements
        or requirements.startswith("/")
        or CONTROL.search(requirements)
        or posixpath.normpath(requirements) != requirements
        or requirements.split("/")[0] == ".."
    ):
        check.add(
            "app_requirements_file",
            requirements,
            "is not a normalised relative path inside the source (expected like/this.txt, without '..')",
        )
    settings["requirements_file"] = requirements
    packages = given["packages"]
    if not isinstance(packages, list):
        check.add("app_packages", packages, "must be a list of Debian package names")
        packages = []
    for index, package in enumerate(packages):
        if not isinstance(package, str) or not PACKAGE.fullmatch(package):
            check.add(f"app_packages[{index}]", package, f"is not valid (expected {PACKAGE_WHAT})")
    settings["packages"] = [package for package in packages if isinstance(package, str)]
    settings["python"] = _flag(check, "python", given["python"], optional=True)
    for key in ("system_site_packages", "memory_deny_write_execute"):
        settings[key] = _flag(check, key, given[key])
    for key in ("health_delay", "health_timeout", "stop_timeout", "apt_cache_valid_time"):
        settings[key] = _number(check, key, given[key])
    return settings


def _balancers(check, item, inventory_hosts):
    balancers = item.get("balancers")
    if balancers is not None and not isinstance(balancers, list):
        check.add("app_balancers", balancers, "must be a list of inventory hosts")
        return
    known = set(inventory_hosts or [])
    for index, host in enumerate(balancers or []):
        if not isinstance(host, str) or (known and host not in known):
            check.add(f"app_balancers[{index}]", host, "is not a host of the inventory")
    server = item.get("balancer_server")
    match = BALANCER_SERVER.fullmatch(server) if isinstance(server, str) else None
    if balancers and (match is None or not 1 <= int(match.group("port")) <= 65535):
        check.add(
            "app_balancer_server",
            server,
            "is not 'address:port' as the balancers name this server (expected a host name, an IPv4"
            " address or an [IPv6] address, and a port from 1 to 65535)",
        )


def app_model(item, playbook_dir=".", inventory_hosts=None):
    check = _Checker()
    _names(check, item)
    version = item.get("version")
    version = str(version) if isinstance(version, (int, float)) and not isinstance(version, bool) else version
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        check.add(
            "app_version",
            version,
            "is not valid (expected 1 to 64 of A-Z a-z 0-9 . _ + -, starting with a letter or digit)",
        )
    rollback = _flag(check, "rollback", item.get("rollback", False), optional=True)
    item = {**item, "rollback": bool(rollback)}
    source = item.get("source")
    if isinstance(source, str) and CONTROL.search(source):
        check.add("app_source", source, f"is not a path on the controller (expected no {CONTROL_WHAT})")
        source, kind = "", "none"
    else:
        source, kind = _source(check, item, playbook_dir)
    _port(check, "app_port", item.get("port"), low=1024)
    path = item.get("health_path")
    if not isinstance(path, str) or not HEALTH_PATH.fullmatch(path):
        check.add(
            "app_health_path",
            path,
            "is not a URL path starting with '/' (without spaces; expected A-Z a-z 0-9 and . _ ~ ! & ( ) * +"
            " , = : @ / ? -)",
        )
    _command(check, item.get("command"))
    for var in ("releases_kept", "health_retries", "health_first_retries"):
        value = item.get(var)
        low, high = LIMITS[var]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            check.add(f"app_{var}", value, f"is not a number of at least {low} and at most {high}")
    _paths(check, item)
    _balancers(check, item, inventory_hosts)
    settings = _settings(check, item)

    env = _environment(check, "app_environment", item.get("environment") or {}, False)
    secret = _environment(check, "app_secret_environment", item.get("secret_environment") or {}, True)
    for key in sorted(set(env) & set(secret)):
        check.add("app_secret_environment", key, "is also set in app_environment")
    url = _database(check, item.get("database"), inventory_hosts)
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
        "rollback": item["rollback"],
        "settings": settings,
        "database_url": url,
        "env_content": _env_file(dict(sorted(merged.items()))),
    }
