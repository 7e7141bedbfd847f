# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure logic of mariadb_objects: validation, reading the server's tables, planning statements.

Nothing here talks to a server. The module runs ``QUERIES`` (and ``tables_query`` and
``SHOW GRANTS`` where ``State`` asks for them), hands the rows to ``State``, and executes the
statements of ``plan``. Statements are ``(sql, args)`` pairs for PyMySQL's ``execute``:
values travel as arguments (PyMySQL quotes them), identifiers are quoted here with
backticks, and a literal ``%`` in the SQL text is doubled because ``execute`` formats it.
"""

from __future__ import annotations

import json
import re

from ansible_collections.groundwork.server.plugins.module_utils._mariadb.ed25519 import (
    ed25519_hash,
    native_hash,
)

STATE = {"type": "str", "default": "present"}
ARGUMENTS = {
    "socket": {"type": "path", "default": "/run/mysqld/mysqld.sock"},
    "secure": {"type": "bool", "default": True},
    "users": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "name": {"type": "str", "required": True},
            "hosts": {"type": "list", "elements": "str", "default": []},
            "password": {"type": "str", "no_log": True},
            "plugin": {"type": "str", "default": "ed25519"},
            "tls": {"type": "str", "default": "ssl"},
            "state": STATE,
        },
    },
    "databases": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "name": {"type": "str", "required": True},
            "character_set": {"type": "str", "default": "utf8mb4"},
            "collation": {"type": "str", "default": "utf8mb4_unicode_ci"},
            "state": STATE,
        },
    },
    "grants": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "user": {"type": "str", "required": True},
            "database": {"type": "str", "required": True},
            "table": {"type": "str", "default": "*"},
            "privileges": {"type": "list", "elements": "str", "required": True},
            "state": STATE,
        },
    },
}

STATES = ("present", "absent")
PLUGINS = ("ed25519", "mysql_native_password")
TLS = {"none": 0, "ssl": 1, "x509": 2}  # ssl_type in mysql.global_priv; 3 is REQUIRE CIPHER/ISSUER/SUBJECT
TLS_SQL = {0: "NONE", 1: "SSL", 2: "X509", 3: "SPECIFIED"}
SYSTEM_USERS = ("root", "mysql", "mariadb.sys", "debian-sys-maint", "public", "")
SYSTEM_DATABASES = ("mysql", "information_schema", "performance_schema", "sys")
USER_NAME = re.compile(r"[A-Za-z0-9_]{1,80}")
DATABASE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
HOST = re.compile(r"[A-Za-z0-9._%:/-]{1,255}")
CHARSET_NAME = re.compile(r"[a-z0-9_]{1,64}")
TEST_DATABASES = ("test", "test\\_%")  # the rows mysql_install_db used to put into mysql.db


class MariadbError(Exception):
    """A refusal or failure to report to the user, without secrets."""


# --- Quoting -----------------------------------------------------------------------------------
def ident(name):
    """A backtick-quoted identifier, ready for a statement that PyMySQL formats (``%`` doubled)."""
    return "`" + str(name).replace("`", "``").replace("%", "%%") + "`"


def db_pattern(name):
    """How a database name is written in a database-level GRANT so that it matches only itself.

    In ``GRANT ... ON `db`.*`` an ``_`` or ``%`` is a wildcard; ``\\_`` is a literal underscore
    (and is what mysql.db then holds). Names are validated to [A-Za-z0-9_], so only ``_`` needs it.
    """
    return name.replace("_", "\\_")


def _unescaped_wildcard(pattern):
    escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "%_":
            return True
    return False


def db_display(pattern):
    """A mysql.db ``Db`` value for people: the database name, or the pattern as stored."""
    if _unescaped_wildcard(pattern):
        return pattern
    return re.sub(r"\\(.)", r"\1", pattern)


def account(user, host):
    """An account for people: name@host, the anonymous one as ''@host."""
    name = user or "''"
    return f"{name}@{host}"


# --- Validation --------------------------------------------------------------------------------
def _privileges(values):
    result = []
    for value in values:
        name = " ".join(str(value).upper().split())
        name = "ALL" if name == "ALL PRIVILEGES" else name
        if name not in result:
            result.append(name)
    return result


def validate(params):
    """The module's parameters, checked and normalised; MariadbError listing every problem."""
    problems = []
    secure = params["secure"]
    users = []
    seen = {}
    for index, user in enumerate(params["users"]):
        name = user["name"]
        label = f"users[{index}] ({name})"
        item = dict(user, index=index, label=label)
        if not USER_NAME.fullmatch(name):
            problems.append(f"{label}: name must be 1 to 80 of A-Z, a-z, 0-9 and _")
        elif name.lower() in SYSTEM_USERS:
            problems.append(f"{label}: {name} is a system account and is never managed")
        if name in seen:
            problems.append(f"{label}: name is also declared by users[{seen[name]}]")
        seen.setdefault(name, index)
        if user["state"] not in STATES:
            problems.append(f"{label}: state '{user['state']}' is not one of {', '.join(STATES)}")
        if user["plugin"] not in PLUGINS:
            problems.append(f"{label}: plugin '{user['plugin']}' is not one of {', '.join(PLUGINS)}")
        if user["tls"] not in TLS:
            problems.append(f"{label}: tls '{user['tls']}' is not one of {', '.join(TLS)}")
        if user.get("password") == "":
            problems.append(f"{label}: password must not be empty (omit it to leave the password alone)")
        hosts = []
        for host in user["hosts"] or []:
            spec = str(host).lower()
            if not HOST.fullmatch(spec):
                problems.append(
                    f"{label}: hosts entry '{host}' is not a MariaDB host specification"
                    " (1 to 255 of A-Z, a-z, 0-9 and . _ % : / -)"
                )
            elif spec not in hosts:
                hosts.append(spec)
        if user["state"] == "present" and not hosts:
            problems.append(f"{label}: hosts must name at least one host (or set state: absent)")
        item["hosts"] = hosts
        users.append(item)

    databases = []
    seen = {}
    for index, database in enumerate(params["databases"]):
        name = database["name"]
        label = f"databases[{index}] ({name})"
        item = dict(database, index=index, label=label)
        item["character_set"] = str(database["character_set"]).lower()
        item["collation"] = str(database["collation"]).lower()
        problems.extend(_check_database_name(label, "name", name, secure))
        if name in seen:
            problems.append(f"{label}: name is also declared by databases[{seen[name]}]")
        seen.setdefault(name, index)
        if database["state"] not in STATES:
            problems.append(f"{label}: state '{database['state']}' is not one of {', '.join(STATES)}")
        for key in ("character_set", "collation"):
            if not CHARSET_NAME.fullmatch(item[key]):
                what = key.replace("_", " ")
                problems.append(f"{label}: {key} '{database[key]}' is not the name of a {what}")
        if not item["collation"].startswith(item["character_set"] + "_"):
            problems.append(
                f"{label}: collation '{database['collation']}' does not belong to"
                f" character_set '{database['character_set']}'"
            )
        databases.append(item)

    by_name = {user["name"]: user for user in users}
    grants = []
    for index, grant in enumerate(params["grants"]):
        target = f"{grant['database']}.{grant['table']}"
        label = f"grants[{index}] ({grant['user']} on {target})"
        item = dict(grant, index=index, label=label, privileges=_privileges(grant["privileges"]))
        user = by_name.get(grant["user"])
        if grant["state"] not in STATES:
            problems.append(f"{label}: state '{grant['state']}' is not one of {', '.join(STATES)}")
        if user is None:
            problems.append(f"{label}: user '{grant['user']}' is not declared in users")
        elif user["state"] == "absent" and grant["state"] == "present":
            problems.append(f"{label}: user '{grant['user']}' is declared absent")
        if grant["database"] == "*":
            problems.append(f"{label}: database '*' (global privileges) is not managed; name a database")
        else:
            problems.extend(_check_database_name(label, "database", grant["database"], secure))
        if grant["table"] != "*" and not DATABASE_NAME.fullmatch(grant["table"]):
            problems.append(f"{label}: table must be '*' or 1 to 64 of A-Z, a-z, 0-9 and _")
        if not item["privileges"]:
            problems.append(f"{label}: privileges must name at least one privilege")
        grants.append(item)

    if problems:
        raise MariadbError("; ".join(problems))
    return {"secure": secure, "users": users, "databases": databases, "grants": grants}


def _check_database_name(label, key, name, secure):
    if not DATABASE_NAME.fullmatch(name):
        return [f"{label}: {key} '{name}' must be 1 to 64 of A-Z, a-z, 0-9 and _"]
    if name.lower() in SYSTEM_DATABASES:
        return [f"{label}: {key} '{name}' is a system database and is never managed"]
    if secure and name == "test":
        return [f"{label}: {key} 'test' is the database secure: true drops; choose another name"]
    return []


# --- Reading the state -------------------------------------------------------------------------
QUERIES = {
    "accounts": "SELECT User, Host, Priv FROM mysql.global_priv",
    "db": "SELECT * FROM mysql.db",
    "db_columns": (
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'db' ORDER BY ORDINAL_POSITION"
    ),
    "table_priv_type": (
        "SELECT COLUMN_TYPE FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'tables_priv' AND COLUMN_NAME = 'Table_priv'"
    ),
    "tables_priv": "SELECT Host, Db, User, Table_name, Table_priv FROM mysql.tables_priv",
    "columns_priv": "SELECT Host, Db, User, Table_name, Column_name, Column_priv FROM mysql.columns_priv",
    "procs_priv": "SELECT Host, Db, User, Routine_name, Routine_type, Proc_priv FROM mysql.procs_priv",
    "roles_mapping": "SELECT Host, User, Role FROM mysql.roles_mapping",
    "schemata": (
        "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME"
        " FROM information_schema.SCHEMATA"
    ),
    "charsets": "SELECT CHARACTER_SET_NAME FROM information_schema.CHARACTER_SETS",
    "collations": (
        "SELECT FULL_COLLATION_NAME AS COLLATION_NAME, CHARACTER_SET_NAME"
        " FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY"
    ),
    "plugins": "SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519'",
}
# Before MariaDB 10.10 the applicability table has no FULL_COLLATION_NAME.
COLLATIONS_FALLBACK = "SELECT COLLATION_NAME, CHARACTER_SET_NAME FROM information_schema.COLLATIONS"


def tables_query(databases):
    """The existing tables and views of these databases (for table-level grants)."""
    names = sorted(set(databases))
    marks = ", ".join(["%s"] * len(names))
    return (
        # only placeholders are formatted in; the names travel as arguments
        f"SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ({marks})",  # noqa: S608
        tuple(names),
    )


def show_grants(user, host):
    return ("SHOW GRANTS FOR %s@%s", (user, host))


def _db_privilege(column):
    base = column[: -len("_priv")]
    return {"Grant": "GRANT OPTION", "Create_tmp_table": "CREATE TEMPORARY TABLES"}.get(
        base, base.replace("_", " ").upper()
    )


def _table_privilege(value):
    return {"Grant": "GRANT OPTION", "Delete versioning rows": "DELETE HISTORY"}.get(value, value.upper())


def _set_values(text):
    """The members of a SET column value ('Select,Insert') or definition (set('Select','Insert'))."""
    text = text or ""
    if text.lower().startswith("set("):
        return re.findall(r"'((?:[^']|'')*)'", text)
    return [part for part in text.split(",") if part]


def _methods(priv):
    """The authentication methods of a global_priv JSON document, in order: [(plugin, string)]."""
    last = (priv.get("plugin", ""), priv.get("authentication_string", ""))
    chain = priv.get("auth_or")
    if not chain:
        return [last]
    return [
        last if not method else (method.get("plugin", ""), method.get("authentication_string", ""))
        for method in chain
    ]


def global_privileges(lines):
    """The global privileges in SHOW GRANTS output (its ``ON *.*`` line), USAGE left out."""
    for line in lines:
        match = re.match(r"GRANT (.+?) ON \*\.\* TO ", line)
        if match is None:
            continue
        names = [name.strip() for name in match.group(1).split(",")]
        names = [name for name in names if name and name != "USAGE"]
        if re.search(r" WITH GRANT OPTION$", line):
            names.append("GRANT OPTION")
        return names
    return []


class State:
    """The server as far as the module cares: accounts, databases and privileges.

    ``results`` maps each name of QUERIES to its rows (dicts by column name); "tables" holds the
    rows of tables_query and "global_grants" maps (user, host) to its SHOW GRANTS lines, for the
    accounts ``needs_global_grants`` names.
    """

    def __init__(self, results):
        self.accounts = {}
        for row in results["accounts"]:
            priv = json.loads(row["Priv"] or "{}")
            if priv.get("is_role"):
                continue
            self.accounts[(row["User"], row["Host"])] = {
                "methods": _methods(priv),
                "tls": int(priv.get("ssl_type", 0) or 0),
                "access": int(priv.get("access", 0) or 0),
            }
        columns = [row["COLUMN_NAME"] for row in results["db_columns"]]
        self.db_columns = [c for c in columns if c.endswith("_priv")]
        self.db_privileges = [_db_privilege(c) for c in self.db_columns]
        type_rows = results["table_priv_type"]
        self.table_privileges = [
            _table_privilege(v) for v in _set_values(type_rows[0]["COLUMN_TYPE"] if type_rows else "")
        ]
        self.db_grants = {}
        self.test_rows = []
        for row in results["db"]:
            held = {_db_privilege(c) for c in self.db_columns if row.get(c) == "Y"}
            key = (row["User"], row["Host"])
            self.db_grants.setdefault(key, {})[row["Db"]] = held
            if row["Db"] in TEST_DATABASES:
                self.test_rows.append((row["User"], row["Host"], row["Db"]))
        self.table_grants = {}
        for row in results["tables_priv"]:
            held = {_table_privilege(v) for v in _set_values(row["Table_priv"])}
            if held:
                key = (row["User"], row["Host"])
                self.table_grants.setdefault(key, {})[(row["Db"], row["Table_name"])] = held
        self.column_grants = {}
        for row in results["columns_priv"]:
            target = self.column_grants.setdefault((row["User"], row["Host"]), {}).setdefault(
                (row["Db"], row["Table_name"]), {}
            )
            for value in _set_values(row["Column_priv"]):
                target.setdefault(value.upper(), []).append(row["Column_name"])
        self.routine_grants = {}
        for row in results["procs_priv"]:
            held = {_table_privilege(v) for v in _set_values(row["Proc_priv"])}
            if held:
                key = (row["User"], row["Host"])
                routine = (row["Db"], row["Routine_name"], row["Routine_type"])
                self.routine_grants.setdefault(key, {})[routine] = held
        self.roles = {}
        for row in results["roles_mapping"]:
            self.roles.setdefault((row["User"], row["Host"]), []).append(row["Role"])
        self.databases = {
            row["SCHEMA_NAME"]: (row["DEFAULT_CHARACTER_SET_NAME"], row["DEFAULT_COLLATION_NAME"])
            for row in results["schemata"]
        }
        self.charsets = {row["CHARACTER_SET_NAME"] for row in results["charsets"]}
        self.collations = {row["COLLATION_NAME"]: row["CHARACTER_SET_NAME"] for row in results["collations"]}
        self.ed25519 = any(row["PLUGIN_STATUS"] == "ACTIVE" for row in results["plugins"])
        self.tables = {(row["TABLE_SCHEMA"], row["TABLE_NAME"]) for row in results.get("tables", [])}
        self.global_grants = {
            key: global_privileges(lines) for key, lines in results.get("global_grants", {}).items()
        }

    def accounts_of(self, name):
        return sorted(host for user, host in self.accounts if user == name)

    def global_of(self, key):
        """'global privileges NAME, ...' an account holds beyond USAGE; '' for none."""
        if not self.accounts.get(key, {}).get("access"):
            return ""
        names = self.global_grants.get(key)
        return "global privileges" + (" " + ", ".join(names) if names else "")


def needs_global_grants(results, declared):
    """The accounts of declared users with global privileges, whose SHOW GRANTS names them."""
    names = {user["name"] for user in declared["users"] if user["state"] == "present"}
    result = []
    for row in results["accounts"]:
        priv = json.loads(row["Priv"] or "{}")
        if row["User"] in names and not priv.get("is_role") and int(priv.get("access", 0) or 0):
            result.append((row["User"], row["Host"]))
    return result


def table_grant_databases(declared):
    return sorted({g["database"] for g in declared["grants"] if g["table"] != "*"})


# --- Planning ----------------------------------------------------------------------------------
class Plan:
    """The changes, each a sentence for the user with the statements that make it."""

    def __init__(self):
        self.steps = []  # [(change, [(sql, args), ...])]
        self.warnings = []
        self.secrets = []

    def add(self, change, *statements):
        self.steps.append((change, list(statements)))

    @property
    def changes(self):
        return [change for change, _statements in self.steps]

    @property
    def statements(self):
        return [statement for _change, statements in self.steps for statement in statements]

    @property
    def changed(self):
        return bool(self.steps)


def _usable_password(method):
    plugin, string = method
    if plugin == "unix_socket":
        return False
    if plugin in ("mysql_native_password", "mysql_old_password"):
        # An empty string lets anyone in; a string that is no hash matches no password.
        return string == "" or bool(re.fullmatch(r"\*[0-9A-Fa-f]{40}|[0-9A-Fa-f]{16}", string))
    if plugin == "ed25519":
        return string == "" or bool(re.fullmatch(r"[A-Za-z0-9+/]{43}", string))
    return True  # any other plugin (pam, gssapi, parsec, ...) is a way in besides the socket


def _test_rows(declared, state):
    """mysql.db rows on the test databases that secure: true deletes.

    Rows of declared users are left to the grant planning; rows of anonymous accounts go with
    the accounts (DROP USER removes them). The rest goes, whoever it names: a row with an empty
    user name applies to every user.
    """
    declared_names = {user["name"] for user in declared["users"]}
    anonymous = {key for key in state.accounts if key[0] == ""}
    return [row for row in state.test_rows if row[0] not in declared_names and row[:2] not in anonymous]


def _plan_secure(plan, declared, state):
    anonymous = sorted(host for user, host in state.accounts if user == "")
    test_rows = _test_rows(declared, state)
    if test_rows:
        statements = [
            ("DELETE FROM mysql.db WHERE User = %s AND Host = %s AND Db = %s", row) for row in test_rows
        ]
        plan.add(
            "privileges on the test databases (test, test\\_%) in mysql.db: deleted",
            *statements,
            ("FLUSH PRIVILEGES", ()),
        )
    for host in anonymous:
        plan.add(f"anonymous account {account('', host)}: dropped", ("DROP USER %s@%s", ("", host)))
    for host in state.accounts_of("root"):
        if host != "localhost":
            plan.add(f"account {account('root', host)}: dropped", ("DROP USER %s@%s", ("root", host)))
    root = state.accounts.get(("root", "localhost"))
    if root is not None and any(_usable_password(method) for method in root["methods"]):
        plan.add(
            "account root@localhost: authentication set to unix_socket only",
            ("ALTER USER %s@%s IDENTIFIED VIA unix_socket", ("root", "localhost")),
        )
    if "test" in state.databases:
        plan.add("database test: dropped", (f"DROP DATABASE {ident('test')}", ()))


def _auth(user):
    """(plugin, stored string) a declared password becomes; None without a password."""
    if not user.get("password"):
        return None
    if user["plugin"] == "ed25519":
        return ("ed25519", ed25519_hash(user["password"]))
    return ("mysql_native_password", native_hash(user["password"]))


def _plan_users(plan, declared, state):
    drops, accounts = [], []
    for user in declared["users"]:
        name = user["name"]
        existing = state.accounts_of(name)
        keep = user["hosts"] if user["state"] == "present" else []
        for host in existing:
            if host not in keep:
                reason = "dropped" if user["state"] == "absent" else "dropped (host not declared)"
                drops.append((f"user {account(name, host)}: {reason}", ("DROP USER %s@%s", (name, host))))
        if user["state"] == "absent":
            continue
        auth = _auth(user)
        if auth is not None:
            plan.secrets.append(auth[1])
        require = TLS[user["tls"]]
        for host in keep:
            key = (name, host)
            have = state.accounts.get(key)
            if have is None:
                if auth is None:
                    raise MariadbError(
                        f"{user['label']}: password is required to create the account {account(name, host)}"
                    )
                accounts.append(
                    (
                        f"user {account(name, host)}: created ({auth[0]}, REQUIRE {TLS_SQL[require]})",
                        (
                            f"CREATE USER %s@%s IDENTIFIED VIA {auth[0]} USING %s REQUIRE {TLS_SQL[require]}",
                            (name, host, auth[1]),
                        ),
                    )
                )
                continue
            if auth is not None and have["methods"] != [auth]:
                current = have["methods"][0][0] if len(have["methods"]) == 1 else "several methods"
                what = "password changed" if current == auth[0] else f"authentication changed to {auth[0]}"
                accounts.append(
                    (
                        f"user {account(name, host)}: {what}",
                        (f"ALTER USER %s@%s IDENTIFIED VIA {auth[0]} USING %s", (name, host, auth[1])),
                    )
                )
            elif auth is None and [m[0] for m in have["methods"]] != [user["plugin"]]:
                plan.warnings.append(
                    f"{user['label']}: {account(name, host)} does not authenticate via {user['plugin']} only;"
                    " without a password its authentication is left alone"
                )
            if have["tls"] != require:
                accounts.append(
                    (
                        f"user {account(name, host)}: TLS requirement changed from"
                        f" {TLS_SQL.get(have['tls'], have['tls'])} to {TLS_SQL[require]}",
                        (f"ALTER USER %s@%s REQUIRE {TLS_SQL[require]}", (name, host)),
                    )
                )
    for change, statement in drops + accounts:
        plan.add(change, statement)
    needs_plugin = any("VIA ed25519" in sql for sql, _args in plan.statements)
    if needs_plugin and not state.ed25519:
        plan.steps.insert(0, ("plugin ed25519: installed", [("INSTALL SONAME %s", ("auth_ed25519",))]))


def _plan_databases(plan, declared, state):
    for database in declared["databases"]:
        name = database["name"]
        have = state.databases.get(name)
        if database["state"] == "absent":
            if have is not None:
                plan.add(f"database {name}: dropped", (f"DROP DATABASE {ident(name)}", ()))
            continue
        charset, collation = database["character_set"], database["collation"]
        if charset not in state.charsets:
            raise MariadbError(
                f"{database['label']}: character_set '{charset}' is not a character set of this server"
            )
        if state.collations.get(collation) != charset:
            raise MariadbError(
                f"{database['label']}: collation '{collation}' is not a collation of character set"
                f" {charset} on this server"
            )
        if have is None:
            plan.add(
                f"database {name}: created ({charset}, {collation})",
                (f"CREATE DATABASE {ident(name)} CHARACTER SET {charset} COLLATE {collation}", ()),
            )
        elif have != (charset, collation):
            plan.add(
                f"database {name}: character set and collation changed from {have[0]}, {have[1]}"
                f" to {charset}, {collation}",
                (f"ALTER DATABASE {ident(name)} CHARACTER SET {charset} COLLATE {collation}", ()),
            )


def _ordered(names, catalogue):
    order = {name: index for index, name in enumerate(catalogue)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


def _privilege_list(names, catalogue):
    """SQL privilege list: ALL PRIVILEGES for the whole catalogue (GRANT OPTION aside)."""
    everything = {name for name in catalogue if name != "GRANT OPTION"}
    if everything and set(names) == everything:
        return "ALL PRIVILEGES"
    return ", ".join(_ordered(names, catalogue))


def wanted_privileges(declared, state):
    """{user: {("db", pattern) | ("table", (db, table)): privileges}} the declared grants leave."""
    present, absent = {}, {}
    for grant in declared["grants"]:
        if grant["table"] == "*":
            level, target, catalogue = "db", db_pattern(grant["database"]), state.db_privileges
        else:
            level, target, catalogue = "table", (grant["database"], grant["table"]), state.table_privileges
        allowed = [name for name in catalogue if name != "GRANT OPTION"]
        names = set()
        for privilege in grant["privileges"]:
            if privilege == "ALL":
                names.update(allowed)
            elif privilege in allowed:
                names.add(privilege)
            else:
                where = "database" if level == "db" else "table"
                raise MariadbError(
                    f"{grant['label']}: privilege '{privilege}' is not one of ALL, {', '.join(allowed)}"
                    f" (the {where}-level privileges of this server)"
                )
        into = present if grant["state"] == "present" else absent
        into.setdefault(grant["user"], {}).setdefault((level, target), set()).update(names)
    for user, targets in absent.items():
        for target, names in targets.items():
            if target in present.get(user, {}):
                present[user][target] -= names
    return present


def _describe_target(level, target):
    if level == "db":
        return f"{db_display(target)}.*"
    return f"{target[0]}.{target[1]}"


def _plan_grants(plan, declared, state):
    wanted = wanted_privileges(declared, state)
    for user in declared["users"]:
        if user["state"] == "absent":
            continue
        name = user["name"]
        mine = wanted.get(name, {})
        for host in user["hosts"]:
            key = (name, host)
            who = account(name, host)
            revokes, grants = [], []
            held_global = state.global_of(key)
            if held_global:
                revokes.append(
                    (
                        f"{held_global} of {who}: revoked",
                        [
                            ("REVOKE ALL PRIVILEGES ON *.* FROM %s@%s", key),
                            ("REVOKE GRANT OPTION ON *.* FROM %s@%s", key),
                        ],
                    )
                )
            for role in sorted(state.roles.get(key, [])):
                statement = (f"REVOKE {ident(role)} FROM %s@%s", key)
                revokes.append((f"role {role} of {who}: revoked", [statement]))
            for (db, table, kind), held in sorted(state.routine_grants.get(key, {}).items()):
                names = _ordered(held, ["EXECUTE", "ALTER ROUTINE", "SHOW CREATE ROUTINE", "GRANT OPTION"])
                revokes.append(
                    (
                        f"grant {', '.join(names)} on {kind} {db}.{table} to {who}: revoked",
                        [(f"REVOKE {', '.join(names)} ON {kind} {ident(db)}.{ident(table)} FROM %s@%s", key)],
                    )
                )
            for (db, table), held in sorted(state.column_grants.get(key, {}).items()):
                parts = [
                    f"{privilege} ({', '.join(ident(c) for c in sorted(columns))})"
                    for privilege, columns in sorted(held.items())
                ]
                text = ", ".join(f"{p} ({', '.join(sorted(c))})" for p, c in sorted(held.items()))
                revokes.append(
                    (
                        f"grant {text} on {db}.{table} to {who}: revoked",
                        [(f"REVOKE {', '.join(parts)} ON {ident(db)}.{ident(table)} FROM %s@%s", key)],
                    )
                )
            current = {("db", db): held for db, held in state.db_grants.get(key, {}).items() if held}
            current.update(
                {("table", target): held for target, held in state.table_grants.get(key, {}).items()}
            )
            for level, target in sorted(set(current) | set(mine), key=lambda t: (t[0], str(t[1]))):
                held = current.get((level, target), set())
                want = mine.get((level, target), set())
                catalogue = state.db_privileges if level == "db" else state.table_privileges
                on = f"{ident(target)}.*" if level == "db" else f"{ident(target[0])}.{ident(target[1])}"
                shown = _describe_target(level, target)
                extra, missing = held - want, want - held
                if extra:
                    names = _privilege_list(extra, catalogue)
                    revokes.append(
                        (
                            f"grant {names} on {shown} to {who}: revoked",
                            [(f"REVOKE {names} ON {on} FROM %s@%s", key)],
                        )
                    )
                if missing:
                    if level == "table" and target not in state.tables and missing != {"CREATE"}:
                        raise MariadbError(
                            f"{_label_for(declared, name, level, target)}: table {shown} does not exist"
                            " (MariaDB grants on a table only once it exists, CREATE aside)"
                        )
                    names = _privilege_list(missing, catalogue)
                    grants.append(
                        (
                            f"grant {names} on {shown} to {who}: granted",
                            [(f"GRANT {names} ON {on} TO %s@%s", key)],
                        )
                    )
            for change, statements in revokes + grants:
                plan.add(change, *statements)


def _label_for(declared, user, level, target):
    for grant in declared["grants"]:
        if grant["user"] == user and grant["table"] != "*" and (grant["database"], grant["table"]) == target:
            return grant["label"]
    return f"grants ({user} on {target[0]}.{target[1]})"


def plan(declared, state):
    """Compare the declaration with the server; the Plan that makes them equal, in order."""
    result = Plan()
    if declared["secure"]:
        _plan_secure(result, declared, state)
    _plan_users(result, declared, state)
    _plan_databases(result, declared, state)
    _plan_grants(result, declared, state)
    return result


# --- Summaries for --diff (no secrets) ---------------------------------------------------------
def _auth_summary(methods):
    return " or ".join(plugin or "no plugin" for plugin, _string in methods)


def _privilege_lines(who, held, catalogue, shown):
    return f"grant {_privilege_list(held, catalogue)} on {shown} to {who}"


def describe(declared, state):
    """The declared objects (and what secure: true removes) as they are now: the diff's 'before'."""
    lines = []
    if declared["secure"]:
        lines.extend(f"anonymous account {account('', h)}" for u, h in sorted(state.accounts) if u == "")
        lines.extend(f"account {account('root', h)}" for h in state.accounts_of("root") if h != "localhost")
        root = state.accounts.get(("root", "localhost"))
        if root is not None:
            lines.append(f"account root@localhost: via {_auth_summary(root['methods'])}")
        if "test" in state.databases:
            lines.append("database test")
        test_rows = sorted(_test_rows(declared, state))
        lines.extend(f"mysql.db row {account(u, h)} on {db}" for u, h, db in test_rows)
    for user in declared["users"]:
        for host in state.accounts_of(user["name"]):
            key = (user["name"], host)
            have = state.accounts[key]
            who = account(*key)
            lines.append(
                f"user {who}: via {_auth_summary(have['methods'])}, REQUIRE {TLS_SQL.get(have['tls'], '?')}"
            )
            held_global = state.global_of(key)
            if held_global:
                lines.append(f"{held_global} of {who}")
            lines.extend(f"role {role} of {who}" for role in sorted(state.roles.get(key, [])))
            for (db, table, kind), held in sorted(state.routine_grants.get(key, {}).items()):
                lines.append(f"grant {', '.join(sorted(held))} on {kind} {db}.{table} to {who}")
            for (db, table), held in sorted(state.column_grants.get(key, {}).items()):
                text = ", ".join(f"{p} ({', '.join(sorted(c))})" for p, c in sorted(held.items()))
                lines.append(f"grant {text} on {db}.{table} to {who}")
            for db, held in sorted(state.db_grants.get(key, {}).items()):
                if held:
                    lines.append(_privilege_lines(who, held, state.db_privileges, f"{db_display(db)}.*"))
            for target, held in sorted(state.table_grants.get(key, {}).items()):
                lines.append(_privilege_lines(who, held, state.table_privileges, f"{target[0]}.{target[1]}"))
    for database in declared["databases"]:
        have = state.databases.get(database["name"])
        if have is not None:
            lines.append(f"database {database['name']}: {have[0]}, {have[1]}")
    return "\n".join(lines) + ("\n" if lines else "")


def describe_declared(declared, state):
    """The same summary for the state a run leaves: the diff's 'after'."""
    lines = []
    if declared["secure"]:
        root = state.accounts.get(("root", "localhost"))
        if root is not None:
            methods = root["methods"]
            if any(_usable_password(method) for method in methods):
                methods = [("unix_socket", "")]
            lines.append(f"account root@localhost: via {_auth_summary(methods)}")
    wanted = wanted_privileges(declared, state)
    for user in declared["users"]:
        if user["state"] == "absent":
            continue
        auth = _auth(user)
        for host in sorted(user["hosts"]):
            key = (user["name"], host)
            who = account(*key)
            have = state.accounts.get(key)
            methods = [auth] if auth is not None or have is None else have["methods"]
            lines.append(f"user {who}: via {_auth_summary(methods)}, REQUIRE {TLS_SQL[TLS[user['tls']]]}")
            mine = wanted.get(user["name"], {})
            for (level, target), held in sorted(mine.items(), key=lambda t: (t[0][0], str(t[0][1]))):
                if not held:
                    continue
                if level == "db":
                    lines.append(_privilege_lines(who, held, state.db_privileges, f"{db_display(target)}.*"))
                else:
                    shown = f"{target[0]}.{target[1]}"
                    lines.append(_privilege_lines(who, held, state.table_privileges, shown))
    for database in declared["databases"]:
        if database["state"] == "present":
            lines.append(f"database {database['name']}: {database['character_set']}, {database['collation']}")
    return "\n".join(lines) + ("\n" if lines else "")
