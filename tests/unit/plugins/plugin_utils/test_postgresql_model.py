# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for plugin_utils/_postgresql_model.py (the PostgreSQL role's validation and access)."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._database_contract import is_vaulted
from ansible_collections.groundwork.server.plugins.plugin_utils._postgresql_model import postgresql_model

GROUPS = {
    "all": ["app1", "app2", "db1", "lb1"],
    "ungrouped": [],
    "appservers": ["app1", "app2"],
    "dbservers": ["db1"],
    "loadbalancers": ["lb1"],
}
HOSTVARS = {
    "app1": {"firewall_addresses": ["10.0.1.1"]},
    "app2": {"firewall_addresses": ["10.0.1.2", "2001:db8::2"]},
    "db1": {"firewall_addresses": ["10.0.2.1"]},
    "lb1": {"firewall_addresses": ["10.0.0.1"]},
}
ROLES = [
    {"name": "shop", "password": "secret"},
    {"name": "shop_ro", "password": "secret2"},
    {"name": "readers", "login": False},
    {"name": "report", "password": "x", "member_of": ["readers"]},
]
DATABASES = [{"name": "shop", "owner": "shop", "extensions": ["pgcrypto"]}, {"name": "stats"}]
GRANTS = [
    {"role": "shop_ro", "database": "shop", "privileges": ["connect"]},
    {"role": "shop_ro", "database": "shop", "on": "tables", "privileges": ["SELECT"]},
    {"role": "readers", "database": "stats", "privileges": ["CONNECT"]},
]
FLOWS = [
    {"name": "app to db", "from": "appservers", "to": "dbservers", "service": "postgresql"},
    {"name": "lb to app", "from": "loadbalancers", "to": "appservers", "port": 8000},
]


def model(roles=None, host="db1", **kwargs):
    arguments = {
        "databases": DATABASES,
        "grants": GRANTS,
        "flows": FLOWS,
        "host": host,
        "groups": GROUPS,
        "hostvars": HOSTVARS,
        "reports": {},
    } | kwargs
    return postgresql_model(copy.deepcopy(ROLES if roles is None else roles), **copy.deepcopy(arguments))


def test_valid_input_gives_hba_from_flows():
    result = model()
    assert result["errors"] == []
    assert result["listen_addresses"] == "*"
    assert result["networks"] == ["10.0.1.1/32", "10.0.1.2/32", "2001:db8::2/128"]
    assert result["hba"] == [
        "local all postgres peer",
        "local all all scram-sha-256",
        "hostssl shop shop,shop_ro 127.0.0.1/32 scram-sha-256",
        "hostssl shop shop,shop_ro ::1/128 scram-sha-256",
        "hostssl shop shop,shop_ro 10.0.1.1/32 scram-sha-256",
        "hostssl shop shop,shop_ro 10.0.1.2/32 scram-sha-256",
        "hostssl shop shop,shop_ro 2001:db8::2/128 scram-sha-256",
        "hostssl stats report 127.0.0.1/32 scram-sha-256",
        "hostssl stats report ::1/128 scram-sha-256",
        "hostssl stats report 10.0.1.1/32 scram-sha-256",
        "hostssl stats report 10.0.1.2/32 scram-sha-256",
        "hostssl stats report 2001:db8::2/128 scram-sha-256",
    ]


def test_hba_never_trusts_never_plain_host_never_postgres_over_the_network():
    for line in model()["hba"]:
        columns = line.split()
        assert "trust" not in columns
        assert columns[0] in ("local", "hostssl")
        if columns[0] == "hostssl":
            assert "postgres" not in columns[2].split(",")
            assert columns[-1] == "scram-sha-256"


APPS = ["10.0.1.1/32", "10.0.1.2/32", "2001:db8::2/128"]


@pytest.mark.parametrize(
    ("flows", "networks", "listen", "expected"),
    [
        ([], [], "localhost", []),
        ([{"from": "appservers", "to": "appservers", "port": 5432}], [], "localhost", []),
        ([{"from": "appservers", "to": "dbservers", "port": 5433}], [], "localhost", []),
        ([{"from": "appservers", "to": "dbservers", "port": 5432, "proto": "udp"}], [], "localhost", []),
        ([{"from": "appservers", "to": "dbservers", "port": "5000-6000"}], [], "*", APPS),
        ([{"from": "appservers", "to": "dbservers", "port": [22, 5432]}], [], "*", APPS),
        ([{"from": "10.9.0.0/16", "to": "dbservers", "service": "postgresql"}], [], "*", ["10.9.0.0/16"]),
        ([], ["192.168.5.0/24"], "*", ["192.168.5.0/24"]),
    ],
)
def test_sources_and_listen_addresses(flows, networks, listen, expected):
    result = model(flows=flows, networks=networks)
    assert result["errors"] == []
    assert result["listen_addresses"] == listen
    assert result["networks"] == expected
    sources = [line.split()[3] for line in result["hba"] if line.startswith("hostssl shop ")]
    assert sources == ["127.0.0.1/32", "::1/128", *expected]


def test_only_the_flows_of_this_host_count():
    assert model(host="lb1")["listen_addresses"] == "localhost"


@pytest.mark.parametrize(
    "flows",
    [
        [{"name": "open", "from": "any", "to": "dbservers", "service": "postgresql"}],
        [{"name": "open", "from": "0.0.0.0/0", "to": "dbservers", "port": 5432}],
    ],
)
def test_any_source_is_refused_without_opt_in(flows):
    result = model(flows=flows)
    assert any("firewall_flows (open)" in e and "postgresql_allow_any_source" in e for e in result["errors"])
    opted = model(flows=flows, allow_any=True)
    assert opted["errors"] == []
    assert "hostssl shop shop,shop_ro 0.0.0.0/0 scram-sha-256" in opted["hba"]


def test_first_pass_lists_the_hosts_it_needs():
    result = model(hostvars={}, reports=None)
    assert result["errors"] == []
    assert result["needs"] == ["app1", "app2"]


def test_addresses_from_reports():
    reports = {"app1": "route4=src 172.18.0.3\n", "app2": "route4=src 172.18.0.4\n"}
    result = model(hostvars={}, reports=reports)
    assert result["errors"] == []
    assert result["networks"] == ["172.18.0.3/32", "172.18.0.4/32"]


def with_item(var, index, **changes):
    items = copy.deepcopy({"roles": ROLES, "databases": DATABASES, "grants": GRANTS}[var])
    items[index].update(changes)
    return items


ERRORS = {
    "unknown database in a grant": (
        {"grants": with_item("grants", 0, database="shp")},
        "postgresql_grants[0] (shop_ro on shp): database 'shp' is not a database declared present"
        " (known: 'shop', 'stats')",
    ),
    "grant to an undeclared role": (
        {"grants": with_item("grants", 0, role="nobody")},
        "postgresql_grants[0] (nobody on shop): role 'nobody' is not a role declared present",
    ),
    "privilege that does not fit": (
        {"grants": with_item("grants", 1, privileges=["EXECUTE"])},
        "postgresql_grants[1] (shop_ro on shop): privileges[0] 'EXECUTE' does not apply to tables",
    ),
    "grant on an unknown object type": (
        {"grants": with_item("grants", 1, on="views")},
        "postgresql_grants[1] (shop_ro on shop): on 'views' is not one of database, schema",
    ),
    "owner not declared": (
        {"databases": with_item("databases", 0, owner="shopp")},
        "postgresql_databases[0] (shop): owner 'shopp' is not a role declared present in postgresql_roles",
    ),
    "owner declared absent": (
        {"roles": with_item("roles", 0, state="absent")},
        "postgresql_databases[0] (shop): owner 'shop' is not a role declared present",
    ),
    "bad role name": (
        {"roles": with_item("roles", 0, name="Shop-App")},
        "postgresql_roles[0] (Shop-App): name 'Shop-App' is not valid",
    ),
    "reserved role name": (
        {"roles": with_item("roles", 0, name="postgres")},
        "postgresql_roles[0] (postgres): name 'postgres' is reserved",
    ),
    "duplicate role": (
        {"roles": with_item("roles", 1, name="shop")},
        "postgresql_roles[1] (shop): name 'shop' is already used by postgresql_roles[0] (shop)",
    ),
    "duplicate database": (
        {"databases": with_item("databases", 1, name="shop")},
        "postgresql_databases[1] (shop): name 'shop' is already used by postgresql_databases[0] (shop)",
    ),
    "database of the cluster": (
        {"databases": with_item("databases", 1, name="template1")},
        "postgresql_databases[1] (template1): name 'template1' is a database of the cluster itself",
    ),
    "unknown group in member_of": (
        {"roles": with_item("roles", 3, member_of=["writers"])},
        "postgresql_roles[3] (report): member_of[0] 'writers' is not a role declared present",
    ),
    "typo in a key": (
        {"roles": with_item("roles", 0, **{"pasword": "x"})},
        "postgresql_roles[0] (shop): unknown key(s) pasword",
    ),
    "bad state": (
        {"databases": with_item("databases", 1, state="gone")},
        "postgresql_databases[1] (stats): state 'gone' is not one of present, absent",
    ),
    "bad extension name": (
        {"databases": with_item("databases", 0, extensions=["pg crypto"])},
        "postgresql_databases[0] (shop): extensions[0] 'pg crypto' is not valid",
    ),
    "invalid CIDR": (
        {"networks": ["10.0.0.300/24"]},
        "postgresql_client_networks[0]: '10.0.0.300/24' is not an IP address or network",
    ),
    "CIDR with host bits": (
        {"networks": ["10.0.0.1/24"]},
        "postgresql_client_networks[0]: '10.0.0.1/24' has host bits set",
    ),
    "any network without opt-in": (
        {"networks": ["::/0"]},
        "postgresql_client_networks[0]: '::/0' allows every address",
    ),
    "setting the role owns": (
        {"settings": {"ssl": "off"}},
        "postgresql_settings.ssl: is set by the role itself",
    ),
    "setting with a line break": (
        {"settings": {"work_mem": "4MB\nfsync = off"}},
        "postgresql_settings.work_mem: '4MB\\nfsync = off' must be a number",
    ),
    "bad setting name": (
        {"settings": {"Work-Mem": "4MB"}},
        "postgresql_settings: name 'Work-Mem' is not a setting name",
    ),
    "bad port": ({"port": 70000}, "postgresql_port: port 70000 is out of range"),
    "flow errors are passed on": (
        {"flows": [{"name": "x", "from": "appserver", "to": "dbservers", "port": 5432}]},
        "firewall_flows[0] (x): from 'appserver' is not a group of the inventory",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_is_named(case):
    changes, expected = ERRORS[case]
    roles = changes.pop("roles", None)
    result = model(roles, **changes)
    assert any(error.startswith(expected) for error in result["errors"]), result["errors"]


class AnsibleVaultEncryptedUnicode(str):
    """Stands in for the vaulted string class of ansible-core before 2.19 (detected by its name)."""


class Encrypted(str):
    """Stands in for a vaulted value that only carries the marker attribute."""

    __ENCRYPTED__ = True


def vaulted_2_19(text):
    """A real 2.19 vaulted value: a decrypted string tagged with its ciphertext."""
    pytest.importorskip("ansible._internal._datatag._tags")
    from ansible._internal._datatag._tags import VaultedValue

    return VaultedValue(ciphertext="$ANSIBLE_VAULT;1.1;AES256\n0000").tag(text)


@pytest.mark.parametrize(
    ("make", "vaulted"),
    [
        (str, False),
        (AnsibleVaultEncryptedUnicode, True),
        (Encrypted, True),
        (vaulted_2_19, True),
    ],
)
def test_vaulted_passwords_are_detected(make, vaulted):
    assert is_vaulted(make("secret")) is vaulted
    roles = [{"name": "shop", "password": make("secret")}]
    result = postgresql_model(roles, host="db1", require_vaulted=True)
    assert bool(result["errors"]) is not vaulted
    if not vaulted:
        assert result["errors"] == [
            "postgresql_roles[0] (shop): password is given in clear, but postgresql_require_vaulted_passwords"
            " requires a vaulted variable (ansible-vault encrypt_string, or a variable from a vaulted file)"
        ]
    assert postgresql_model(roles, host="db1")["errors"] == []


def test_errors_never_show_passwords():
    roles = [{"name": "Bad Name", "password": "hunter2", "pasword": 1}]
    errors = postgresql_model(roles, host="db1", require_vaulted=True)["errors"]
    assert errors
    assert "hunter2" not in " ".join(errors)


def test_absent_items_get_no_access():
    databases = with_item("databases", 0, state="absent")
    result = model(databases=databases, grants=[])
    assert not any(line.startswith("hostssl shop ") for line in result["hba"])
