# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts


@pytest.mark.parametrize(
    ("name", "which", "path"),
    [
        ("shop", "fullchain", "/etc/ssl/groundwork/shop/fullchain.pem"),
        ("shop", "privkey", "/etc/ssl/groundwork/shop/privkey.pem"),
        ("db.internal", "cert", "/etc/ssl/groundwork/db.internal/cert.pem"),
    ],
)
def test_certificate_files(name, which, path):
    assert contracts.certificate_file(name, which) == path


def test_hook_path():
    assert contracts.hook_path("shop", "nginx") == "/etc/groundwork/tls/hooks/shop.d/nginx"


@pytest.mark.parametrize(
    ("registered", "consumer", "names", "stale"),
    [
        ([], "nginx", ["shop"], []),
        (["/etc/groundwork/tls/hooks/shop.d/nginx"], "nginx", ["shop"], []),
        (
            ["/etc/groundwork/tls/hooks/old.d/nginx"],
            "nginx",
            ["shop"],
            ["/etc/groundwork/tls/hooks/old.d/nginx"],
        ),
        # another consumer's hook is not ours to remove
        (["/etc/groundwork/tls/hooks/old.d/postgresql"], "nginx", [], []),
        # a file that only looks like a hook, outside the hook directory
        (["/tmp/hooks/old.d/nginx", "/etc/groundwork/tls/hooks/nginx"], "nginx", [], []),
        (
            ["/etc/groundwork/tls/hooks/b.d/nginx", "/etc/groundwork/tls/hooks/a.d/nginx"],
            "nginx",
            [],
            ["/etc/groundwork/tls/hooks/a.d/nginx", "/etc/groundwork/tls/hooks/b.d/nginx"],
        ),
    ],
)
def test_stale_hooks(registered, consumer, names, stale):
    assert contracts.stale_hooks(registered, consumer, names) == stale


@pytest.mark.parametrize(
    ("name", "ssh_port", "ports"),
    [
        ("postgresql", 22, [("tcp", 5432)]),
        ("mariadb", 22, [("tcp", 3306)]),
        ("dns", 22, [("tcp", 53), ("udp", 53)]),
        ("ssh", 2222, [("tcp", 2222)]),
    ],
)
def test_service_ports(name, ssh_port, ports):
    assert contracts.service_ports(name, ssh_port) == ports


def test_every_role_named_in_the_catalogue_is_a_known_role():
    known = {"base", "dns", "nginx", "apache", "postgresql", "mariadb", "app"}
    assert {role for entry in contracts.CATALOGUE.values() for role in entry["roles"]} <= known


def test_flow_services_are_the_catalogue_without_the_app():
    assert set(contracts.SERVICES) == set(contracts.CATALOGUE) - {"app"}


@pytest.mark.parametrize(
    ("tier", "value", "name", "problem"),
    [
        ("loadbalancers", None, "nginx", None),
        ("loadbalancers", "", "nginx", None),
        ("loadbalancers", "nginx", "nginx", None),
        ("dbservers", None, "postgresql", None),
        ("appservers", None, "app", None),
        ("loadbalancers", "apache", "apache", None),
        ("dbservers", "mariadb", "mariadb", None),
        ("dbservers", "mysql", None, "groundwork_database: 'mysql' is not a server for the dbservers tier"),
        ("loadbalancers", "Nginx", None, "allowed: 'nginx' or 'apache'"),
        ("loadbalancers", ["nginx"], None, "groundwork_web_server: ['nginx'] is not a server"),
    ],
)
def test_choose_server(tier, value, name, problem):
    chosen, refusal = contracts.choose_server(tier, value)
    assert chosen == name
    if problem is None:
        assert refusal is None
    else:
        assert problem in refusal


def test_a_planned_server_is_refused_naming_the_ones_shipped(monkeypatch):
    roles = {"postgresql": "groundwork.server.postgresql", "oracle": None}
    monkeypatch.setitem(
        contracts.TIER_BY_NAME, "dbservers", dict(contracts.TIER_BY_NAME["dbservers"], roles=roles)
    )
    chosen, refusal = contracts.choose_server("dbservers", "oracle")
    assert chosen is None
    assert refusal.startswith(
        "groundwork_database: 'oracle' is planned but not part of groundwork.server yet;"
    )
    assert "can use 'postgresql' today" in refusal


def test_every_servable_role_has_a_changes_group():
    for tier in contracts.TIERS:
        for name in tier["roles"]:
            assert contracts.CHANGES_GROUPS[name].startswith("groundwork_")
