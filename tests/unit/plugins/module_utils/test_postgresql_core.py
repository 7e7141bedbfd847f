# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the pure logic of groundwork.server.postgresql_objects."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._postgresql.core import (
    DatabaseState,
    describe,
    describe_declared,
    ident,
    literal,
    plan,
    scram_matches,
    scram_verifier,
)


def test_verifier_matches_its_password_only():
    verifier = scram_verifier("s3cret")
    assert verifier.startswith("SCRAM-SHA-256$4096:")
    assert scram_matches("s3cret", verifier)
    assert not scram_matches("s3cret!", verifier)
    assert scram_verifier("s3cret") != verifier  # random salt


def test_known_verifier():
    # The iteration count and the base64 salt in the form PostgreSQL stores (the Molecule scenario
    # proves that the server accepts these verifiers for logins).
    salt = bytes(range(16))
    verifier = scram_verifier("foo", salt=salt)
    assert verifier.split("$")[1] == "4096:AAECAwQFBgcICQoLDA0ODw=="
    assert scram_matches("foo", verifier)


@pytest.mark.parametrize(
    "stored", [None, "", "md5acbd18db4cc2f85cedef654fccc4a4d8", "SCRAM-SHA-256$x", "SCRAM-SHA-256$1:@@$a:b"]
)
def test_other_stored_passwords_never_match(stored):
    assert not scram_matches("foo", stored)


@pytest.mark.parametrize(("name", "quoted"), [("shop", '"shop"'), ('a"b', '"a""b"')])
def test_ident(name, quoted):
    assert ident(name) == quoted


def test_literal():
    assert literal("it's") == "'it''s'"


def role(name, password=None, login=True, member_of=(), state="present"):
    return {"name": name, "password": password, "login": login, "member_of": list(member_of), "state": state}


def database(name, owner="postgres", extensions=(), state="present"):
    return {
        "name": name, "owner": owner, "encoding": "UTF8", "locale": "C.UTF-8",
        "extensions": list(extensions), "state": state,
    }  # fmt: skip


def grant(role_name, db, on="database", privileges=("CONNECT",), schema=None, state="present"):
    return {
        "role": role_name, "database": db, "on": on, "schema": schema if on != "database" else None,
        "privileges": list(privileges), "state": state,
    }  # fmt: skip


EMPTY = {"roles": [{"name": "postgres", "login": True, "password": None, "member_of": []}], "databases": []}


def test_fresh_cluster_gets_everything_in_order():
    # (passwords with characters no SCRAM verifier has: base64 never contains "!" or "#")
    roles = [role("shop", "pw!"), role("readers", login=False), role("report", "pw#2", member_of=["readers"])]
    databases = [database("shop", "shop", ["pgcrypto"])]
    grants = [grant("readers", "shop"), grant("readers", "shop", "tables", ["SELECT"], "public")]
    todo = plan(roles, databases, grants, EMPTY, {})
    assert todo.changes == [
        "create role shop with a password",
        "create role readers",
        "create role report with a password",
        "make role report a member of readers",
        "create database shop owned by shop",
        "revoke CONNECT, TEMPORARY on database shop from PUBLIC",
        "create extension pgcrypto in database shop",
        "grant CONNECT on database shop to readers",
        "grant SELECT on all tables in schema public of database shop to readers",
    ]
    script = todo.script()
    assert "pw!" not in script and "pw#2" not in script
    assert len(todo.secrets) == 2
    assert all(secret in script for secret in todo.secrets)
    assert (
        script.index("CREATE DATABASE") < script.index('\\connect "shop"') < script.index("CREATE EXTENSION")
    )
    assert (
        'ALTER DEFAULT PRIVILEGES FOR ROLE "shop" IN SCHEMA "public" GRANT SELECT ON TABLES TO "readers";'
        in script
    )


def converged_state():
    cluster = {
        "roles": [
            {"name": "postgres", "login": True, "password": None, "member_of": []},
            {"name": "shop", "login": True, "password": scram_verifier("pw"), "member_of": []},
            {"name": "readers", "login": False, "password": None, "member_of": []},
        ],
        "databases": [{"name": "shop", "owner": "shop", "encoding": "UTF8", "locale": "C.UTF-8"}],
    }
    state = DatabaseState(
        {
            "database": "shop",
            "extensions": ["pgcrypto", "plpgsql"],
            "totals": [["database", "", 1], ["schema", "public", 1], ["tables", "public", 2]],
            "acl": [
                ["database", "", "shop", "CONNECT", 1],
                ["database", "", "readers", "CONNECT", 1],
                ["tables", "public", "readers", "SELECT", 2],
                ["default tables", "public", "readers", "SELECT", 1],
            ],
        }
    )
    return cluster, {"shop": state}


DECLARED = (
    [role("shop", "pw"), role("readers", login=False)],
    [database("shop", "shop", ["pgcrypto"])],
    [grant("readers", "shop"), grant("readers", "shop", "tables", ["SELECT"], "public")],
)


def test_converged_cluster_changes_nothing():
    cluster, states = converged_state()
    todo = plan(*DECLARED, cluster, states)
    assert todo.changes == []
    assert todo.secrets == []
    assert describe(*DECLARED, cluster, states) == describe_declared(*DECLARED, cluster, states)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r, d, g: r[0].update({"password": "new"}), "set the password of role shop"),
        (lambda r, d, g: r[1].update(login=True), "set LOGIN on role readers"),
        (lambda r, d, g: r[0].update(member_of=["readers"]), "make role shop a member of readers"),
        (lambda r, d, g: d[0].update(owner="readers"), "change the owner of database shop to readers"),
        (lambda r, d, g: d[0].update(extensions=["hstore"]), "create extension hstore in database shop"),
        (lambda r, d, g: g[1].update(privileges=["SELECT", "INSERT"]), "grant INSERT on all tables"),
        (lambda r, d, g: g[0].update(state="absent"), "revoke CONNECT on database shop from readers"),
        (lambda r, d, g: d[0].update(state="absent"), "drop database shop"),
        (lambda r, d, g: r[1].update(state="absent"), "drop role readers"),
    ],
)
def test_each_difference_is_one_change(change, expected):
    import copy

    cluster, states = converged_state()
    roles, databases, grants = copy.deepcopy(DECLARED)
    change(roles, databases, grants)
    todo = plan(roles, databases, grants, cluster, states)
    assert len(todo.changes) == 1, todo.changes
    assert todo.changes[0].startswith(expected)


def test_new_table_without_the_grant_is_a_change():
    cluster, states = converged_state()
    states["shop"].totals[("tables", "public")] = 3
    assert plan(*DECLARED, cluster, states).changes == [
        "grant SELECT on all tables in schema public of database shop to readers"
    ]


def test_public_connect_is_revoked_on_existing_database():
    cluster, states = converged_state()
    states["shop"].acl[("database", "", "PUBLIC", "CONNECT")] = 1
    assert plan(*DECLARED, cluster, states).changes == ["revoke CONNECT on database shop from PUBLIC"]


def test_encoding_difference_is_a_warning():
    cluster, states = converged_state()
    cluster["databases"][0]["locale"] = "en_US.UTF-8"
    todo = plan(*DECLARED, cluster, states)
    assert todo.changes == []
    assert todo.warnings == [
        "database shop has locale en_US.UTF-8, not C.UTF-8; an existing database keeps its locale"
    ]
