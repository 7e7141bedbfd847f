# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for plugin_utils/_mariadb_model.py (the MariaDB role's validation and access)."""

from __future__ import annotations

import copy
import ipaddress

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._mariadb_model import (
    host_spec,
    mariadb_model,
    setting_value,
)

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
USERS = [
    {"name": "shop", "password": "secret"},
    {"name": "report", "password": "secret2", "plugin": "mysql_native_password", "tls": "x509"},
    {"name": "old", "state": "absent"},
]
DATABASES = [{"name": "shop"}, {"name": "stats", "character_set": "latin1", "collation": "latin1_swedish_ci"}]
GRANTS = [
    {"user": "shop", "database": "shop", "privileges": ["ALL"]},
    {"user": "report", "database": "shop", "table": "orders", "privileges": ["select"]},
    {"user": "report", "database": "stats", "privileges": ["SELECT", "show view"]},
]
FLOWS = [
    {"name": "app to db", "from": "appservers", "to": "dbservers", "service": "mariadb"},
    {"name": "lb to app", "from": "loadbalancers", "to": "appservers", "port": 8000},
]
APPS = ["10.0.1.1/32", "10.0.1.2/32", "2001:db8::2/128"]
APP_HOSTS = ["10.0.1.1", "10.0.1.2", "2001:db8::2"]


def model(users=None, host="db1", **kwargs):
    arguments = {
        "databases": DATABASES,
        "grants": GRANTS,
        "flows": FLOWS,
        "host": host,
        "groups": GROUPS,
        "hostvars": HOSTVARS,
        "reports": {},
        "certificate": "db",
    } | kwargs
    return mariadb_model(copy.deepcopy(USERS if users is None else users), **copy.deepcopy(arguments))


def test_valid_input_gives_accounts_from_the_flows():
    result = model()
    assert result["errors"] == [] and result["warnings"] == []
    assert result["needs"] == []
    assert result["bind_address"] == "*"
    assert result["networks"] == APPS
    assert result["users"] == [
        {
            "name": "shop",
            "password": "secret",
            "plugin": "ed25519",
            "tls": "ssl",
            "state": "present",
            "hosts": APP_HOSTS,
        },
        {
            "name": "report",
            "password": "secret2",
            "plugin": "mysql_native_password",
            "tls": "x509",
            "state": "present",
            "hosts": APP_HOSTS,
        },
        {"name": "old", "password": None, "plugin": "ed25519", "tls": "ssl", "state": "absent", "hosts": []},
    ]
    assert result["databases"] == [
        {"name": "shop", "character_set": "utf8mb4", "collation": "utf8mb4_unicode_ci", "state": "present"},
        {"name": "stats", "character_set": "latin1", "collation": "latin1_swedish_ci", "state": "present"},
    ]
    assert result["grants"] == [
        {"user": "shop", "database": "shop", "table": "*", "privileges": ["ALL"], "state": "present"},
        {
            "user": "report",
            "database": "shop",
            "table": "orders",
            "privileges": ["SELECT"],
            "state": "present",
        },
        {
            "user": "report",
            "database": "stats",
            "table": "*",
            "privileges": ["SELECT", "SHOW VIEW"],
            "state": "present",
        },
    ]
    assert result["settings"] == {}


# --- Accounts: one host specification per client network -----------------------------------


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ("10.0.3.4/32", "10.0.3.4"),
        ("10.0.3.4", "10.0.3.4"),
        ("192.168.5.0/24", "192.168.5.0/255.255.255.0"),
        ("10.0.0.0/8", "10.0.0.0/255.0.0.0"),
        ("172.16.0.0/12", "172.16.0.0/255.240.0.0"),
        ("10.9.8.0/31", "10.9.8.0/255.255.255.254"),
        ("0.0.0.0/0", "0.0.0.0/0.0.0.0"),
        ("2001:db8::9/128", "2001:db8::9"),
        ("2001:db8::/64", None),
        ("::/0", None),
    ],
)
def test_host_spec(network, expected):
    assert host_spec(ipaddress.ip_network(network)) == expected


@pytest.mark.parametrize(
    ("networks", "hosts"),
    [
        (["10.0.3.4/32"], [*APP_HOSTS[:2], "10.0.3.4", APP_HOSTS[2]]),
        (["192.168.5.0/24"], [*APP_HOSTS[:2], "192.168.5.0/255.255.255.0", APP_HOSTS[2]]),
        (["2001:db8::9/128"], [*APP_HOSTS, "2001:db8::9"]),
        # an address the flows give already is one account, not two
        (["10.0.1.1/32"], APP_HOSTS),
    ],
)
def test_client_networks_add_accounts(networks, hosts):
    result = model(networks=networks)
    assert result["errors"] == []
    assert [user["hosts"] for user in result["users"]] == [hosts, hosts, []]


def test_an_ipv6_network_has_no_account_and_is_refused():
    result = model(networks=["2001:db8:1::/64"])
    assert result["errors"] == [
        "mariadb_client_networks / firewall_flows: 2001:db8:1::/64 is an IPv6 network:"
        " MariaDB accounts match single IPv6 addresses only"
    ]


def test_an_ipv6_network_from_a_flow_is_refused_too():
    flows = [{"name": "v6", "from": "2001:db8:5::/48", "to": "dbservers", "port": 3306}]
    result = model(flows=flows)
    assert any("2001:db8:5::/48 is an IPv6 network" in error for error in result["errors"]), result["errors"]


@pytest.mark.parametrize(
    ("flows", "networks", "bind", "expected"),
    [
        ([], [], "127.0.0.1", []),
        # a flow between other groups, to another port, over UDP: no client
        ([{"from": "appservers", "to": "appservers", "port": 3306}], [], "127.0.0.1", []),
        ([{"from": "appservers", "to": "dbservers", "port": 3307}], [], "127.0.0.1", []),
        ([{"from": "appservers", "to": "dbservers", "port": 3306, "proto": "udp"}], [], "127.0.0.1", []),
        ([{"from": "appservers", "to": "dbservers", "service": "mysql"}], [], "*", APPS),
        ([{"from": "appservers", "to": "dbservers", "port": "3000-4000"}], [], "*", APPS),
        ([{"from": "appservers", "to": "dbservers", "port": [22, 3306]}], [], "*", APPS),
        ([{"from": "10.9.0.0/16", "to": "dbservers", "port": 3306}], [], "*", ["10.9.0.0/16"]),
        ([], ["192.168.5.0/24"], "*", ["192.168.5.0/24"]),
    ],
)
def test_sources_and_bind_address(flows, networks, bind, expected):
    result = model(flows=flows, networks=networks)
    assert result["errors"] == []
    assert result["bind_address"] == bind
    assert result["networks"] == expected


def test_no_client_means_loopback_only_and_a_warning():
    result = model(flows=[], certificate="")
    assert result["errors"] == []
    assert result["bind_address"] == "127.0.0.1"
    assert result["networks"] == []
    assert all(user["hosts"] == [] for user in result["users"])
    assert result["warnings"] == [
        "mariadb_users: no client may connect to port 3306 (no flow in firewall_flows, no"
        " mariadb_client_networks): the users have no account"
    ]


def test_no_warning_without_present_users():
    assert model(users=[], flows=[], grants=[])["warnings"] == []


def test_only_the_flows_of_this_host_count():
    result = model(host="lb1")
    assert result["bind_address"] == "127.0.0.1"
    assert result["networks"] == []


def test_another_port_follows_mariadb_port():
    flows = [{"name": "app to db", "from": "appservers", "to": "dbservers", "port": 3307}]
    assert model(flows=flows)["networks"] == []
    result = model(flows=flows, port=3307)
    assert result["errors"] == []
    assert result["networks"] == APPS


@pytest.mark.parametrize(
    ("flows", "networks", "certificate", "refused"),
    [
        (FLOWS, [], "", True),
        ([], ["192.168.5.0/24"], "", True),
        (FLOWS, [], "db", False),
        ([], [], "", False),
    ],
)
def test_the_certificate_is_required_when_clients_exist(flows, networks, certificate, refused):
    result = model(flows=flows, networks=networks, certificate=certificate)
    expected = [
        "mariadb_certificate: is empty, but clients may connect over the network (firewall_flows,"
        " mariadb_client_networks): name a certificate of groundwork.server.tls; the role accepts"
        " remote logins only over TLS"
    ]
    assert result["errors"] == (expected if refused else [])


@pytest.mark.parametrize(
    "flows",
    [
        [{"name": "open", "from": "any", "to": "dbservers", "service": "mariadb"}],
        [{"name": "open", "from": "0.0.0.0/0", "to": "dbservers", "port": 3306}],
    ],
)
def test_any_source_is_refused_without_opt_in(flows):
    result = model(flows=flows)
    assert any(
        error.startswith("firewall_flows (open): allows port 3306 from ")
        and "mariadb_allow_any_source" in error
        for error in result["errors"]
    ), result["errors"]
    # mariadb_allow_any_source is documented to accept a flow from "any" (argument_specs.yml)
    opted = model(flows=flows, allow_any=True)
    assert opted["errors"] == []
    assert "0.0.0.0/0.0.0.0" in opted["users"][0]["hosts"]


def test_first_pass_lists_the_hosts_it_needs():
    result = model(hostvars={}, reports=None)
    assert result["errors"] == []
    assert result["needs"] == ["app1", "app2"]


def test_addresses_from_reports():
    reports = {"app1": "route4=src 172.18.0.3\n", "app2": "route4=src 172.18.0.4\n"}
    result = model(hostvars={}, reports=reports)
    assert result["errors"] == []
    assert result["networks"] == ["172.18.0.3/32", "172.18.0.4/32"]
    assert result["users"][0]["hosts"] == ["172.18.0.3", "172.18.0.4"]


# --- Refusals: each names the variable, the item, the key and the value --------------------


def with_item(var, index, **changes):
    items = copy.deepcopy({"users": USERS, "databases": DATABASES, "grants": GRANTS}[var])
    items[index].update(changes)
    return items


def without_key(var, index, key):
    items = copy.deepcopy({"users": USERS, "databases": DATABASES, "grants": GRANTS}[var])
    del items[index][key]
    return items


ERRORS = {
    # users
    "users not a list": ({"users": {"name": "shop"}}, "mariadb_users: must be a list"),
    "user not a mapping": ({"users": ["shop"]}, "mariadb_users[0]: must be a mapping"),
    "user without a name": (
        {"users": [{"password": "x"}], "grants": []},
        "mariadb_users[0]: name None is not valid (expected a lower-case letter or '_'",
    ),
    "upper-case user name": (
        {"users": with_item("users", 0, name="Shop")},
        "mariadb_users[0] (Shop): name 'Shop' is not valid"
        " (expected a lower-case letter or '_', then up to 63",
    ),
    "user name with a dash": (
        {"users": with_item("users", 0, name="shop-app")},
        "mariadb_users[0] (shop-app): name 'shop-app' is not valid",
    ),
    "user name too long": (
        {"users": with_item("users", 0, name="a" * 65)},
        f"mariadb_users[0] ({'a' * 65}): name '{'a' * 65}' is not valid",
    ),
    "user name starting with a digit": (
        {"users": with_item("users", 0, name="1shop")},
        "mariadb_users[0] (1shop): name '1shop' is not valid",
    ),
    "duplicate user": (
        {"users": with_item("users", 1, name="shop")},
        "mariadb_users[1] (shop): name 'shop' is already used by mariadb_users[0] (shop)",
    ),
    "root": (
        {"users": with_item("users", 0, name="root")},
        "mariadb_users[0] (root): name 'root' is one of the server's own users",
    ),
    "mysql": (
        {"users": with_item("users", 0, name="mysql")},
        "mariadb_users[0] (mysql): name 'mysql' is one of the server's own users",
    ),
    "mariadb.sys's account": (
        {"users": with_item("users", 0, name="mariadb_sys")},
        "mariadb_users[0] (mariadb_sys): name 'mariadb_sys' is one of the server's own users",
    ),
    "debian-sys-maint": (
        {"users": with_item("users", 0, name="debian_sys_maint")},
        "mariadb_users[0] (debian_sys_maint): name 'debian_sys_maint' is one of the server's own users",
    ),
    "typo in a user key": (
        {"users": with_item("users", 0, **{"pasword": "x"})},
        "mariadb_users[0] (shop): unknown key(s) pasword (allowed: name, password, plugin, tls, state)",
    ),
    "unknown plugin": (
        {"users": with_item("users", 0, plugin="unix_socket")},
        "mariadb_users[0] (shop): plugin 'unix_socket' is not one of ed25519, mysql_native_password",
    ),
    "unknown tls": (
        {"users": with_item("users", 0, tls="required")},
        "mariadb_users[0] (shop): tls 'required' is not one of ssl, x509, none",
    ),
    "bad user state": (
        {"users": with_item("users", 0, state="gone")},
        "mariadb_users[0] (shop): state 'gone' is not one of present, absent",
    ),
    "present user without a password": (
        {"users": without_key("users", 0, "password")},
        "mariadb_users[0] (shop): password is required for a user that is present",
    ),
    "empty password": (
        {"users": with_item("users", 0, password="")},
        "mariadb_users[0] (shop): password must be a non-empty string on one line",
    ),
    "password over two lines": (
        {"users": with_item("users", 0, **{"password": "a\nb"})},
        "mariadb_users[0] (shop): password must be a non-empty string on one line",
    ),
    "password not a string": (
        {"users": with_item("users", 0, password=1234)},
        "mariadb_users[0] (shop): password must be a non-empty string on one line",
    ),
    # databases
    "databases not a list": ({"databases": "shop"}, "mariadb_databases: must be a list"),
    "bad database name": (
        {"databases": with_item("databases", 0, name="my-shop")},
        "mariadb_databases[0] (my-shop): name 'my-shop' is not valid (expected a lower-case letter",
    ),
    "duplicate database": (
        {"databases": with_item("databases", 1, name="shop")},
        "mariadb_databases[1] (shop): name 'shop' is already used by mariadb_databases[0] (shop)",
    ),
    "the mysql database": (
        {"databases": with_item("databases", 1, name="mysql")},
        "mariadb_databases[1] (mysql): name 'mysql' is a database of the server itself",
    ),
    "information_schema": (
        {"databases": with_item("databases", 1, name="information_schema")},
        "mariadb_databases[1] (information_schema): name 'information_schema'"
        " is a database of the server itself",
    ),
    "the test database": (
        {"databases": with_item("databases", 1, name="test")},
        "mariadb_databases[1] (test): name 'test' is a database of the server itself",
    ),
    "typo in a database key": (
        {"databases": with_item("databases", 0, charset="utf8mb4")},
        "mariadb_databases[0] (shop): unknown key(s) charset"
        " (allowed: name, character_set, collation, state)",
    ),
    "bad database state": (
        {"databases": with_item("databases", 1, state="dropped")},
        "mariadb_databases[1] (stats): state 'dropped' is not one of present, absent",
    ),
    "bad character set": (
        {"databases": with_item("databases", 0, character_set="utf-8")},
        "mariadb_databases[0] (shop): character_set 'utf-8' is not valid (expected like utf8mb4)",
    ),
    "bad collation": (
        {"databases": with_item("databases", 0, collation="utf8mb4 bin")},
        "mariadb_databases[0] (shop): collation 'utf8mb4 bin' is not valid (expected like utf8mb4_bin)",
    ),
    "collation of another character set": (
        {"databases": with_item("databases", 0, collation="latin1_swedish_ci")},
        "mariadb_databases[0] (shop): collation 'latin1_swedish_ci'"
        " is not a collation of the character set utf8mb4",
    ),
    "collation of a character set with the same prefix": (
        {"databases": with_item("databases", 1, character_set="utf8", collation="utf8mb4_bin")},
        "mariadb_databases[1] (stats): collation 'utf8mb4_bin' is not a collation of the character set utf8",
    ),
    # grants
    "grants not a list": ({"grants": {"user": "shop"}}, "mariadb_grants: must be a list"),
    "grant not a mapping": ({"grants": ["shop"]}, "mariadb_grants[0]: must be a mapping"),
    "grant to an undeclared user": (
        {"grants": with_item("grants", 0, user="nobody")},
        "mariadb_grants[0] (nobody on shop): user 'nobody' is not a user declared present in mariadb_users",
    ),
    "grant to a user declared absent": (
        {"grants": with_item("grants", 0, user="old")},
        "mariadb_grants[0] (old on shop): user 'old' is not a user declared present in mariadb_users",
    ),
    "grant on an undeclared database": (
        {"grants": with_item("grants", 0, database="shp")},
        "mariadb_grants[0] (shop on shp): database 'shp' is not a database declared present"
        " (known: 'shop', 'stats')",
    ),
    "grant on a database declared absent": (
        {"databases": with_item("databases", 1, state="absent")},
        "mariadb_grants[2] (report on stats): database 'stats' is not a database declared present"
        " (known: 'shop')",
    ),
    "grant without any database declared": (
        {"databases": []},
        "mariadb_grants[0] (shop on shop): database 'shop' is not a database declared present (known: none)",
    ),
    "typo in a grant key": (
        {"grants": with_item("grants", 0, privilege=["ALL"])},
        "mariadb_grants[0] (shop on shop): unknown key(s) privilege (allowed: user, database, table,"
        " privileges, state)",
    ),
    "bad grant state": (
        {"grants": with_item("grants", 0, state="revoked")},
        "mariadb_grants[0] (shop on shop): state 'revoked' is not one of present, absent",
    ),
    "privileges not a list": (
        {"grants": with_item("grants", 0, privileges="ALL")},
        "mariadb_grants[0] (shop on shop): privileges 'ALL' must be a non-empty list",
    ),
    "no privileges": (
        {"grants": with_item("grants", 0, privileges=[])},
        "mariadb_grants[0] (shop on shop): privileges [] must be a non-empty list",
    ),
    "an unknown privilege": (
        {"grants": with_item("grants", 0, privileges=["SELECT", "SUPER"])},
        "mariadb_grants[0] (shop on shop): privileges[1] 'SUPER' does not apply to a database"
        " (allowed: SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, CREATE VIEW,"
        " SHOW VIEW, TRIGGER, DELETE HISTORY, ALL, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE,"
        " CREATE ROUTINE, ALTER ROUTINE, EVENT)",
    ),
    "GRANT OPTION is not handed out": (
        {"grants": with_item("grants", 0, privileges=["GRANT OPTION"])},
        "mariadb_grants[0] (shop on shop): privileges[0] 'GRANT OPTION' does not apply to a database",
    ),
    "EVENT on a table": (
        {"grants": with_item("grants", 1, privileges=["select", "event"])},
        "mariadb_grants[1] (report on shop): privileges[1] 'EVENT' does not apply to a table"
        " (allowed: SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, CREATE VIEW,"
        " SHOW VIEW, TRIGGER, DELETE HISTORY, ALL)",
    ),
    "EXECUTE on a table": (
        {"grants": with_item("grants", 1, privileges=["EXECUTE"])},
        "mariadb_grants[1] (report on shop): privileges[0] 'EXECUTE' does not apply to a table",
    ),
    "LOCK TABLES on a table": (
        {"grants": with_item("grants", 1, privileges=["LOCK TABLES"])},
        "mariadb_grants[1] (report on shop): privileges[0] 'LOCK TABLES' does not apply to a table",
    ),
    "a table name with a dot": (
        {"grants": with_item("grants", 1, table="shop.orders")},
        "mariadb_grants[1] (report on shop): table 'shop.orders' is not valid (expected '*' (the database)"
        " or a table name)",
    ),
    "a table name with a backtick": (
        {"grants": with_item("grants", 1, table="orders`")},
        "mariadb_grants[1] (report on shop): table 'orders`' is not valid",
    ),
    "a table name with a wildcard": (
        {"grants": with_item("grants", 1, table="ord%")},
        "mariadb_grants[1] (report on shop): table 'ord%' is not valid",
    ),
    "an empty table name": (
        {"grants": with_item("grants", 1, table="")},
        "mariadb_grants[1] (report on shop): table '' is not valid",
    ),
    # settings
    "settings not a mapping": (
        {"settings": ["max_connections=10"]},
        "mariadb_settings: must be a mapping of variable name to value",
    ),
    "setting the role owns: bind_address": (
        {"settings": {"bind_address": "10.0.2.1"}},
        "mariadb_settings.bind_address: is set by the role itself (use its own variable)",
    ),
    "setting the role owns: require_secure_transport": (
        {"settings": {"require_secure_transport": False}},
        "mariadb_settings.require_secure_transport: is set by the role itself",
    ),
    "setting the role owns: local_infile": (
        {"settings": {"local_infile": "ON"}},
        "mariadb_settings.local_infile: is set by the role itself",
    ),
    "setting the role owns: ssl_cipher": (
        {"settings": {"ssl_cipher": "ALL"}},
        "mariadb_settings.ssl_cipher: is set by the role itself",
    ),
    "setting the role owns: datadir": (
        {"settings": {"datadir": "/srv/mysql"}},
        "mariadb_settings.datadir: is set by the role itself",
    ),
    "setting name with a dash": (
        {"settings": {"max-connections": 10}},
        "mariadb_settings: name 'max-connections' is not a variable name (lower-case, digits, '_')",
    ),
    "upper-case setting name": (
        {"settings": {"Max_Connections": 10}},
        "mariadb_settings: name 'Max_Connections' is not a variable name",
    ),
    "setting name with a space": (
        {"settings": {"max connections": 10}},
        "mariadb_settings: name 'max connections' is not a variable name",
    ),
    "setting name starting with '_'": (
        {"settings": {"_private": 1}},
        "mariadb_settings: name '_private' is not a variable name",
    ),
    "setting name that is not a string": (
        {"settings": {1: 10}},
        "mariadb_settings: name 1 is not a variable name",
    ),
    "value with a space": (
        {"settings": {"sql_mode": "STRICT_TRANS_TABLES, NO_ZERO_DATE"}},
        "mariadb_settings.sql_mode: 'STRICT_TRANS_TABLES, NO_ZERO_DATE'"
        " must be a number, true/false or a word",
    ),
    "value with a quote": (
        {"settings": {"init_connect": "SET NAMES 'utf8mb4'"}},
        "mariadb_settings.init_connect: \"SET NAMES 'utf8mb4'\" must be a number, true/false or a word",
    ),
    "value with a double quote": (
        {"settings": {"log_error": '"/var/log/x"'}},
        "mariadb_settings.log_error: '\"/var/log/x\"' must be a number, true/false or a word",
    ),
    "value with a line break": (
        {"settings": {"tmp_table_size": "64M\nskip_grant_tables"}},
        "mariadb_settings.tmp_table_size: '64M\\nskip_grant_tables' must be a number, true/false or a word",
    ),
    "value with a comment": (
        {"settings": {"tmp_table_size": "64M#x"}},
        "mariadb_settings.tmp_table_size: '64M#x' must be a number, true/false or a word",
    ),
    "value with a semicolon": (
        {"settings": {"tmp_table_size": "64M;"}},
        "mariadb_settings.tmp_table_size: '64M;' must be a number, true/false or a word",
    ),
    "value with a backslash": (
        {"settings": {"tmpdir": "C:\\tmp"}},
        "mariadb_settings.tmpdir: 'C:\\\\tmp' must be a number, true/false or a word",
    ),
    "value with an equals sign": (
        {"settings": {"optimizer_switch": "index_merge=off"}},
        "mariadb_settings.optimizer_switch: 'index_merge=off' must be a number, true/false or a word",
    ),
    "empty value": (
        {"settings": {"tmp_table_size": ""}},
        "mariadb_settings.tmp_table_size: '' must be a number, true/false or a word",
    ),
    "a dict value": (
        {"settings": {"tmp_table_size": {"size": "64M"}}},
        "mariadb_settings.tmp_table_size: {'size': '64M'} must be a number, true/false or a word of letters,"
        " digits and _ . , : / + @ * -",
    ),
    "a list value": (
        {"settings": {"sql_mode": ["STRICT_TRANS_TABLES"]}},
        "mariadb_settings.sql_mode: ['STRICT_TRANS_TABLES'] must be a number, true/false or a word",
    ),
    "a null value": (
        {"settings": {"tmp_table_size": None}},
        "mariadb_settings.tmp_table_size: None must be a number, true/false or a word",
    ),
    # access
    "bad port": ({"port": 70000}, "mariadb_port: port 70000 is out of range (expected a whole number from 1"),
    "port zero": ({"port": 0}, "mariadb_port: port 0 is out of range"),
    "invalid network": (
        {"networks": ["10.0.0.300/24"]},
        "mariadb_client_networks[0]: '10.0.0.300/24' is not an IP address or network",
    ),
    "network with host bits": (
        {"networks": ["10.0.0.1/24"]},
        "mariadb_client_networks[0]: '10.0.0.1/24' has host bits set",
    ),
    "networks not a list": (
        {"networks": "10.0.0.0/8"},
        "mariadb_client_networks: must be a list of networks",
    ),
    "every address without opt-in": (
        {"networks": ["0.0.0.0/0"]},
        "mariadb_client_networks[0]: '0.0.0.0/0' allows every address; set mariadb_allow_any_source: true",
    ),
    "flow errors are passed on": (
        {"flows": [{"name": "x", "from": "appserver", "to": "dbservers", "port": 3306}]},
        "firewall_flows[0] (x): from 'appserver' is not a group of the inventory",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_is_named(case):
    changes, expected = ERRORS[case]
    users = changes.pop("users", None)
    result = model(users, **changes)
    assert any(error.startswith(expected) for error in result["errors"]), result["errors"]


def test_every_problem_is_reported_at_once():
    users = [{"name": "root", "password": "x", "plugin": "pam", "tls": "any"}]
    result = model(users, databases=[{"name": "test"}], grants=[], settings={"port": 1, "a b": 1})
    assert result["errors"] == [
        "mariadb_users[0] (root): name 'root' is one of the server's own users",
        "mariadb_users[0] (root): plugin 'pam' is not one of ed25519, mysql_native_password",
        "mariadb_users[0] (root): tls 'any' is not one of ssl, x509, none",
        "mariadb_databases[0] (test): name 'test' is a database of the server itself",
        "mariadb_settings.port: is set by the role itself (use its own variable)",
        "mariadb_settings: name 'a b' is not a variable name (lower-case, digits, '_')",
    ]


# --- Accepted values and their normal form --------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "ON"),
        (False, "OFF"),
        (64, "64"),
        (0, "0"),
        (-1, "-1"),
        (0.5, "0.5"),
        ("64M", "64M"),
        ("on", "on"),
    ],
)
def test_setting_value(value, expected):
    assert setting_value(value) == expected


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"slow_query_log": True, "performance_schema": False},
            {"slow_query_log": "ON", "performance_schema": "OFF"},
        ),
        (
            {"max_heap_table_size": 67108864, "long_query_time": 0.5},
            {"max_heap_table_size": "67108864", "long_query_time": "0.5"},
        ),
        (
            {"tmp_table_size": "64M", "innodb_buffer_pool_size": "2G"},
            {"tmp_table_size": "64M", "innodb_buffer_pool_size": "2G"},
        ),
        ({"sql_mode": "STRICT_TRANS_TABLES,NO_ZERO_DATE"}, {"sql_mode": "STRICT_TRANS_TABLES,NO_ZERO_DATE"}),
        ({"transaction_isolation": "READ-COMMITTED"}, {"transaction_isolation": "READ-COMMITTED"}),
        ({"log_error": "/var/log/mysql/error.log"}, {"log_error": "/var/log/mysql/error.log"}),
        (
            {"innodb_data_file_path": "ibdata1:12M:autoextend"},
            {"innodb_data_file_path": "ibdata1:12M:autoextend"},
        ),
        ({}, {}),
    ],
)
def test_settings_are_normalised(settings, expected):
    result = model(settings=settings)
    assert result["errors"] == []
    assert result["settings"] == expected


@pytest.mark.parametrize(
    ("privileges", "table", "expected"),
    [
        (["select", "insert", "SELECT"], "*", ["INSERT", "SELECT"]),
        (["update", "delete", "select", "insert"], "orders", ["DELETE", "INSERT", "SELECT", "UPDATE"]),
        (["show view", "create view"], "*", ["CREATE VIEW", "SHOW VIEW"]),
        (
            ["Create Temporary Tables", "lock tables", "execute"],
            "*",
            ["CREATE TEMPORARY TABLES", "EXECUTE", "LOCK TABLES"],
        ),
        (
            ["create routine", "alter routine", "event", "trigger"],
            "*",
            ["ALTER ROUTINE", "CREATE ROUTINE", "EVENT", "TRIGGER"],
        ),
        (["delete history"], "Orders_2024", ["DELETE HISTORY"]),
        (["all"], "*", ["ALL"]),
        (["all"], "orders", ["ALL"]),
    ],
)
def test_privileges_are_upper_cased_and_sorted(privileges, table, expected):
    grants = [{"user": "shop", "database": "shop", "table": table, "privileges": privileges}]
    result = model(grants=grants)
    assert result["errors"] == []
    assert result["grants"] == [
        {"user": "shop", "database": "shop", "table": table, "privileges": expected, "state": "present"}
    ]


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        ({"name": "shop"}, ("utf8mb4", "utf8mb4_unicode_ci")),
        ({"name": "shop", "collation": "utf8mb4_bin"}, ("utf8mb4", "utf8mb4_bin")),
        ({"name": "shop", "collation": "uca1400_ai_ci"}, ("utf8mb4", "uca1400_ai_ci")),
        ({"name": "shop", "collation": "utf8mb4_uca1400_ai_ci"}, ("utf8mb4", "utf8mb4_uca1400_ai_ci")),
        ({"name": "shop", "character_set": "latin1", "collation": "latin1_bin"}, ("latin1", "latin1_bin")),
        (
            {"name": "shop", "character_set": "ascii", "collation": "ascii_general_ci"},
            ("ascii", "ascii_general_ci"),
        ),
        ({"name": "_shop2"}, ("utf8mb4", "utf8mb4_unicode_ci")),
    ],
)
def test_databases_get_their_character_set_and_collation(database, expected):
    grants = [{"user": "shop", "database": database["name"], "privileges": ["ALL"]}]
    result = model(databases=[database], grants=grants)
    assert result["errors"] == []
    found = result["databases"][0]
    assert (found["character_set"], found["collation"]) == expected


def test_absent_items_need_no_password_and_get_no_account():
    users = [{"name": "shop", "password": "x"}, {"name": "gone", "state": "absent"}]
    databases = [{"name": "shop"}, {"name": "old", "state": "absent"}]
    result = model(
        users, databases=databases, grants=[{"user": "shop", "database": "shop", "privileges": ["ALL"]}]
    )
    assert result["errors"] == []
    assert [(u["name"], u["hosts"]) for u in result["users"]] == [("shop", APP_HOSTS), ("gone", [])]
    assert [d["state"] for d in result["databases"]] == ["present", "absent"]


def test_an_absent_grant_is_kept_with_its_state():
    grants = [{"user": "shop", "database": "shop", "privileges": ["all"], "state": "absent"}]
    result = model(grants=grants)
    assert result["errors"] == []
    assert result["grants"][0]["state"] == "absent"


# --- Passwords --------------------------------------------------------------------------------


class AnsibleVaultEncryptedUnicode(str):
    """Stands in for the vaulted string class of ansible-core before 2.19 (detected by its name)."""


@pytest.mark.parametrize(("make", "vaulted"), [(str, False), (AnsibleVaultEncryptedUnicode, True)])
def test_clear_passwords_are_refused_when_vaulted_ones_are_required(make, vaulted):
    users = [{"name": "shop", "password": make("secret")}]
    result = mariadb_model(users, host="db1", reports={}, require_vaulted=True)
    expected = [
        "mariadb_users[0] (shop): password is given in clear, but mariadb_require_vaulted_passwords"
        " requires a vaulted variable (ansible-vault encrypt_string, or a variable from a vaulted file)"
    ]
    assert result["errors"] == ([] if vaulted else expected)
    assert mariadb_model(users, host="db1", reports={})["errors"] == []


def test_an_absent_user_needs_no_vaulted_password():
    users = [{"name": "gone", "state": "absent"}]
    assert mariadb_model(users, host="db1", reports={}, require_vaulted=True)["errors"] == []


def test_errors_never_show_passwords():
    users = [
        {"name": "Bad Name", "password": "hunter2", "pasword": 1},
        {"name": "root", "password": "hunter3\n"},
        {"name": "shop", "password": "hunter4", "plugin": "pam"},
    ]
    errors = mariadb_model(users, host="db1", reports={}, require_vaulted=True)["errors"]
    assert len(errors) >= 4
    text = " ".join(errors)
    for secret in ("hunter2", "hunter3", "hunter4"):
        assert secret not in text
