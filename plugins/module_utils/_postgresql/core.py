# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure logic of postgresql_objects: SCRAM verifiers, SQL quoting, reading state, planning changes.

Nothing here talks to a server: the module runs the scripts this builds with psql and hands
the JSON they print back to ``plan``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata

SCRAM_ITERATIONS = 4096

# The module's arguments (also validated by its action plugin, which decides a no-op on the
# controller before the module would run).
STATE = {"type": "str", "choices": ["present", "absent"], "default": "present"}
ARGUMENTS = {
    "port": {"type": "int", "default": 5432},
    "roles": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "name": {"type": "str", "required": True},
            "password": {"type": "str", "no_log": True},
            "login": {"type": "bool", "default": True},
            "member_of": {"type": "list", "elements": "str", "default": []},
            "state": STATE,
        },
    },
    "databases": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "name": {"type": "str", "required": True},
            "owner": {"type": "str", "default": "postgres"},
            "encoding": {"type": "str", "default": "UTF8"},
            "locale": {"type": "str", "default": "C.UTF-8"},
            "extensions": {"type": "list", "elements": "str", "default": []},
            "state": STATE,
        },
    },
    "grants": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "role": {"type": "str", "required": True},
            "database": {"type": "str", "required": True},
            "on": {
                "type": "str",
                "choices": ["database", "schema", "tables", "sequences", "functions"],
                "default": "database",
            },
            "schema": {"type": "str", "default": "public"},
            "privileges": {"type": "list", "elements": "str", "required": True},
            "state": STATE,
        },
    },
}


def normalize_grants(grants):
    """Privileges upper-case and sorted; a grant on a database has no schema."""
    for grant in grants:
        grant["privileges"] = sorted({p.upper() for p in grant["privileges"]})
        if grant["on"] == "database":
            grant["schema"] = None
    return grants


# What ALL means per object type (the privileges checked; PostgreSQL 17 adds MAINTAIN to tables).
ALL = {
    "database": ("CONNECT", "CREATE", "TEMPORARY"),
    "schema": ("USAGE", "CREATE"),
    "tables": ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"),
    "sequences": ("USAGE", "SELECT", "UPDATE"),
    "functions": ("EXECUTE",),
}
SQL_OBJECTS = {"tables": "TABLES", "sequences": "SEQUENCES", "functions": "FUNCTIONS"}


class PostgresqlError(Exception):
    """A failure to report to the user, without secrets."""


def ident(name):
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(text):
    """A quoted SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1)."""
    return "'" + str(text).replace("'", "''") + "'"


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _prepare(password):
    """The password as PostgreSQL's SASLprep treats it: ASCII unchanged, otherwise NFKC-normalised."""
    text = str(password)
    return (text if text.isascii() else unicodedata.normalize("NFKC", text)).encode("utf-8")


def _keys(password, salt, iterations):
    salted = hashlib.pbkdf2_hmac("sha256", _prepare(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return stored_key, server_key


def scram_verifier(password, salt=None, iterations=SCRAM_ITERATIONS):
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (random salt by default)."""
    salt = os.urandom(16) if salt is None else salt
    stored_key, server_key = _keys(password, salt, iterations)
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


def scram_matches(password, verifier):
    """Whether a stored verifier (rolpassword) belongs to ``password``; False for md5 or garbage."""
    if not isinstance(verifier, str) or not verifier.startswith("SCRAM-SHA-256$"):
        return False
    try:
        params, keys = verifier[len("SCRAM-SHA-256$") :].split("$", 1)
        iterations, salt = params.split(":", 1)
        stored, server = keys.split(":", 1)
        stored_key, server_key = _keys(password, base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(_b64(stored_key), stored) and hmac.compare_digest(_b64(server_key), server)


# --- Reading the state ----------------------------------------------------------------------
CLUSTER_QUERY = """
SELECT json_build_object(
  'roles', (SELECT coalesce(json_agg(json_build_object(
      'name', a.rolname, 'login', a.rolcanlogin, 'password', a.rolpassword,
      'member_of', (SELECT coalesce(json_agg(DISTINCT g.rolname ORDER BY g.rolname), '[]')
                    FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                    WHERE m.member = a.oid))), '[]')
    FROM pg_authid a WHERE a.rolname !~ '^pg_'),
  'databases', (SELECT coalesce(json_agg(json_build_object(
      'name', d.datname, 'owner', pg_get_userbyid(d.datdba), 'encoding', pg_encoding_to_char(d.encoding),
      'locale', d.datcollate)), '[]')
    FROM pg_database d WHERE NOT d.datistemplate));
"""

DATABASE_QUERY = """
WITH objects AS (
  SELECT 'database' AS kind, '' AS schema, coalesce(datacl, acldefault('d'::"char", datdba)) AS acl
    FROM pg_database WHERE datname = current_database()
  UNION ALL
  SELECT 'schema', nspname, coalesce(nspacl, acldefault('n'::"char", nspowner))
    FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'
  UNION ALL
  SELECT CASE WHEN c.relkind = 'S' THEN 'sequences' ELSE 'tables' END, n.nspname,
         coalesce(c.relacl, acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
     AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  UNION ALL
  SELECT 'functions', n.nspname, coalesce(p.proacl, acldefault('f'::"char", p.proowner))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  UNION ALL
  SELECT 'default ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                                            WHEN 'f' THEN 'functions' ELSE d.defaclobjtype::text END,
         n.nspname, d.defaclacl
    FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
   WHERE d.defaclrole = (SELECT datdba FROM pg_database WHERE datname = current_database())
)
SELECT json_build_object(
  'database', current_database(),
  'extensions', (SELECT coalesce(json_agg(extname ORDER BY extname), '[]') FROM pg_extension),
  'schemas', (SELECT coalesce(json_agg(nspname), '[]') FROM pg_namespace),
  'totals', (SELECT coalesce(json_agg(json_build_array(kind, schema, n)), '[]')
               FROM (SELECT kind, schema, count(*) AS n FROM objects GROUP BY 1, 2) t),
  'acl', (SELECT coalesce(json_agg(json_build_array(kind, schema, grantee, privilege, n)), '[]')
            FROM (SELECT o.kind, o.schema,
                         CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END AS grantee,
                         x.privilege_type AS privilege, count(*) AS n
                    FROM objects o, aclexplode(o.acl) x GROUP BY 1, 2, 3, 4) t));
"""


def database_script(names):
    """One psql script that prints the state of each database, one JSON line each."""
    parts = []
    for name in names:
        parts.append(f"\\connect {ident(name)}\n{DATABASE_QUERY}")
    return "".join(parts)


class DatabaseState:
    """The privileges in one database, from DATABASE_QUERY's JSON."""

    def __init__(self, data):
        self.extensions = set(data.get("extensions", []))
        self.schemas = set(data.get("schemas", []))
        self.totals = {(kind, schema): count for kind, schema, count in data.get("totals", [])}
        self.acl = {
            (kind, schema, grantee, privilege): count
            for kind, schema, grantee, privilege, count in data.get("acl", [])
        }

    def has(self, kind, schema, role, privilege):
        """Whether ``role`` holds ``privilege`` on every object of the kind, and by default on new ones."""
        schema = schema or ""
        held = self.acl.get((kind, schema, role, privilege), 0)
        if kind in ("database", "schema"):
            return held > 0
        complete = held >= self.totals.get((kind, schema), 0)
        return complete and self.acl.get((f"default {kind}", schema, role, privilege), 0) > 0

    def holds_any(self, kind, schema, role, privilege):
        schema = schema or ""
        return any(self.acl.get((k, schema, role, privilege), 0) > 0 for k in (kind, f"default {kind}"))

    def public_database_privileges(self):
        return sorted(p for p in ALL["database"] if self.acl.get(("database", "", "PUBLIC", p), 0) > 0)


EMPTY_DATABASE = DatabaseState({})


def _expand(on, privileges):
    result = []
    for privilege in privileges:
        result.extend(ALL[on] if privilege == "ALL" else [privilege])
    return sorted(set(result))


def _grant_sql(grant, owner, revoke=False):
    privileges = ", ".join(grant["missing"])
    role = ident(grant["role"])
    verb, word = ("REVOKE", "FROM") if revoke else ("GRANT", "TO")
    on = grant["on"]
    if on == "database":
        return [f"{verb} {privileges} ON DATABASE {ident(grant['database'])} {word} {role};"]
    if on == "schema":
        return [f"{verb} {privileges} ON SCHEMA {ident(grant['schema'])} {word} {role};"]
    objects = SQL_OBJECTS[on]
    schema = ident(grant["schema"])
    return [
        f"{verb} {privileges} ON ALL {objects} IN SCHEMA {schema} {word} {role};",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(owner)} IN SCHEMA {schema}"
        f" {verb} {privileges} ON {objects} {word} {role};",
    ]


def _describe_grant(grant, revoke=False):
    target = f"database {grant['database']}"
    if grant["on"] == "schema":
        target = f"schema {grant['schema']} of {target}"
    elif grant["on"] != "database":
        target = f"all {grant['on']} in schema {grant['schema']} of {target}"
    return f"{', '.join(grant['missing'])} on {target} {'from' if revoke else 'to'} {grant['role']}"


class Plan:
    """What to change: messages for the user, and the psql script (cluster part, per database, drops)."""

    def __init__(self):
        self.changes = []
        self.warnings = []
        self.cluster = []  # statements run connected to the postgres database
        self.per_database = {}  # database -> statements run connected to it
        self.drops = []  # statements run last, connected to postgres
        self.secrets = []  # verifiers in the script, masked in anything reported

    def database(self, name):
        return self.per_database.setdefault(name, [])

    def script(self):
        parts = ["\\set ON_ERROR_STOP on\n", *(s + "\n" for s in self.cluster)]
        for name, statements in self.per_database.items():
            if statements:
                parts.append(f"\\connect {ident(name)}\n")
                parts.extend(s + "\n" for s in statements)
        if self.drops:
            parts.append("\\connect postgres\n")
            parts.extend(s + "\n" for s in self.drops)
        return "".join(parts)

    @property
    def changed(self):
        return bool(self.changes)


def _plan_roles(plan, roles, current):
    for role in roles:
        name = role["name"]
        have = current.get(name)
        if role["state"] == "absent":
            continue
        login = "LOGIN" if role["login"] else "NOLOGIN"
        password = role.get("password")
        if have is None:
            statement = f"CREATE ROLE {ident(name)} {login}"
            if password:
                verifier = scram_verifier(password)
                plan.secrets.append(verifier)
                statement += f" PASSWORD {literal(verifier)}"
            plan.cluster.append(statement + ";")
            plan.changes.append(f"create role {name}" + (" with a password" if password else ""))
            have = {"login": role["login"], "member_of": []}
        else:
            if have["login"] != role["login"]:
                plan.cluster.append(f"ALTER ROLE {ident(name)} {login};")
                plan.changes.append(f"set {login} on role {name}")
            if password and not scram_matches(password, have.get("password")):
                verifier = scram_verifier(password)
                plan.secrets.append(verifier)
                plan.cluster.append(f"ALTER ROLE {ident(name)} PASSWORD {literal(verifier)};")
                plan.changes.append(f"set the password of role {name}")
        for group in sorted(set(role["member_of"]) - set(have["member_of"])):
            plan.cluster.append(f"GRANT {ident(group)} TO {ident(name)};")
            plan.changes.append(f"make role {name} a member of {group}")
        for group in sorted(set(have["member_of"]) - set(role["member_of"])):
            plan.cluster.append(f"REVOKE {ident(group)} FROM {ident(name)};")
            plan.changes.append(f"remove role {name} from {group}")


def _plan_databases(plan, databases, current, states):
    for database in databases:
        name = database["name"]
        have = current.get(name)
        if database["state"] == "absent":
            if have is not None:
                plan.drops.append(f"DROP DATABASE {ident(name)} WITH (FORCE);")
                plan.changes.append(f"drop database {name}")
            continue
        state = states.get(name, EMPTY_DATABASE)
        if have is None:
            plan.cluster.append(
                f"CREATE DATABASE {ident(name)} OWNER {ident(database['owner'])} TEMPLATE template0"
                f" ENCODING {literal(database['encoding'])} LC_COLLATE {literal(database['locale'])}"
                f" LC_CTYPE {literal(database['locale'])};"
            )
            plan.changes.append(f"create database {name} owned by {database['owner']}")
            public = ["CONNECT", "TEMPORARY"]  # what PUBLIC gets on a new database
        else:
            if have["owner"] != database["owner"]:
                plan.cluster.append(f"ALTER DATABASE {ident(name)} OWNER TO {ident(database['owner'])};")
                plan.changes.append(f"change the owner of database {name} to {database['owner']}")
            if have["encoding"].upper().replace("-", "") != database["encoding"].upper().replace("-", ""):
                plan.warnings.append(
                    f"database {name} has encoding {have['encoding']}, not {database['encoding']};"
                    " an existing database keeps its encoding"
                )
            if have["locale"] != database["locale"]:
                plan.warnings.append(
                    f"database {name} has locale {have['locale']}, not {database['locale']};"
                    " an existing database keeps its locale"
                )
            public = state.public_database_privileges()
        if public:
            plan.cluster.append(f"REVOKE {', '.join(public)} ON DATABASE {ident(name)} FROM PUBLIC;")
            plan.changes.append(f"revoke {', '.join(public)} on database {name} from PUBLIC")
        for extension in database["extensions"]:
            if extension not in state.extensions:
                plan.database(name).append(f"CREATE EXTENSION IF NOT EXISTS {ident(extension)};")
                plan.changes.append(f"create extension {extension} in database {name}")


def _plan_grants(plan, grants, owners, states):
    for grant in grants:
        state = states.get(grant["database"], EMPTY_DATABASE)
        owner = owners.get(grant["database"], "postgres")
        privileges = _expand(grant["on"], grant["privileges"])
        if grant["state"] == "present":
            missing = [p for p in privileges if not state.has(grant["on"], grant["schema"], grant["role"], p)]
            revoke = False
        else:
            missing = [
                p for p in privileges if state.holds_any(grant["on"], grant["schema"], grant["role"], p)
            ]
            revoke = True
        if not missing:
            continue
        item = dict(grant, missing=missing)
        target = plan.cluster if grant["on"] == "database" else plan.database(grant["database"])
        target.extend(_grant_sql(item, owner, revoke))
        plan.changes.append(("revoke " if revoke else "grant ") + _describe_grant(item, revoke))


def _plan_role_drops(plan, roles, current, databases):
    doomed = [role["name"] for role in roles if role["state"] == "absent" and role["name"] in current]
    if not doomed:
        return
    names = ", ".join(ident(name) for name in doomed)
    for database in databases:
        plan.database(database).extend([f"REASSIGN OWNED BY {names} TO postgres;", f"DROP OWNED BY {names};"])
    plan.drops.append(f"DROP ROLE {names};")
    plan.changes.extend(f"drop role {name}" for name in doomed)


def plan(roles, databases, grants, cluster, states):
    """Compare the declaration with the server's state; the Plan that makes them equal.

    ``cluster`` is CLUSTER_QUERY's JSON, ``states`` maps the names of existing, declared
    databases to their DatabaseState.
    """
    result = Plan()
    current_roles = {role["name"]: role for role in cluster["roles"]}
    current_databases = {database["name"]: database for database in cluster["databases"]}
    _plan_roles(result, roles, current_roles)
    _plan_databases(result, databases, current_databases, states)
    owners = {db["name"]: db["owner"] for db in databases}
    _plan_grants(result, grants, owners, states)
    dropped = {db["name"] for db in databases if db["state"] == "absent"}
    remaining = [name for name in current_databases if name not in dropped and name != "template1"]
    _plan_role_drops(result, roles, current_roles, remaining)
    return result


def describe(roles, databases, grants, cluster, states):
    """A secret-free summary of the declared objects as they are now (the diff's 'before')."""
    current_roles = {role["name"]: role for role in cluster["roles"]}
    current_databases = {database["name"]: database for database in cluster["databases"]}
    lines = []
    for role in roles:
        have = current_roles.get(role["name"])
        if have is None:
            continue
        password = (
            "password: scram"
            if str(have.get("password") or "").startswith("SCRAM")
            else ("password: other" if have.get("password") else "password: none")
        )
        login = "login" if have["login"] else "nologin"
        lines.append(f"role {role['name']}: {login}, member of [{', '.join(have['member_of'])}], {password}")
    for database in databases:
        have = current_databases.get(database["name"])
        if have is None:
            continue
        state = states.get(database["name"], EMPTY_DATABASE)
        lines.append(
            f"database {database['name']}: owner {have['owner']},"
            f" extensions [{', '.join(sorted(state.extensions))}]"
        )
    for grant in grants:
        state = states.get(grant["database"], EMPTY_DATABASE)
        held = [
            p
            for p in _expand(grant["on"], grant["privileges"])
            if state.has(grant["on"], grant["schema"], grant["role"], p)
        ]
        if held:
            lines.append("grant " + _describe_grant(dict(grant, missing=held)))
    return "\n".join(lines) + ("\n" if lines else "")


def describe_declared(roles, databases, grants, cluster, states):
    """The same summary as ``describe`` for the declared state (the diff's 'after')."""
    current_roles = {role["name"]: role for role in cluster["roles"]}
    lines = []
    for role in roles:
        if role["state"] == "absent":
            continue
        have = current_roles.get(role["name"]) or {}
        kind = "none"
        if role.get("password"):
            kind = "scram"
        elif have.get("password"):
            kind = "scram" if str(have["password"]).startswith("SCRAM") else "other"
        login = "login" if role["login"] else "nologin"
        lines.append(
            f"role {role['name']}: {login}, member of [{', '.join(sorted(role['member_of']))}],"
            f" password: {kind}"
        )
    for database in databases:
        if database["state"] == "absent":
            continue
        extensions = set(database["extensions"]) | states.get(database["name"], EMPTY_DATABASE).extensions
        lines.append(
            f"database {database['name']}: owner {database['owner']},"
            f" extensions [{', '.join(sorted(extensions))}]"
        )
    for grant in grants:
        if grant["state"] == "present":
            lines.append(
                "grant " + _describe_grant(dict(grant, missing=_expand(grant["on"], grant["privileges"])))
            )
    return "\n".join(lines) + ("\n" if lines else "")
