# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The validation of groundwork.server.mariadb's input and the access of the server.

``mariadb_model(users, databases, grants, settings, networks, flows, host, groups, hostvars,
reports, outside, port, require_vaulted, allow_any, certificate)`` checks what an argument
spec cannot express (names, duplicates, a grant for an undeclared user or database,
privileges that do not fit the level, settings a configuration file cannot carry, networks,
passwords in clear where vaulted ones are required) and returns ``errors`` (one message per
problem naming the variable, the item, the key and the value), ``warnings``, ``needs`` (the
hosts whose addresses the flows need, when ``reports`` is None), the normalised ``users``
(each with the MariaDB host specifications of its accounts: one per client address or IPv4
network), ``databases`` and ``grants``, the client ``networks`` and ``bind_address`` ("*"
when a network may connect, else "127.0.0.1"). Called by _mariadb_role.py.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._mariadb_model import mariadb_model
"""

from __future__ import annotations

import re

from ansible_collections.groundwork.server.plugins.plugin_utils import _database_contract as contract
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import Checker, named_items

NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")
NAME_TEXT = "a lower-case letter or '_', then up to 63 lower-case letters, digits or '_'"
TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
CHARSET = re.compile(r"[a-z0-9]{1,32}")
COLLATION = re.compile(r"[a-z0-9_]{1,64}")
SETTING = re.compile(r"[a-z][a-z0-9_]{0,63}")
# A value a configuration file carries without quoting: no spaces, quotes, '#', ';' or '\'.
SETTING_VALUE = re.compile(r"[A-Za-z0-9_.,:/+@*-]{1,1024}")
SYSTEM_USERS = ("root", "mysql", "mariadb_sys", "debian_sys_maint", "public")
SYSTEM_DATABASES = ("mysql", "information_schema", "performance_schema", "sys", "test")
PLUGINS = ("ed25519", "mysql_native_password")
TLS = ("ssl", "x509", "none")
TABLE_PRIVILEGES = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "CREATE VIEW",
    "SHOW VIEW",
    "TRIGGER",
    "DELETE HISTORY",
    "ALL",
)
DATABASE_PRIVILEGES = (
    *TABLE_PRIVILEGES,
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "EVENT",
)
USER_KEYS = ("name", "password", "plugin", "tls", "state")
DATABASE_KEYS = ("name", "character_set", "collation", "state")
GRANT_KEYS = ("user", "database", "table", "privileges", "state")
# Settings the role itself owns: an override would break TLS, access or the server's layout.
OWNED_SETTINGS = (
    "bind_address",
    "port",
    "socket",
    "datadir",
    "pid_file",
    "skip_networking",
    "ssl_cert",
    "ssl_key",
    "ssl_cipher",
    "tls_version",
    "require_secure_transport",
    "skip_name_resolve",
    "local_infile",
    "user",
)
# The prefixes the server's option parser takes before any option name (my_getopt):
# loose_bind_address is bind_address, disable_skip_networking turns skip_networking off.
OPTION_PREFIXES = ("loose", "skip", "enable", "disable", "maximum")


def host_spec(network):
    """The host part of a MariaDB account that matches ``network``, or None: an address for a
    single host, ``address/netmask`` for an IPv4 network (MariaDB cannot match IPv6 networks)."""
    if network.num_addresses == 1:
        return str(network.network_address)
    if network.version == 4:
        return f"{network.network_address}/{network.netmask}"
    return None


def _users(check, users, require_vaulted):
    result = []
    for where, item in named_items(check, "mariadb_users", users, NAME, NAME_TEXT):
        contract.unknown_keys(check, where, item, USER_KEYS)
        if item.get("name") in SYSTEM_USERS:
            check.add(where, "name", item.get("name"), "is one of the server's own users")
        user_state = contract.state(check, where, item)
        password = item.get("password")
        contract.password(check, where, password, require_vaulted, "mariadb")
        if password is None and user_state == "present":
            check.line(where, "password is required for a user that is present")
        result.append(
            {
                "name": item.get("name"),
                "password": password,
                "plugin": check.one_of(where, "plugin", item.get("plugin", "ed25519"), PLUGINS) or "ed25519",
                "tls": check.one_of(where, "tls", item.get("tls", "ssl"), TLS) or "ssl",
                "state": user_state,
            }
        )
    return result


def _databases(check, databases):
    result = []
    for where, item in named_items(check, "mariadb_databases", databases, NAME, NAME_TEXT):
        contract.unknown_keys(check, where, item, DATABASE_KEYS)
        if item.get("name") in SYSTEM_DATABASES:
            check.add(where, "name", item.get("name"), "is a database of the server itself")
        charset = item.get("character_set", "utf8mb4")
        collation = item.get("collation", "utf8mb4_unicode_ci")
        check.pattern(where, "character_set", charset, CHARSET, "like utf8mb4", optional=False)
        collation = check.pattern(where, "collation", collation, COLLATION, "like utf8mb4_bin", False)
        if collation and isinstance(charset, str) and not collation.startswith((f"{charset}_", "uca1400_")):
            check.add(where, "collation", collation, f"is not a collation of the character set {charset}")
        result.append(
            {
                "name": item.get("name"),
                "character_set": charset,
                "collation": collation,
                "state": contract.state(check, where, item),
            }
        )
    return result


def _grants(check, grants, users, databases):
    result = []
    for where, item in contract.grant_items(check, "mariadb", grants, "user", users, databases, GRANT_KEYS):
        user, database = item.get("user"), item.get("database")
        table = item.get("table", "*")
        if table != "*":
            check.pattern(where, "table", table, TABLE, "'*' (the database) or a table name", optional=False)
        allowed = DATABASE_PRIVILEGES if table == "*" else TABLE_PRIVILEGES
        privileges = item.get("privileges")
        if not isinstance(privileges, list) or not privileges:
            check.add(where, "privileges", privileges, "must be a non-empty list")
            privileges = []
        privileges = [str(p).upper() for p in privileges]
        level = "a database" if table == "*" else "a table"
        for position, privilege in enumerate(privileges):
            if privilege not in allowed:
                check.add(
                    where,
                    f"privileges[{position}]",
                    privilege,
                    f"does not apply to {level} (allowed: {', '.join(allowed)})",
                )
        result.append(
            {
                "user": user,
                "database": database,
                "table": table,
                "privileges": sorted(set(privileges)),
                "state": contract.state(check, where, item),
            }
        )
    return result


def setting_value(value):
    """A setting's value as the configuration file writes it: booleans as ON/OFF."""
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    return str(value)


def owned(name):
    """Whether the option ``name`` sets a variable the role owns: by its name, by a prefix of
    the option parser (loose_, skip_, ...), or as an abbreviation the parser would expand."""
    names = {name}
    for prefix in OPTION_PREFIXES:
        if name.startswith(prefix + "_"):
            names.add(name[len(prefix) + 1 :])
    return any(owned_name == n or owned_name.startswith(n) for owned_name in OWNED_SETTINGS for n in names)


def _settings(check, settings):
    if not isinstance(settings, dict):
        check.line("mariadb_settings", "must be a mapping of variable name to value")
        return {}
    result = {}
    for name, value in settings.items():
        where = f"mariadb_settings.{name}"
        if not isinstance(name, str) or not SETTING.fullmatch(name):
            check.add("mariadb_settings", "name", name, "is not a variable name (lower-case, digits, '_')")
            continue
        if owned(name):
            check.line(where, "is set by the role itself (use its own variable)")
            continue
        plain = isinstance(value, (str, int, float, bool))
        if not plain or not SETTING_VALUE.fullmatch(setting_value(value)):
            check.add(
                where,
                None,
                value,
                "must be a number, true/false or a word of letters, digits and _ . , : / + @ * -",
            )
            continue
        result[name] = setting_value(value)
    return result


def _accounts(check, networks):
    specs = []
    for network in networks:
        spec = host_spec(network)
        if spec is None and network.prefixlen == 0:
            # every IPv6 address (mariadb_allow_any_source)
            check.warnings.append(
                f"{network}: no MariaDB account matches every IPv6 address; IPv6 clients have none"
            )
        elif spec is None:
            check.line(
                "mariadb_client_networks / firewall_flows",
                f"{network} is an IPv6 network: MariaDB accounts match single IPv6 addresses only",
            )
        elif spec not in specs:
            specs.append(spec)
    return specs


def mariadb_model(
    users,
    databases=None,
    grants=None,
    settings=None,
    networks=None,
    flows=None,
    host=None,
    groups=None,
    hostvars=None,
    reports=None,
    outside=None,
    port=3306,
    require_vaulted=False,
    allow_any=False,
    certificate="",
):
    """Validate the input and compute the access of ``host``; see DOCUMENTATION."""
    check = Checker()
    user_list = _users(check, users, require_vaulted)
    database_list = _databases(check, databases if databases is not None else [])
    present_users = {u["name"] for u in user_list if u["state"] == "present" and isinstance(u["name"], str)}
    present_dbs = {
        db["name"] for db in database_list if db["state"] == "present" and isinstance(db["name"], str)
    }
    grant_list = _grants(check, grants if grants is not None else [], present_users, present_dbs)
    setting_map = _settings(check, settings if settings is not None else {})
    port = contract.port(check, "mariadb_port", port, 3306)
    extra = contract.client_networks(check, "mariadb", networks if networks is not None else [], allow_any)
    found, needs = contract.flow_networks(
        check,
        "mariadb",
        "MariaDB",
        flows,
        port,
        allow_any,
        host=host,
        groups=groups,
        hostvars=hostvars,
        reports=reports,
        outside=outside,
    )
    client_networks = sorted(set(extra + found), key=lambda n: (n.version, n))
    hosts = _accounts(check, client_networks)
    if client_networks and not certificate:
        check.line(
            "mariadb_certificate",
            "is empty, but clients may connect over the network (firewall_flows, mariadb_client_networks):"
            " name a certificate of groundwork.server.tls; the role accepts remote logins only over TLS",
        )
    for user in user_list:
        user["hosts"] = hosts if user["state"] == "present" else []
    if not hosts and present_users:
        check.warnings.append(
            f"mariadb_users: no client may connect to port {port} (no flow in firewall_flows, no"
            " mariadb_client_networks): the users have no account"
        )
    return {
        "errors": check.errors,
        "warnings": check.warnings,
        "needs": needs,
        "users": user_list,
        "databases": database_list,
        "grants": grant_list,
        "settings": setting_map,
        "networks": [str(n) for n in client_networks],
        "bind_address": "*" if client_networks else "127.0.0.1",
    }
