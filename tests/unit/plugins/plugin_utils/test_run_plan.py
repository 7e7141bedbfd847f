# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""site.yml's decision before anything changes: which roles run on a server, in which groups
it lands, and which packages are installed at once."""

from __future__ import annotations

import inspect

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _run_plan as rp
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import Change

UNCHANGED = rp.verdict(rp.UNCHANGED)


def roles(steps):
    return [step["role"] for step in steps]


@pytest.mark.parametrize(
    ("tiers", "expected"),
    [
        ({}, ["base", "firewall", "tls"]),
        ({"loadbalancers": "nginx"}, ["base", "firewall", "tls", "nginx"]),
        # the tiers in site.yml's order, whatever the order given: database, application, balancer
        (
            {"loadbalancers": "apache", "appservers": "app", "dbservers": "mariadb"},
            ["base", "firewall", "tls", "mariadb", "app", "apache"],
        ),
    ],
)
def test_the_roles_of_a_server_in_site_order(tiers, expected):
    assert roles(rp.steps(tiers)) == expected


def test_dns_runs_after_the_firewall_and_before_the_certificates_where_the_run_applies_it():
    assert roles(rp.steps({"dbservers": "postgresql"}, optional=["dns"])) == [
        "base",
        "firewall",
        "dns",
        "tls",
        "postgresql",
    ]
    dns = next(step for step in rp.steps({}, optional=["dns"]) if step["role"] == "dns")
    # the group roles/dns/tasks/plan.yml joins too, and playbooks/dns.yml applies to
    assert dns["groups"] == ["groundwork_dns_changes"] and dns["tier"] is None


@pytest.mark.parametrize(
    ("choice", "servers", "mode", "wanted"),
    [
        # auto: where the inventory has a DNS server, or publishes to an existing one
        ("auto", ["db1"], "serve", True),
        (None, ["db1"], "serve", True),
        ("", [], "serve", False),
        ("auto", [], "serve", False),
        ("AUTO", [None, ""], "serve", False),
        ("auto", [], "update", True),
        # true and false whatever the inventory (the role refuses an inventory without a server)
        (True, [], "serve", True),
        ("true", [], "serve", True),
        ("yes", [], "serve", True),
        (False, ["db1"], "serve", False),
        ("false", ["db1"], "update", False),
        ("no", ["db1"], "serve", False),
    ],
)
def test_groundwork_dns_says_whether_the_run_applies_dns(choice, servers, mode, wanted):
    assert rp.dns_wanted(choice, servers, mode) == (wanted, None)


@pytest.mark.parametrize("choice", ["sometimes", 1, ["auto"]])
def test_a_groundwork_dns_that_is_no_choice_is_refused(choice):
    wanted, problem = rp.dns_wanted(choice, ["db1"], "serve")
    assert wanted is False
    assert problem == f"groundwork_dns: {choice!r} is not a choice (allowed: 'auto', true or false)."


def test_each_role_names_the_groups_its_plays_apply_to():
    steps = {step["role"]: step for step in rp.steps({"dbservers": "postgresql", "appservers": "app"})}
    assert steps["base"]["groups"] == ["groundwork_base_changes"]
    assert steps["tls"]["groups"] == ["groundwork_tls_changes"]
    assert steps["postgresql"]["groups"] == ["groundwork_postgresql_changes", "groundwork_dbservers_changes"]
    assert steps["app"]["groups"] == ["groundwork_app_deploy", "groundwork_appservers_changes"]


def _decide(tiers, verdicts):
    asked = []

    def verdict_of(step):
        asked.append(step["role"])
        return verdicts.get(step["role"], UNCHANGED)

    return rp.decide(rp.steps(tiers), verdict_of), asked


@pytest.mark.parametrize(
    ("verdicts", "run"),
    [
        # nothing changes: nothing runs
        ({}, []),
        # the first role that changes runs, and every role after it (they decide again after it)
        (
            {"firewall": rp.verdict("1 change: table inet groundwork: does not exist")},
            ["firewall", "tls", "nginx"],
        ),
        ({"base": rp.verdict("x")}, ["base", "firewall", "tls", "nginx"]),
        # only the last role changes: only it runs
        ({"nginx": rp.verdict("1 change: file /etc/nginx/nginx.conf: content differs")}, ["nginx"]),
    ],
)
def test_a_server_runs_the_first_role_that_changes_it_and_every_role_after_it(verdicts, run):
    decided, asked = _decide({"loadbalancers": "nginx"}, verdicts)
    assert decided["run"] == run
    # every role is asked (the packages of all of them are installed at once)
    assert asked == ["base", "firewall", "tls", "nginx"]
    for role in run:
        assert decided["reasons"][role] == (verdicts[role]["reason"] if role in verdicts else rp.LATER)
    assert set(decided["reasons"]) == set(run)


def test_the_groups_are_those_of_the_roles_that_run_and_their_extra_groups():
    decided, _asked = _decide(
        {"appservers": "app", "dbservers": "postgresql"},
        {"tls": rp.verdict("x"), "app": rp.verdict("y", groups=[rp.FIRST_DEPLOY_GROUP])},
    )
    assert decided["groups"] == [
        "groundwork_tls_changes",
        "groundwork_postgresql_changes",
        "groundwork_dbservers_changes",
        "groundwork_app_deploy",
        "groundwork_appservers_changes",
        rp.FIRST_DEPLOY_GROUP,
    ]


def test_the_packages_of_every_role_are_collected_once_each():
    decided, _asked = _decide(
        {"dbservers": "postgresql"},
        {
            "base": rp.verdict("x", ["sudo", "python3-apt"]),
            "tls": rp.verdict("x", ["openssl", "python3-apt"]),
            "postgresql": rp.verdict("x", ["postgresql"]),
        },
    )
    assert decided["packages"] == ["sudo", "python3-apt", "openssl", "postgresql"]


def test_a_plan_installs_the_packages_it_lists_as_changes():
    changes = [
        Change("package", "nginx", "not installed"),
        Change("file", "/etc/nginx/nginx.conf", "does not exist"),
        Change("package", "ssl-cert=1.1", "not installed"),
    ]
    assert rp.packages_of(changes) == ["nginx", "ssl-cert=1.1"]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "1 change: c0"),
        (3, "3 changes: c0; c1; c2"),
        (5, "5 changes: c0; c1; c2; and 2 more"),
    ],
)
def test_a_reason_shows_the_first_changes(count, expected):
    assert rp.summary([f"c{i}" for i in range(count)]) == expected


@pytest.mark.parametrize(
    ("name", "data", "groups"),
    [
        ("app", {"first_deploy": True}, [rp.FIRST_DEPLOY_GROUP]),
        ("app", {"first_deploy": False}, []),
        ("nginx", {"first_deploy": True}, []),
    ],
)
def test_an_application_server_without_a_release_is_deployed_with_the_new_ones(name, data, groups):
    assert rp.extra_groups(name, data) == groups


def test_the_grouping_puts_a_server_into_each_group_through_one_shared_by_the_same_set():
    assert rp.grouping([]) == {}
    found = rp.grouping(["groundwork_tls_changes", "groundwork_packages_missing"])
    assert found["parent_groups"] == ["groundwork_tls_changes", "groundwork_packages_missing"]
    assert found["add_group"].startswith(rp.DECIDED_PREFIX)
    # the same set in another order: the same group; another set: another group
    assert (
        rp.grouping(["groundwork_packages_missing", "groundwork_tls_changes"])["add_group"]
        == found["add_group"]
    )
    assert rp.grouping(["groundwork_tls_changes"])["add_group"] != found["add_group"]


def test_the_inventory_applies_the_grouping_as_it_applies_group_by(tmp_path):
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    hosts = tmp_path / "hosts.ini"
    hosts.write_text("db1\napp1\napp2\nlb1\n")
    inventory = InventoryManager(loader=DataLoader(), sources=[str(hosts)])
    # ansible-core 2.21 takes the host's name and an AddGroup, earlier cores the host and the result
    by_name = "host_name" in inspect.signature(inventory.add_dynamic_group).parameters
    decided = {
        "db1": ["groundwork_tls_changes", "groundwork_postgresql_changes", rp.PACKAGES_GROUP],
        "app1": ["groundwork_tls_changes"],
        "app2": ["groundwork_tls_changes"],
        "lb1": [],
    }
    for name, groups in decided.items():
        result = rp.grouping(groups)
        if result:
            if by_name:  # what ActionBase.add_group sends the controller's inventory
                from ansible._internal._task import AddGroup

                info = AddGroup(group_name=result["add_group"], parent_group_names=result["parent_groups"])
                inventory.add_dynamic_group(name, info)
            else:
                inventory.add_dynamic_group(inventory.get_host(name), result)

    def members(group):
        return sorted(host.name for host in inventory.get_hosts(group))

    assert members("groundwork_tls_changes") == ["app1", "app2", "db1"]
    assert members("groundwork_postgresql_changes") == ["db1"]
    assert members(rp.PACKAGES_GROUP) == ["db1"]
    assert inventory.get_groups_dict()["groundwork_tls_changes"] == ["db1", "app1", "app2"]
    assert "lb1" not in inventory.get_groups_dict()["groundwork_tls_changes"]
