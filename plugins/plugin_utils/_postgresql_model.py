# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The validation of groundwork.server.postgresql's input and the access of the server.

``postgresql_model(roles, databases, grants, settings, networks, flows, host, groups, hostvars,
reports, outside, port, require_vaulted, allow_any)`` checks what an argument spec cannot
express (names, duplicates, an owner or grant role not declared, a grant on an unknown
database, privileges that do not fit the object, networks, passwords in clear where vaulted
ones are required) and returns ``errors`` (one message per problem naming the variable, the
item, the key and the value), ``warnings``, ``needs`` (the hosts whose addresses the flows
need, when ``reports`` is None), the normalised ``roles``, ``databases`` and ``grants``, the
client ``networks``, the ``hba`` lines (local postgres peer, local scram-sha-256, then hostssl
per database for its owner and the login roles granted on it, from every network that may
reach ``port``) and ``listen_addresses`` ("*" when a network may connect, else "localhost").
A flow from any address is refused unless ``allow_any``. Called by _postgresql_role.py.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._postgresql_model import postgresql_model
"""

from __future__ import annotations

import math
import re

from ansible_collections.groundwork.server.plugins.plugin_utils import _database_contract as contract
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    CONTROL,
    Checker,
    named_items,
)

NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
NAME_TEXT = "a lower-case letter or '_', then up to 62 lower-case letters, digits or '_'"
EXTENSION = re.compile(r"[a-z_][a-z0-9_-]{0,62}")
ENCODING = re.compile(r"[A-Za-z0-9_-]{1,32}")
LOCALE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
SETTING = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?")
# The server encodings of PostgreSQL (a database's encoding must be one; the client-only ones,
# like SJIS or BIG5, are not). The server compares them ignoring case and punctuation.
SERVER_ENCODINGS = (
    "SQL_ASCII",
    "UTF8",
    "EUC_JP",
    "EUC_CN",
    "EUC_KR",
    "EUC_JIS_2004",
    "EUC_TW",
    "MULE_INTERNAL",
    *(f"LATIN{n}" for n in range(1, 11)),
    *(f"ISO_8859_{n}" for n in range(5, 9)),
    "KOI8R",
    "KOI8U",
    "WIN866",
    "WIN874",
    *(f"WIN{n}" for n in range(1250, 1259)),
)
RESERVED = ("postgres", "public", "none", "all", "current_user", "session_user", "current_role")
PRIVILEGES = {
    "database": ("CONNECT", "CREATE", "TEMPORARY", "ALL"),
    "schema": ("USAGE", "CREATE", "ALL"),
    "tables": ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "ALL"),
    "sequences": ("USAGE", "SELECT", "UPDATE", "ALL"),
    "functions": ("EXECUTE", "ALL"),
}
ROLE_KEYS = ("name", "password", "login", "member_of", "state")
DATABASE_KEYS = ("name", "owner", "encoding", "locale", "extensions", "state")
GRANT_KEYS = ("role", "database", "on", "schema", "privileges", "state")
# Settings the role itself owns: an override would break TLS, authentication or the layout.
OWNED_SETTINGS = (
    "ssl",
    "ssl_cert_file",
    "ssl_key_file",
    "ssl_ca_file",
    "password_encryption",
    "hba_file",
    "ident_file",
    "data_directory",
    "config_file",
    "include_dir",
    "port",
    "listen_addresses",
)


def _roles(check, roles, require_vaulted):
    result = []
    for where, item in named_items(check, "postgresql_roles", roles, NAME, NAME_TEXT):
        contract.unknown_keys(check, where, item, ROLE_KEYS)
        name = item.get("name")
        if name in RESERVED or (isinstance(name, str) and name.startswith("pg_")):
            check.add(where, "name", name, "is reserved (the superuser, a keyword or a pg_ role)")
        password = item.get("password")
        contract.password(check, where, password, require_vaulted, "postgresql")
        member_of = item.get("member_of", [])
        if not isinstance(member_of, list):
            check.add(where, "member_of", member_of, "must be a list of role names")
            member_of = []
        result.append(
            {
                "name": name,
                "password": password,
                "login": check.boolean(where, "login", item.get("login"), True),
                "member_of": member_of,
                "state": contract.state(check, where, item),
                "_where": where,
            }
        )
    present = {
        role["name"] for role in result if role["state"] == "present" and isinstance(role["name"], str)
    }
    for role in result:
        for index, group in enumerate(role["member_of"]):
            if not isinstance(group, str) or group not in present or group == role["name"]:
                check.add(
                    role["_where"],
                    f"member_of[{index}]",
                    group,
                    "is not a role declared present in postgresql_roles",
                )
    return result, present


def _databases(check, databases, roles):
    result = []
    for where, item in named_items(check, "postgresql_databases", databases, NAME, NAME_TEXT):
        contract.unknown_keys(check, where, item, DATABASE_KEYS)
        name = item.get("name")
        if name in ("postgres", "template0", "template1"):
            check.add(where, "name", name, "is a database of the cluster itself")
        state = contract.state(check, where, item)
        owner = item.get("owner", "postgres")
        if owner != "postgres" and not (isinstance(owner, str) and NAME.fullmatch(owner)):
            check.add(where, "owner", owner, f"is not a role name (expected {NAME_TEXT})")
        elif owner != "postgres" and owner not in roles and state == "present":
            check.add(where, "owner", owner, "is not a role declared present in postgresql_roles")
        extensions = item.get("extensions", [])
        if not isinstance(extensions, list):
            check.add(where, "extensions", extensions, "must be a list of extension names")
            extensions = []
        for index, extension in enumerate(extensions):
            check.pattern(
                where, f"extensions[{index}]", extension, EXTENSION, "an extension name", optional=False
            )
        encoding = check.pattern(where, "encoding", item.get("encoding", "UTF8"), ENCODING, "like UTF8")
        if encoding is not None and _encoding_key(encoding) not in map(_encoding_key, SERVER_ENCODINGS):
            check.add(
                where,
                "encoding",
                encoding,
                f"is not a server encoding (expected one of {', '.join(SERVER_ENCODINGS)})",
            )
            encoding = None
        result.append(
            {
                "name": name,
                "owner": owner,
                "encoding": encoding,
                "locale": check.pattern(
                    where, "locale", item.get("locale", "C.UTF-8"), LOCALE, "like C.UTF-8"
                ),
                "extensions": extensions,
                "state": state,
            }
        )
    return result


def _encoding_key(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _grants(check, grants, roles, databases):
    result = []
    for where, item in contract.grant_items(
        check, "postgresql", grants, "role", roles, databases, GRANT_KEYS
    ):
        role, database = item.get("role"), item.get("database")
        on = check.one_of(where, "on", item.get("on", "database"), tuple(PRIVILEGES)) or "database"
        schema = item.get("schema", "public")
        if on != "database":
            check.pattern(where, "schema", schema, NAME, NAME_TEXT, optional=False)
        privileges = item.get("privileges")
        if not isinstance(privileges, list) or not privileges:
            check.add(where, "privileges", privileges, "must be a non-empty list")
            privileges = []
        privileges = [str(p).upper() for p in privileges]
        for position, privilege in enumerate(privileges):
            if privilege not in PRIVILEGES[on]:
                check.add(
                    where,
                    f"privileges[{position}]",
                    privilege,
                    f"does not apply to {on} (allowed: {', '.join(PRIVILEGES[on])})",
                )
        result.append(
            {
                "role": role,
                "database": database,
                "on": on,
                "schema": schema if on != "database" else None,
                "privileges": sorted(set(privileges)),
                "state": contract.state(check, where, item),
            }
        )
    return result


def _settings(check, settings):
    """The names and values of ``postgresql_settings`` as a file can carry them; the installed
    server's catalogue checks them again in the plan (_postgresql_settings.py)."""
    if not isinstance(settings, dict):
        check.line("postgresql_settings", "must be a mapping of setting name to value")
        return
    for name, value in settings.items():
        where = f"postgresql_settings.{name}"
        if not isinstance(name, str) or not SETTING.fullmatch(name):
            check.add(
                "postgresql_settings",
                "name",
                name,
                "is not a setting name (lower-case letters, digits and '_', or extension.name)",
            )
            continue
        if name in OWNED_SETTINGS or name.startswith("ssl"):
            check.line(where, "is set by the role itself (use its own variable)")
            continue
        plain = isinstance(value, (str, int, float, bool)) and not (
            isinstance(value, float) and not math.isfinite(value)
        )
        if not plain or CONTROL.search(str(value)):
            check.add(
                where,
                None,
                value,
                "must be a number, a boolean or a string on one line (without control characters)",
            )


def _hba(databases, grants, roles, networks):
    lines = [
        "local all postgres peer",
        "local all all scram-sha-256",
    ]
    login = {role["name"] for role in roles if role["state"] == "present" and role["login"]}
    members = {}
    for role in roles:
        for group in role["member_of"]:
            members.setdefault(group, set()).add(role["name"])
    cidrs = [str(network) for network in sorted(set(networks), key=lambda n: (n.version, n))]
    for database in databases:
        if database["state"] != "present":
            continue
        allowed = {database["owner"]}
        for grant in grants:
            if grant["database"] == database["name"] and grant["state"] == "present":
                allowed |= {grant["role"]} | members.get(grant["role"], set())
        allowed = sorted(name for name in allowed & login if name != "postgres")
        if not allowed:
            continue
        for cidr in ["127.0.0.1/32", "::1/128", *cidrs]:
            lines.append(f"hostssl {database['name']} {','.join(allowed)} {cidr} scram-sha-256")
    return lines


def postgresql_model(
    roles,
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
    port=5432,
    require_vaulted=False,
    allow_any=False,
):
    """Validate the input and compute the access of ``host``; see DOCUMENTATION."""
    check = Checker()
    role_list, present_roles = _roles(check, roles, require_vaulted)
    database_list = _databases(check, databases if databases is not None else [], present_roles)
    present_dbs = {
        db["name"] for db in database_list if db["state"] == "present" and isinstance(db["name"], str)
    }
    grant_list = _grants(check, grants if grants is not None else [], present_roles, present_dbs)
    _settings(check, settings if settings is not None else {})
    port = contract.port(check, "postgresql_port", port, 5432)
    extra = contract.client_networks(check, "postgresql", networks if networks is not None else [], allow_any)
    found, needs = contract.flow_networks(
        check,
        "postgresql",
        "PostgreSQL",
        flows,
        port,
        allow_any,
        host=host,
        groups=groups,
        hostvars=hostvars,
        reports=reports,
        outside=outside,
    )
    client_networks = extra + found
    return {
        "errors": check.errors,
        "warnings": check.warnings,
        "needs": needs,
        "roles": [{k: v for k, v in role.items() if not k.startswith("_")} for role in role_list],
        "databases": database_list,
        "grants": grant_list,
        "networks": sorted({str(n) for n in client_networks}),
        # (only from valid input: a model with errors is never used)
        "hba": [] if check.errors else _hba(database_list, grant_list, role_list, client_networks),
        "listen_addresses": "*" if client_networks else "localhost",
    }
