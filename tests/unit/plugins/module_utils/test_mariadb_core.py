# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the pure logic of groundwork.server.mariadb_objects."""

from __future__ import annotations

import json

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._mariadb.core import (
    MariadbError,
    State,
    db_display,
    db_pattern,
    describe,
    describe_declared,
    global_privileges,
    ident,
    needs_global_grants,
    plan,
    tables_query,
    validate,
)
from ansible_collections.groundwork.server.plugins.module_utils._mariadb.ed25519 import (
    ed25519_hash,
    native_hash,
    public_key,
)

# --- Hashes -----------------------------------------------------------------------------------
# Observed on MariaDB 10.11.19 (Debian 12) and 11.8.9 (Debian 13): authentication_string in
# mysql.global_priv after CREATE USER ... IDENTIFIED VIA ed25519 USING PASSWORD('...').
ED25519_SERVER = [
    ("secret", "ZIgUREUg5PVgQ6LskhXmO+eZLS0nC8be6HPjYWR4YJY"),
    ("x", "Gv2JI8Env2fd5YGonZ082tX3UAW+yJYldOlj4R1bfK4"),
    (
        "pässwörd with spaces and a much longer text than 32 bytes, really",
        "JZslFvssTVGGIViUHpaZIhytEgt5gcL0oeZPHRG++YE",
    ),
    ("", "4LH+dBF+G5W2CKTyId8xR3SyDqZoQjUNUVNxx8aWbG4"),  # 11.8 only; 10.11 stores '' for ''
]


@pytest.mark.parametrize(("password", "stored"), ED25519_SERVER)
def test_ed25519_hash_is_what_mariadb_stores(password, stored):
    assert ed25519_hash(password) == stored
    assert len(stored) == 43


def test_ed25519_public_key_rfc8032_test_1():
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    expected = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert public_key(seed).hex() == expected


@pytest.mark.parametrize(
    ("password", "stored"),
    [
        # observed with IDENTIFIED BY 'secret' / PASSWORD('y') / the module's 'legacy-pw'
        ("secret", "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"),
        ("y", "*7446F64EFCFB1294A6DE20CAE7E49C2377A9AA25"),
        ("legacy-pw", "*811CF7C52108A0BBDF2E4AAAA78AC518954C65E3"),
    ],
)
def test_native_hash_is_what_mariadb_stores(password, stored):
    assert native_hash(password) == stored


# --- Quoting ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "quoted"), [("shop", "`shop`"), ("a`b", "`a``b`"), ("t\\_%", "`t\\_%%`")])
def test_ident(name, quoted):
    assert ident(name) == quoted


def test_db_pattern_and_display():
    assert db_pattern("counter_app") == "counter\\_app"
    assert db_display("counter\\_app") == "counter_app"
    assert db_display("test\\_%") == "test\\_%"  # a pattern is shown as stored
    assert db_display("a_b") == "a_b"


def test_tables_query_passes_names_as_arguments():
    sql, args = tables_query(["b", "a", "b"])
    assert sql.endswith("IN (%s, %s)")
    assert args == ("a", "b")


def test_global_privileges_from_show_grants():
    lines = [
        "GRANT RELOAD, PROCESS ON *.* TO `o2`@`localhost` IDENTIFIED VIA unix_socket WITH GRANT OPTION",
        "GRANT SELECT ON `db`.* TO `o2`@`localhost`",
    ]
    assert global_privileges(lines) == ["RELOAD", "PROCESS", "GRANT OPTION"]
    assert global_privileges(["GRANT USAGE ON *.* TO `a`@`b`"]) == []


# --- Inputs and server rows -------------------------------------------------------------------
def user(name, hosts=("localhost",), pw="pw", plugin="ed25519", tls="ssl", state="present"):
    return {
        "name": name,
        "hosts": list(hosts),
        "password": pw,
        "plugin": plugin,
        "tls": tls,
        "state": state,
    }


def database(name, character_set="utf8mb4", collation="utf8mb4_unicode_ci", state="present"):
    return {"name": name, "character_set": character_set, "collation": collation, "state": state}


def grant(user_name, db, privileges, table="*", state="present"):
    return {"user": user_name, "database": db, "table": table, "privileges": list(privileges), "state": state}


def declare(users=(), databases=(), grants=(), secure=True):
    params = {
        "socket": "/run/mysqld/mysqld.sock",
        "secure": secure,
        "users": list(users),
        "databases": list(databases),
        "grants": list(grants),
    }
    return validate(params)


DB_COLUMNS = [
    "Host", "Db", "User", "Select_priv", "Insert_priv", "Update_priv", "Delete_priv", "Create_priv",
    "Drop_priv", "Grant_priv", "References_priv", "Index_priv", "Alter_priv", "Create_tmp_table_priv",
    "Lock_tables_priv", "Create_view_priv", "Show_view_priv", "Create_routine_priv", "Alter_routine_priv",
    "Execute_priv", "Event_priv", "Trigger_priv", "Delete_history_priv",
]  # fmt: skip
TABLE_PRIV = (
    "set('Select','Insert','Update','Delete','Create','Drop','Grant','References','Index','Alter',"
    "'Create View','Show view','Trigger','Delete versioning rows')"
)
DEBIAN_ROOT = {
    "access": 18446744073709551615,
    "plugin": "mysql_native_password",
    "authentication_string": "invalid",
    "auth_or": [{}, {"plugin": "unix_socket"}],
}


def priv(plugin="ed25519", string="", tls=None, **extra):
    document = {"access": 0, "plugin": plugin, "authentication_string": string, **extra}
    if tls is not None:
        document["ssl_type"] = tls
    return document


def db_row(name, host, db, privileges):
    row = {column: "N" for column in DB_COLUMNS[3:]}
    row.update(Host=host, Db=db, User=name)
    special = {"CREATE TEMPORARY TABLES": "Create_tmp_table_priv", "GRANT OPTION": "Grant_priv"}
    for privilege in privileges:
        row[special.get(privilege, privilege.capitalize().replace(" ", "_") + "_priv")] = "Y"
    return row


def results(accounts=None, db=(), tables_priv=(), schemata=(), ed25519=True, **extra):
    accounts = {("root", "localhost"): DEBIAN_ROOT, **(accounts or {})}
    data = {
        "accounts": [{"User": u, "Host": h, "Priv": json.dumps(p)} for (u, h), p in accounts.items()],
        "db": list(db),
        "db_columns": [{"COLUMN_NAME": c} for c in DB_COLUMNS],
        "table_priv_type": [{"COLUMN_TYPE": TABLE_PRIV}],
        "tables_priv": list(tables_priv),
        "columns_priv": [],
        "procs_priv": [],
        "roles_mapping": [],
        "schemata": [
            {"SCHEMA_NAME": n, "DEFAULT_CHARACTER_SET_NAME": c, "DEFAULT_COLLATION_NAME": o}
            for n, c, o in [("mysql", "utf8mb4", "utf8mb4_general_ci"), *schemata]
        ],
        "charsets": [{"CHARACTER_SET_NAME": c} for c in ("utf8mb4", "utf8mb3", "latin1")],
        "collations": [
            {"COLLATION_NAME": o, "CHARACTER_SET_NAME": c}
            for o, c in [
                ("utf8mb4_unicode_ci", "utf8mb4"),
                ("utf8mb4_general_ci", "utf8mb4"),
                ("latin1_swedish_ci", "latin1"),
            ]
        ],
        "plugins": [{"PLUGIN_STATUS": "ACTIVE"}] if ed25519 else [],
    }
    data.update(extra)
    return data


COUNTER_PRIVS = ("SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "INDEX", "ALTER", "DROP")
PW_HASH = ed25519_hash("pw")


def counter_declared(**kwargs):
    return declare(
        users=[user("counter", ["172.18.0.5", "10.1.0.0/255.255.0.0"], **kwargs)],
        databases=[database("counter")],
        grants=[grant("counter", "counter", COUNTER_PRIVS)],
    )


def counter_server(hosts=("172.18.0.5", "10.1.0.0/255.255.0.0"), privileges=COUNTER_PRIVS):
    return results(
        accounts={("counter", h): priv("ed25519", PW_HASH, tls=1) for h in hosts},
        db=[db_row("counter", h, "counter", privileges) for h in hosts],
        schemata=[("counter", "utf8mb4", "utf8mb4_unicode_ci")],
    )


# --- Planning ---------------------------------------------------------------------------------
def test_fresh_server_gets_everything_in_order():
    todo = plan(counter_declared(), State(results(ed25519=False)))
    assert todo.changes == [
        "plugin ed25519: installed",
        "user counter@172.18.0.5: created (ed25519, REQUIRE SSL)",
        "user counter@10.1.0.0/255.255.0.0: created (ed25519, REQUIRE SSL)",
        "database counter: created (utf8mb4, utf8mb4_unicode_ci)",
        "grant SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER on counter.*"
        " to counter@172.18.0.5: granted",
        "grant SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER on counter.*"
        " to counter@10.1.0.0/255.255.0.0: granted",
    ]
    assert todo.statements[:3] == [
        ("INSTALL SONAME %s", ("auth_ed25519",)),
        (
            "CREATE USER %s@%s IDENTIFIED VIA ed25519 USING %s REQUIRE SSL",
            ("counter", "172.18.0.5", PW_HASH),
        ),
        (
            "CREATE USER %s@%s IDENTIFIED VIA ed25519 USING %s REQUIRE SSL",
            ("counter", "10.1.0.0/255.255.0.0", PW_HASH),
        ),
    ]
    assert todo.statements[3] == (
        "CREATE DATABASE `counter` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        (),
    )
    assert todo.statements[4] == (
        "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER ON `counter`.* TO %s@%s",
        ("counter", "172.18.0.5"),
    )
    assert todo.secrets == [PW_HASH]


def test_unchanged_server_changes_nothing_and_the_diff_is_equal():
    declared = counter_declared()
    state = State(counter_server())
    todo = plan(declared, state)
    assert todo.changes == []
    assert not todo.changed
    assert describe(declared, state) == describe_declared(declared, state)
    assert PW_HASH not in describe(declared, state)


def test_native_password_unchanged_is_idempotent_and_changed_is_set():
    declared = declare(users=[user("legacy", pw="legacy-pw", plugin="mysql_native_password", tls="none")])
    stored = results(
        accounts={("legacy", "localhost"): priv("mysql_native_password", native_hash("legacy-pw"), 0)}
    )
    assert plan(declared, State(stored)).changes == []
    declared = declare(users=[user("legacy", pw="other", plugin="mysql_native_password", tls="none")])
    todo = plan(declared, State(stored))
    assert todo.changes == ["user legacy@localhost: password changed"]
    assert todo.statements == [
        (
            "ALTER USER %s@%s IDENTIFIED VIA mysql_native_password USING %s",
            ("legacy", "localhost", native_hash("other")),
        )
    ]


def test_password_plugin_and_tls_changes():
    declared = declare(users=[user("a", pw="new", tls="x509")])
    stored = results(accounts={("a", "localhost"): priv("mysql_native_password", native_hash("new"), 1)})
    assert plan(declared, State(stored)).changes == [
        "user a@localhost: authentication changed to ed25519",
        "user a@localhost: TLS requirement changed from SSL to X509",
    ]
    stored = results(accounts={("a", "localhost"): priv("ed25519", ed25519_hash("old"), 3)})
    todo = plan(declared, State(stored))
    assert todo.changes == [
        "user a@localhost: password changed",
        "user a@localhost: TLS requirement changed from SPECIFIED to X509",
    ]
    assert todo.statements[1] == ("ALTER USER %s@%s REQUIRE X509", ("a", "localhost"))


def test_an_or_chain_is_replaced_by_the_declared_method():
    chain = priv("ed25519", PW_HASH, 1, auth_or=[{"plugin": "unix_socket"}, {}])
    todo = plan(declare(users=[user("a")]), State(results(accounts={("a", "localhost"): chain})))
    assert todo.changes == ["user a@localhost: authentication changed to ed25519"]


def test_without_password_the_authentication_is_left_alone():
    declared = declare(users=[user("a", pw=None)])
    stored = results(accounts={("a", "localhost"): priv("mysql_native_password", native_hash("x"), 1)})
    todo = plan(declared, State(stored))
    assert todo.changes == []
    assert todo.warnings == [
        "users[0] (a): a@localhost does not authenticate via ed25519 only;"
        " without a password its authentication is left alone"
    ]
    assert "via mysql_native_password" in describe_declared(declared, State(stored))


def test_a_new_account_needs_a_password():
    with pytest.raises(
        MariadbError, match=r"users\[0\] \(a\): password is required to create the account a@h2"
    ):
        plan(
            declare(users=[user("a", ["h1", "h2"], pw=None)]),
            State(results(accounts={("a", "h1"): priv(tls=1)})),
        )


def test_accounts_on_other_hosts_and_absent_users_are_dropped():
    declared = declare(users=[user("counter", ["172.18.0.5"]), user("gone", state="absent")])
    stored = results(
        accounts={
            ("counter", "172.18.0.5"): priv("ed25519", PW_HASH, 1),
            ("counter", "10.1.0.0/255.255.0.0"): priv("ed25519", PW_HASH, 1),
            ("gone", "%"): priv(),
            ("gone", "localhost"): priv(),
            ("other", "%"): priv(),
        }
    )
    todo = plan(declared, State(stored))
    assert todo.changes == [
        "user counter@10.1.0.0/255.255.0.0: dropped (host not declared)",
        "user gone@%: dropped",
        "user gone@localhost: dropped",
    ]
    assert todo.statements[0] == ("DROP USER %s@%s", ("counter", "10.1.0.0/255.255.0.0"))


def test_hosts_are_compared_in_lower_case():
    declared = declare(users=[user("a", ["MyHost.Example"])])
    stored = results(accounts={("a", "myhost.example"): priv("ed25519", PW_HASH, 1)})
    assert plan(declared, State(stored)).changes == []


def test_removed_and_extra_privileges_are_revoked():
    declared = declare(
        users=[user("counter", ["172.18.0.5"])],
        grants=[grant("counter", "counter", ["SELECT", "INSERT"])],
    )
    stored = results(
        accounts={("counter", "172.18.0.5"): {**priv("ed25519", PW_HASH, 1), "access": 1344}},
        db=[
            db_row("counter", "172.18.0.5", "counter", ["SELECT", "INSERT", "DROP", "GRANT OPTION"]),
            db_row("counter", "172.18.0.5", "other", ["SELECT"]),
            db_row("counter", "172.18.0.5", "app\\_%", ["SELECT"]),
        ],
        tables_priv=[
            {
                "Host": "172.18.0.5",
                "Db": "counter",
                "User": "counter",
                "Table_name": "t",
                "Table_priv": "Insert",
            },
            {"Host": "172.18.0.5", "Db": "counter", "User": "counter", "Table_name": "u", "Table_priv": ""},
        ],
        columns_priv=[
            {
                "Host": "172.18.0.5",
                "Db": "counter",
                "User": "counter",
                "Table_name": "t",
                "Column_name": "a",
                "Column_priv": "Select,Update",
            },
        ],
        procs_priv=[
            {
                "Host": "172.18.0.5",
                "Db": "counter",
                "User": "counter",
                "Routine_name": "p",
                "Routine_type": "PROCEDURE",
                "Proc_priv": "Execute",
            },
        ],
        roles_mapping=[{"Host": "172.18.0.5", "User": "counter", "Role": "r1"}],
        global_grants={
            ("counter", "172.18.0.5"): [
                "GRANT RELOAD, PROCESS ON *.* TO `counter`@`172.18.0.5` IDENTIFIED VIA ed25519 USING"
                " 'x' WITH GRANT OPTION"
            ]
        },
    )
    todo = plan(declared, State(stored))
    assert todo.changes == [
        "global privileges RELOAD, PROCESS, GRANT OPTION of counter@172.18.0.5: revoked",
        "role r1 of counter@172.18.0.5: revoked",
        "grant EXECUTE on PROCEDURE counter.p to counter@172.18.0.5: revoked",
        "grant SELECT (a), UPDATE (a) on counter.t to counter@172.18.0.5: revoked",
        "grant SELECT on app\\_%.* to counter@172.18.0.5: revoked",
        "grant DROP, GRANT OPTION on counter.* to counter@172.18.0.5: revoked",
        "grant SELECT on other.* to counter@172.18.0.5: revoked",
        "grant INSERT on counter.t to counter@172.18.0.5: revoked",
    ]
    key = ("counter", "172.18.0.5")
    assert todo.statements == [
        ("REVOKE ALL PRIVILEGES ON *.* FROM %s@%s", key),
        ("REVOKE GRANT OPTION ON *.* FROM %s@%s", key),
        ("REVOKE `r1` FROM %s@%s", key),
        ("REVOKE EXECUTE ON PROCEDURE `counter`.`p` FROM %s@%s", key),
        ("REVOKE SELECT (`a`), UPDATE (`a`) ON `counter`.`t` FROM %s@%s", key),
        ("REVOKE SELECT ON `app\\_%%`.* FROM %s@%s", key),
        ("REVOKE DROP, GRANT OPTION ON `counter`.* FROM %s@%s", key),
        ("REVOKE SELECT ON `other`.* FROM %s@%s", key),
        ("REVOKE INSERT ON `counter`.`t` FROM %s@%s", key),
    ]


def test_global_privileges_without_show_grants_are_still_revoked():
    stored = results(accounts={("a", "localhost"): {**priv("ed25519", PW_HASH, 1), "access": 64}})
    declared = declare(users=[user("a")])
    assert needs_global_grants(stored, declared) == [("a", "localhost")]
    assert plan(declared, State(stored)).changes == ["global privileges of a@localhost: revoked"]


def test_database_names_with_underscore_are_escaped_in_grants():
    declared = declare(users=[user("a")], grants=[grant("a", "counter_app", ["SELECT"])])
    todo = plan(declared, State(results(accounts={("a", "localhost"): priv("ed25519", PW_HASH, 1)})))
    assert todo.statements == [("GRANT SELECT ON `counter\\_app`.* TO %s@%s", ("a", "localhost"))]
    assert todo.changes == ["grant SELECT on counter_app.* to a@localhost: granted"]
    stored = results(
        accounts={("a", "localhost"): priv("ed25519", PW_HASH, 1)},
        db=[db_row("a", "localhost", "counter\\_app", ["SELECT"])],
    )
    assert plan(declared, State(stored)).changes == []


ALL_DB = [_p for _p in DB_COLUMNS[3:] if _p != "Grant_priv"]


def test_all_matches_the_full_set_the_server_stores():
    every = [c[: -len("_priv")].replace("_", " ").upper() for c in ALL_DB]
    every = ["CREATE TEMPORARY TABLES" if p == "CREATE TMP TABLE" else p for p in every]
    assert len(every) == 19
    stored = results(
        accounts={("a", "localhost"): priv("ed25519", PW_HASH, 1)},
        db=[db_row("a", "localhost", "app", every)],
    )
    for privileges in (["ALL"], ["all privileges"], ["ALL", "SELECT"]):
        declared = declare(users=[user("a")], grants=[grant("a", "app", privileges)])
        assert plan(declared, State(stored)).changes == []
    declared = declare(
        users=[user("a")], grants=[grant("a", "app", ["ALL"]), grant("a", "app", ["DROP"], state="absent")]
    )
    todo = plan(declared, State(stored))
    assert todo.changes == ["grant DROP on app.* to a@localhost: revoked"]
    fresh = State(results(accounts={("a", "localhost"): priv("ed25519", PW_HASH, 1)}))
    todo = plan(declare(users=[user("a")], grants=[grant("a", "app", ["ALL"])]), fresh)
    assert todo.statements == [("GRANT ALL PRIVILEGES ON `app`.* TO %s@%s", ("a", "localhost"))]


def test_unknown_privilege_names_the_grant():
    declared = declare(users=[user("a")], grants=[grant("a", "app", ["SELECT", "FLY"])])
    with pytest.raises(
        MariadbError, match=r"grants\[0\] \(a on app\.\*\): privilege 'FLY' is not one of ALL"
    ):
        plan(declared, State(results()))
    declared = declare(users=[user("a")], grants=[grant("a", "app", ["EVENT"], table="t")])
    with pytest.raises(MariadbError, match=r"privilege 'EVENT' .*table-level"):
        plan(declared, State(results(tables=[{"TABLE_SCHEMA": "app", "TABLE_NAME": "t"}])))


def test_table_grants_need_the_table():
    declared = declare(users=[user("a")], grants=[grant("a", "app", ["SELECT"], table="hits")])
    account = {("a", "localhost"): priv("ed25519", PW_HASH, 1)}
    with pytest.raises(MariadbError, match=r"grants\[0\] \(a on app\.hits\): table app\.hits does not exist"):
        plan(declared, State(results(accounts=account)))
    todo = plan(
        declared, State(results(accounts=account, tables=[{"TABLE_SCHEMA": "app", "TABLE_NAME": "hits"}]))
    )
    assert todo.statements == [("GRANT SELECT ON `app`.`hits` TO %s@%s", ("a", "localhost"))]


def test_database_defaults_are_altered_and_absent_ones_dropped():
    declared = declare(
        databases=[database("app"), database("old", state="absent"), database("none", state="absent")]
    )
    stored = results(
        schemata=[("app", "latin1", "latin1_swedish_ci"), ("old", "utf8mb4", "utf8mb4_unicode_ci")]
    )
    todo = plan(declared, State(stored))
    assert todo.changes == [
        "database app: character set and collation changed from latin1, latin1_swedish_ci"
        " to utf8mb4, utf8mb4_unicode_ci",
        "database old: dropped",
    ]
    assert todo.statements == [
        ("ALTER DATABASE `app` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", ()),
        ("DROP DATABASE `old`", ()),
    ]


def test_character_sets_are_checked_against_the_server():
    declared = declare(databases=[database("app", "utf8", "utf8_general_ci")])
    with pytest.raises(
        MariadbError, match=r"databases\[0\] \(app\): character_set 'utf8' is not a character set"
    ):
        plan(declared, State(results()))
    declared = declare(databases=[database("app", "latin1", "latin1_german1_ci")])
    with pytest.raises(MariadbError, match=r"collation 'latin1_german1_ci' is not a collation"):
        plan(declared, State(results()))


# --- secure -----------------------------------------------------------------------------------
def test_debian_defaults_are_secure_already():
    assert plan(declare(), State(results())).changes == []


def test_secure_removes_what_a_fresh_installation_leaves_open():
    stored = results(
        accounts={
            ("root", "localhost"): priv(
                "mysql_native_password", native_hash("x"), auth_or=[{}, {"plugin": "unix_socket"}]
            ),
            ("root", "%"): priv("mysql_native_password", native_hash("x")),
            ("", "localhost"): priv("mysql_native_password", ""),
            ("", "%"): priv("mysql_native_password", ""),
        },
        db=[
            db_row("", "%", "test", ["SELECT"]),
            db_row("", "%", "test\\_%", ["SELECT"]),
            db_row("", "10.9.9.9", "test\\_%", ["SELECT"]),
            db_row("bob", "localhost", "test", ["SELECT"]),
        ],
        schemata=[("test", "latin1", "latin1_swedish_ci")],
    )
    todo = plan(declare(), State(stored))
    assert todo.changes == [
        "privileges on the test databases (test, test\\_%) in mysql.db: deleted",
        "anonymous account ''@%: dropped",
        "anonymous account ''@localhost: dropped",
        "account root@%: dropped",
        "account root@localhost: authentication set to unix_socket only",
        "database test: dropped",
    ]
    assert todo.statements[:3] == [
        ("DELETE FROM mysql.db WHERE User = %s AND Host = %s AND Db = %s", ("", "10.9.9.9", "test\\_%")),
        ("DELETE FROM mysql.db WHERE User = %s AND Host = %s AND Db = %s", ("bob", "localhost", "test")),
        ("FLUSH PRIVILEGES", ()),
    ]
    assert ("ALTER USER %s@%s IDENTIFIED VIA unix_socket", ("root", "localhost")) in todo.statements
    assert ("DROP DATABASE `test`", ()) in todo.statements
    assert plan(declare(secure=False), State(stored)).changes == []
    assert "account root@localhost: via unix_socket" in describe_declared(declare(), State(stored))


@pytest.mark.parametrize(
    ("methods", "changed"),
    [
        ([("unix_socket", "")], False),
        ([("mysql_native_password", "invalid"), ("unix_socket", "")], False),
        ([("mysql_native_password", ""), ("unix_socket", "")], True),  # no password at all
        ([("ed25519", PW_HASH)], True),
        ([("pam", "")], True),
    ],
)
def test_root_keeps_unix_socket_only(methods, changed):
    last = methods[-1]
    document = {"access": 1, "plugin": last[0], "authentication_string": last[1]}
    if len(methods) > 1:
        document["auth_or"] = [{"plugin": p, "authentication_string": s} for p, s in methods[:-1]] + [{}]
    todo = plan(declare(), State(results(accounts={("root", "localhost"): document})))
    assert todo.changed is changed


# --- Validation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"users": [user("counter", plugin="sha256")]},
         "users[0] (counter): plugin 'sha256' is not one of ed25519, mysql_native_password"),
        ({"users": [user("counter", tls="maybe")]},
         "users[0] (counter): tls 'maybe' is not one of none, ssl, x509"),
        ({"users": [user("counter", state="gone")]},
         "users[0] (counter): state 'gone' is not one of present, absent"),
        ({"users": [user("root")]}, "users[0] (root): root is a system account"),
        ({"users": [user("PUBLIC")]}, "users[0] (PUBLIC): PUBLIC is a system account"),
        ({"users": [user("a-b")]}, "users[0] (a-b): name must be 1 to 80"),
        ({"users": [user("a", hosts=[])]}, "users[0] (a): hosts must name at least one host"),
        ({"users": [user("a", hosts=["bad host"])]},
         "users[0] (a): hosts entry 'bad host' is not a MariaDB host"),
        ({"users": [user("a", pw="")]}, "users[0] (a): password must not be empty"),
        ({"users": [user("a"), user("a")]}, "users[1] (a): name is also declared by users[0]"),
        ({"databases": [database("mysql")]}, "databases[0] (mysql): name 'mysql' is a system database"),
        ({"databases": [database("test")]},
         "databases[0] (test): name 'test' is the database secure: true drops"),
        ({"databases": [database("a.b")]}, "databases[0] (a.b): name 'a.b' must be 1 to 64"),
        ({"databases": [database("a", "latin1")]},
         "databases[0] (a): collation 'utf8mb4_unicode_ci' does not belong to character_set 'latin1'"),
        ({"grants": [grant("nobody", "a", ["SELECT"])]},
         "grants[0] (nobody on a.*): user 'nobody' is not declared in users"),
        ({"users": [user("a")], "grants": [grant("a", "*", ["SELECT"])]},
         "grants[0] (a on *.*): database '*' (global privileges) is not managed"),
        ({"users": [user("a", state="absent")], "grants": [grant("a", "x", ["SELECT"])]},
         "grants[0] (a on x.*): user 'a' is declared absent"),
        ({"users": [user("a")], "grants": [grant("a", "x", [])]},
         "grants[0] (a on x.*): privileges must name at least one privilege"),
        ({"users": [user("a")], "grants": [grant("a", "x", ["SELECT"], table="a b")]},
         "grants[0] (a on x.a b): table must be '*' or 1 to 64"),
    ],
)  # fmt: skip
def test_validation_names_item_and_key(params, message):
    with pytest.raises(MariadbError) as error:
        declare(**params)
    assert message in str(error.value)


def test_validation_normalises():
    declared = declare(
        users=[user("a", hosts=["LocalHost", "localhost"])],
        grants=[grant("a", "x", ["select", "create  temporary tables", "ALL PRIVILEGES"])],
    )
    assert declared["users"][0]["hosts"] == ["localhost"]
    assert declared["grants"][0]["privileges"] == ["SELECT", "CREATE TEMPORARY TABLES", "ALL"]
    assert declare(databases=[database("test")], secure=False)["databases"][0]["name"] == "test"


def test_roles_are_not_accounts():
    stored = results(accounts={("r1", ""): {"access": 0, "is_role": True}, ("PUBLIC", ""): {"is_role": True}})
    assert ("r1", "") not in State(stored).accounts
    assert plan(declare(), State(stored)).changes == []
