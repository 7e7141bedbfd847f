# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork.server.firewall's decision (plugin_utils/_firewall_role.py): validate, request, plan."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._nftables import core
from ansible_collections.groundwork.server.plugins.plugin_utils import _firewall_role as role

BODY = "chain input {\n  type filter hook input priority filter; policy drop;\n}"
NFT = "/usr/sbin/nft"
DEBIAN = {"id": "debian", "name": "Debian GNU/Linux", "version_id": "12", "version": "12.8"}
INSTALLED = {"nftables": "installed", "python3-apt": "installed"}
GROUPS = {"all": ["db1", "app1", "far1"], "dbservers": ["db1"], "appservers": ["app1"], "far": ["far1"]}
FLOWS = [{"name": "app-to-db", "from": "appservers", "to": "dbservers", "service": "postgresql"}]


def report(v4=None, ssh="198.51.100.7 50022 10.0.0.20 22"):
    return f"ssh={ssh}\nroute4=src {v4}\nroute6=\n" if v4 else f"ssh={ssh}\nroute4=\nroute6=\n"


def converged(content=BODY):
    spec = core.TableSpec(name="groundwork", content=content)
    paths = core.paths_for(spec)
    listing = core.digest(core.normalize("table inet groundwork {\n}\n"))
    return {
        "nft": NFT,
        "live": listing,
        "applied": listing,
        "pending": False,
        "persist": core.digest(core.persist_text(spec, paths)),
        "unit": core.digest(core.unit_text(spec, paths, NFT)),
        "unit_enabled": "enabled",
        "readable": True,
        "paths": core.observed_paths(spec),
    }


class Context:
    def __init__(self, hostvars=None, check_mode=False):
        self.host = "db1"
        self.groups = GROUPS
        self.hostvars = hostvars if hostvars is not None else {"db1": {}, "app1": {}, "far1": {}}
        self.check_mode = check_mode
        self.rendered = []

    def render(self, template, **extra):
        self.rendered.append((template, extra))
        return BODY


def inspection(**changes):
    return {
        "report": report("10.0.0.20"),
        "table": converged(),
        "os": DEBIAN,
        "packages": INSTALLED,
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "check_mode", "expected", "data"),
    [
        ({}, False, [], {"install": False, "report_install": False, "load": True}),
        (
            {"table": {**converged(), "live": None}},
            False,
            [("table", "inet groundwork", "does not exist")],
            {"load": True},
        ),
        (
            {"table": {**converged(), "pending": True}},
            False,
            [("table", "inet groundwork", "a change waits for confirmation")],
            {},
        ),
        (
            {"table": converged(BODY.replace("drop", "accept"))},
            False,
            [
                (
                    "table",
                    "inet groundwork",
                    "differs from the computed rules, or is not confirmed and persisted for boot",
                )
            ],
            {},
        ),
        (
            {"table": {**converged(), "readable": False}},
            False,
            [("table", "inet groundwork", "could not be read completely")],
            {},
        ),
        (
            {"packages": {"python3-apt": "installed"}, "table": {**converged(), "nft": None}},
            False,
            [("package", "nftables", "not installed"), ("table", "inet groundwork", "nft is not installed")],
            {"packages": ["nftables"], "install": True, "report_install": False, "load": True},
        ),
        (
            {"packages": {}, "table": {**converged(), "nft": None}},
            True,
            [("package", "nftables", "not installed"), ("table", "inet groundwork", "nft is not installed")],
            {"install": False, "report_install": True, "load": False},
        ),
        (
            {"packages": {"python3-apt": "installed"}, "table": {**converged(), "nft": None}},
            True,
            [("package", "nftables", "not installed"), ("table", "inet groundwork", "nft is not installed")],
            {"install": True, "report_install": False, "load": False},
        ),
    ],
)
def test_the_plan(changes, check_mode, expected, data):
    firewall = {"own": {"connection_port": 22}, "ssh": {"port": 22}, "warnings": []}
    plan = role.decide(firewall, inspection(**changes), BODY, check_mode, 60)
    assert plan.problems == []
    assert [(c.kind, c.target, c.reason) for c in plan.changes] == expected
    assert {key: plan.data[key] for key in data} == data
    assert plan.data["reconnect_timeout"] == 40 and plan.data["rollback_wait"] == 23


@pytest.mark.parametrize(
    ("os_release", "problem"),
    [
        (
            {"id": "ubuntu", "name": "Ubuntu", "version": "24.04"},
            "supports Debian 12 and 13; this host runs Ubuntu 24.04",
        ),
        ({**DEBIAN, "version_id": "11", "version": "11.9"}, "this host runs Debian GNU/Linux 11.9"),
    ],
)
def test_an_unsupported_release_is_a_problem(os_release, problem):
    firewall = {"own": {"connection_port": 22}, "ssh": {"port": 22}, "warnings": []}
    plan = role.decide(firewall, inspection(os=os_release), BODY, False)
    assert len(plan.problems) == 1 and problem in plan.problems[0]
    assert plan.changes == []


def test_a_body_that_leaves_the_table_is_a_problem():
    firewall = {"own": {"connection_port": 22}, "ssh": {"port": 22}, "warnings": []}
    plan = role.decide(firewall, inspection(), "} table ip nat {", False)
    assert "closes the block of table inet groundwork" in plan.problems[0]


@pytest.mark.parametrize(
    ("connection_port", "ssh_port", "note"),
    [
        (22, 22, ""),
        (None, 2222, ""),
        (22, 2222, " (it arrives on port 22, the rules allow SSH on port 2222)"),
    ],
)
def test_port_note(connection_port, ssh_port, note):
    assert role.port_note({"own": {"connection_port": connection_port}, "ssh": {"port": ssh_port}}) == note


@pytest.mark.parametrize(("timeout", "reconnect"), [(60, 40), (15, 10), (10, 6), (3600, 2400)])
def test_reconnect_timeout(timeout, reconnect):
    assert role.reconnect_timeout(timeout) == reconnect


def test_step_one_validates_without_addresses_and_lists_the_hosts_outside_the_play():
    inputs = {"firewall_flows": [*FLOWS, {"name": "far", "from": "far", "to": "dbservers", "port": 7000}]}
    inputs["ansible_play_hosts"] = ["db1", "app1"]
    model, problems = role.validate(inputs, Context())
    assert problems == []
    assert model == {"step": "inspect", "outside": ["far1"]}
    request = role.request(model, Context())
    assert request["packages"] == ["nftables", "python3-apt"]
    assert request["probe"] == {
        "table": "groundwork",
        "family": "inet",
        "packages": ["nftables", "python3-apt"],
        **core.observed_paths(core.TableSpec()),
    }
    result = role.plan(
        model, {"os": DEBIAN, "packages": INSTALLED, "probe": {"report": "r", "table": {}}}, Context()
    )
    assert result.changes == [] and result.problems == []
    assert result.data == {
        "report": "r",
        "table": {},
        "os": DEBIAN,
        "packages": INSTALLED,
        "outside": ["far1"],
    }


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        (
            {"firewall_flows": [{"name": "x", "from": "appserver", "to": "dbservers", "port": 1}]},
            "did you mean",
        ),
        (
            {"firewall_admin_sources": ["10.1.2.3/24"]},
            "firewall_admin_sources[0]: '10.1.2.3/24' has host bits set",
        ),
        ({"firewall_confirm_timeout": 5}, "firewall_confirm_timeout: 5 is out of range"),
    ],
)
def test_step_one_refuses_bad_input(inputs, problem):
    model, problems = role.validate(inputs, Context())
    assert model is None
    assert len(problems) == 1 and problem in problems[0]


def test_step_two_resolves_from_the_published_reports_and_the_outside_reads():
    flows = [*FLOWS, {"name": "far", "from": "far", "to": "dbservers", "port": 7000}]
    hostvars = {"db1": {}, "app1": {"firewall_host_report": report("10.0.0.11")}, "far1": {}}
    inputs = {
        "firewall_flows": flows,
        "ansible_play_hosts": ["db1", "app1"],
        "__firewall_inspection": inspection(),
        "__firewall_outside": [{"item": "far1", "report": report("10.0.9.1")}],
    }
    context = Context(hostvars)
    model, problems = role.validate(inputs, context)
    assert problems == []
    assert model["step"] == "plan" and model["confirm_timeout"] == 60
    assert role.request(model, context) is None
    inbound = model["firewall"]["inbound"]
    assert [(rule["comment"], rule["v4"]) for rule in inbound] == [
        ("app-to-db", ["10.0.0.11"]),
        ("far", ["10.0.9.1"]),
    ]
    assert model["firewall"]["controller"] == {"address": "198.51.100.7", "family": "v4"}
    plan = role.plan(model, None, context)
    assert context.rendered[0][0] == "table.nft.j2"
    assert context.rendered[0][1]["__firewall_table"] == "groundwork"
    assert plan.changes == [] and plan.data["content"] == BODY


def test_step_two_names_a_host_that_could_not_be_read():
    inputs = {
        "firewall_flows": FLOWS,
        "ansible_play_hosts": ["db1"],
        "__firewall_inspection": inspection(),
        "__firewall_outside": [{"item": "app1", "unreachable": True, "msg": "no route"}],
    }
    model, problems = role.validate(inputs, Context())
    assert model is None
    assert problems == [
        "firewall_flows[0] (app-to-db): from 'appservers': host 'app1' has no known address: it could not be"
        " inspected (unreachable?); set firewall_addresses for it in the inventory"
    ]


def test_the_warnings_of_the_model_are_notices():
    firewall = {"own": {"connection_port": 22}, "ssh": {"port": 22}, "warnings": ["w"]}
    plan = role.decide(firewall, inspection(), BODY, False)
    assert plan.data["notices"] == ["w"] and "warnings" not in plan.result()


def test_step_two_reads_only_the_reports_its_flows_need():
    """The plan of a host reads the published reports of the hosts its flows name, not of
    every host of the play: each lookup computes all of a host's variables in a run."""
    play = ["db1", "app1", *(f"other{i}" for i in range(50))]
    lookups = []

    class Hostvars(dict):
        def __getitem__(self, host):
            lookups.append(host)
            return super().__getitem__(host)

    hostvars = Hostvars({host: {"firewall_host_report": report("10.0.0.11")} for host in play})
    inputs = {"firewall_flows": FLOWS, "ansible_play_hosts": play, "__firewall_inspection": inspection()}
    model, problems = role.validate(inputs, Context(hostvars))
    assert problems == [] and model["firewall"]["inbound"][0]["v4"] == ["10.0.0.11"]
    assert lookups == ["app1"]
