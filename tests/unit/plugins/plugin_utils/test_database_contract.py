# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine-neutral parts of the database contract: who may connect, and backups."""

from __future__ import annotations

import ipaddress
import re

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _database_contract as contract
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import Checker

GROUPS = {"appservers": ["app1", "app2"], "dbservers": ["db1"], "all": ["app1", "app2", "db1"]}
HOSTVARS = {
    "app1": {"firewall_addresses": ["10.0.0.11"]},
    "app2": {"firewall_addresses": ["10.0.0.12"]},
    "db1": {"firewall_addresses": ["10.0.0.21"]},
}
APP_TO_DB = [{"name": "app to db", "from": "appservers", "to": "dbservers", "port": 3306}]


def networks(prefix, engine, flows, port=3306, allow_any=False, hostvars=None, reports=None):
    check = Checker()
    found, needs = contract.flow_networks(
        check,
        prefix,
        engine,
        flows,
        port,
        allow_any,
        "db1",
        GROUPS,
        hostvars or HOSTVARS,
        reports or {},
        None,
    )
    return sorted(str(n) for n in found), needs, check


@pytest.mark.parametrize(("prefix", "engine"), [("postgresql", "PostgreSQL"), ("mariadb", "MariaDB")])
def test_the_flows_to_the_port_name_the_clients(prefix, engine):
    found, needs, check = networks(prefix, engine, APP_TO_DB)
    assert found == ["10.0.0.11/32", "10.0.0.12/32"]
    assert needs == [] and check.errors == []


def test_other_ports_and_protocols_give_nothing():
    flows = [
        {"name": "web", "from": "appservers", "to": "dbservers", "port": 443},
        {"name": "dns", "from": "appservers", "to": "dbservers", "port": 3306, "proto": "udp"},
    ]
    assert networks("mariadb", "MariaDB", flows)[0] == []


@pytest.mark.parametrize(("prefix", "engine"), [("postgresql", "PostgreSQL"), ("mariadb", "MariaDB")])
def test_any_source_is_refused_naming_the_engine_and_its_variable(prefix, engine):
    flows = [{"name": "world", "from": "any", "to": "dbservers", "port": 3306}]
    found, _needs, check = networks(prefix, engine, flows)
    assert found == []
    assert any(
        f"{engine} refuses that unless {prefix}_allow_any_source is true" in error for error in check.errors
    )
    found, _needs, check = networks(prefix, engine, flows, allow_any=True)
    assert found == ["0.0.0.0/0", "::/0"] and check.errors == []


def test_before_any_host_is_read_the_needed_hosts_are_listed():
    check = Checker()
    hostvars = {"app1": {}, "app2": {"firewall_addresses": ["10.0.0.12"]}, "db1": {}}
    found, needs = contract.flow_networks(
        check, "mariadb", "MariaDB", APP_TO_DB, 3306, False, "db1", GROUPS, hostvars, None, None
    )
    assert needs == ["app1"]
    assert [str(n) for n in found] == ["10.0.0.12/32"]


@pytest.mark.parametrize(
    ("given", "allow_any", "result", "problem"),
    [
        (["10.1.0.0/16"], False, ["10.1.0.0/16"], None),
        (["0.0.0.0/0"], False, [], "allows every address; set mariadb_allow_any_source: true"),
        (["0.0.0.0/0"], True, ["0.0.0.0/0"], None),
        (["not-a-network"], False, [], "mariadb_client_networks[0]"),
        ("10.1.0.0/16", False, [], "must be a list of networks"),
    ],
)
def test_client_networks(given, allow_any, result, problem):
    check = Checker()
    found = contract.client_networks(check, "mariadb", given, allow_any)
    assert [str(n) for n in found] == result
    if problem is None:
        assert check.errors == []
    else:
        assert any(problem in error for error in check.errors)


BACKUPS = {
    "mariadb_backup_dir": "/var/backups/mariadb",
    "mariadb_backup_keep": 7,
    "mariadb_backup_schedule": "*-*-* 02:30:00",
    "mariadb_backup_databases": [],
    "mariadb_databases": [{"name": "shop"}, {"name": "crm"}, {"name": "old", "state": "absent"}],
}
NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"mariadb_backup_databases": ["shop", "crm"]}, None),
        ({"mariadb_backup_dir": "var/backups"}, 'mariadb_backup_dir: "var/backups" is not an absolute path'),
        ({"mariadb_backup_dir": "/var/../etc"}, 'mariadb_backup_dir: "/var/../etc" is not'),
        ({"mariadb_backup_dir": "/"}, 'mariadb_backup_dir: "/" is not'),
        ({"mariadb_backup_dir": "/var/backups/x;rm"}, "mariadb_backup_dir"),
        ({"mariadb_backup_keep": 0}, "mariadb_backup_keep: 0 is not a number of at least 1 (a whole"),
        ({"mariadb_backup_keep": 2.5}, "mariadb_backup_keep: 2.5 is not a number of at least 1"),
        ({"mariadb_backup_keep": "07"}, 'mariadb_backup_keep: "07" is not'),
        ({"mariadb_backup_dir": "/etc"}, 'mariadb_backup_dir: "/etc" is not an absolute path under one of'),
        ({"mariadb_backup_dir": "/var/backups/x/"}, 'mariadb_backup_dir: "/var/backups/x/" is not'),
        ({"mariadb_backup_schedule": "sometimes"}, 'mariadb_backup_schedule: "sometimes" is not'),
        ({"mariadb_backup_schedule": "Mon..Fri 03:00 Europe/Berlin"}, None),
        (
            {"mariadb_backup_databases": ["old"]},
            'mariadb_backup_databases[0]: "old" is not a database declared',
        ),
        ({"mariadb_backup_enabled": "no"}, 'mariadb_backup_enabled: "no" is not true or false'),
        ({"mariadb_backup_keep": True}, "mariadb_backup_keep: true is not"),
        ({"mariadb_backup_schedule": "daily\nExecStart=/bin/sh"}, "mariadb_backup_schedule"),
        ({"mariadb_backup_databases": ["shop; DROP"]}, "mariadb_backup_databases"),
        ({"mariadb_backup_databases": "shop"}, "mariadb_backup_databases"),
    ],
)
def test_backup_settings(changes, problem):
    problems = contract.backup_problems("mariadb", {**BACKUPS, **changes}, NAME)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_the_any_networks_are_both_families():
    assert (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")) == contract.ANY
