# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Flows as a contract (plugin_utils/_flows.py): resolution of groups and hosts to addresses."""

from __future__ import annotations

import ipaddress

import pytest
from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils import _flows as flows
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import Checker


def report(v4=None, v6=None, ssh=""):
    lines = [f"ssh={ssh}", f"route4=src {v4}" if v4 else "route4=", f"route6=src {v6}" if v6 else "route6="]
    return "\n".join(lines) + "\n"


GROUPS = {
    "all": ["lb1", "app1", "app2", "db1"],
    "loadbalancers": ["lb1"],
    "appservers": ["app1", "app2"],
    "dbservers": ["db1"],
}
HOSTVARS = {
    "lb1": {"ansible_host": "203.0.113.10"},
    "app1": {"firewall_addresses": ["10.0.0.11"]},
    "app2": {"ansible_host": "app2.example.net"},
    "db1": {},
}
REPORTS = {"lb1": report(), "app2": report(v4="10.0.0.12", v6="2001:db8::12"), "db1": report(v4="10.0.0.20")}
THREE_TIER = [
    {"name": "web", "from": "any", "to": "loadbalancers", "port": [80, 443]},
    {"name": "lb-to-app", "from": "loadbalancers", "to": "appservers", "port": 8000},
    {"name": "app-to-db", "from": "appservers", "to": "dbservers", "service": "postgresql"},
    {"name": "metrics", "from": "10.9.0.0/24", "to": "all", "port": "9100-9102"},
]


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("db1", 5432, [("app-to-db", False, ["10.0.0.11/32", "10.0.0.12/32", "2001:db8::12/128"])]),
        ("db1", 3306, []),
        ("db1", 9101, [("metrics", False, ["10.9.0.0/24"])]),
        ("app1", 8000, [("lb-to-app", False, ["203.0.113.10/32"])]),
        ("lb1", 443, [("web", True, [])]),
    ],
)
def test_sources_for(host, port, expected):
    check = Checker()
    found = flows.sources_for(host, port, THREE_TIER, GROUPS, HOSTVARS, REPORTS, check=check)
    assert check.errors == []
    assert [(f["comment"], f["any"], [str(n) for n in f["networks"]]) for f in found] == expected


def test_inbound_without_reports_lists_the_hosts_it_needs():
    check = Checker()
    resolver = flows.Resolver(HOSTVARS, None)
    rules = flows.inbound(THREE_TIER, "db1", GROUPS, HOSTVARS, None, 22, check, resolver)
    assert check.errors == []
    assert resolver.needs == ["app2"]
    assert [rule["comment"] for rule in rules] == ["app-to-db", "metrics"]


@pytest.mark.parametrize(
    ("hostvars", "reports", "problem"),
    [
        ({"app2": {}}, {}, "host 'app2' has no known address: it could not be inspected"),
        ({"app2": {"firewall_addresses": "10.0.0.1"}}, {}, "which is not a list of IP addresses"),
        ({"app2": {"firewall_addresses": []}}, {}, "has no address (its firewall_addresses is empty)"),
        ({"app2": {"firewall_addresses": ["10.0.0.1/8"]}}, {}, "has host bits set"),
    ],
)
def test_unresolvable_hosts_are_problems(hostvars, reports, problem):
    check = Checker()
    flows.inbound(THREE_TIER, "db1", GROUPS, dict(HOSTVARS, **hostvars), reports, 22, check)
    assert len(check.errors) == 1
    assert check.errors[0].startswith("firewall_flows[2] (app-to-db): from 'appservers': host 'app2'")
    assert problem in check.errors[0]


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([{"item": "x", "info": {"report": "r"}}], {"x": "r"}),
        ([{"item": "x", "info": {"report": "r"}, "failed": True}], {"x": None}),
        ([{"item": "x", "unreachable": True}], {"x": None}),
        ([{"item": "x", "rc": 0, "stdout": "s"}], {"x": "s"}),
        ([{"item": "x", "rc": 1, "stdout": "s"}], {"x": None}),
        (["junk", {"no": "item"}], {}),
    ],
)
def test_with_outside(results, expected):
    assert flows.with_outside({}, results) == expected


def test_services_come_from_the_catalogue():
    assert flows.SERVICES == contracts.SERVICES
    check = Checker()
    assert flows.service_entries(check, "w", "service", "ssh", 2222) == [("tcp", (2222, 2222))]
    assert flows.service_entries(check, "w", "service", "dns", 22) == [("tcp", (53, 53)), ("udp", (53, 53))]
    assert flows.service_entries(check, "w", "service", "app", 22) is None
    assert "is not a known service" in check.errors[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ssh=192.0.2.10 50000 192.0.2.20 2222\n", ("192.0.2.10", 2222)),
        ("ssh=\nsshclient=::ffff:192.0.2.9 50000 22\n", ("192.0.2.9", 22)),
        ("", (None, None)),
    ],
)
def test_parse_report_connection(text, expected):
    parsed = flows.parse_report(text)
    assert (parsed["controller"], parsed["connection_port"]) == expected


def test_collapse_merges_and_splits_families():
    networks = [
        ipaddress.ip_network(n) for n in ("10.0.0.0/25", "10.0.0.128/25", "10.1.0.1/32", "2001:db8::/64")
    ]
    assert flows.collapse(networks) == {"v4": ["10.0.0.0/24", "10.1.0.1"], "v6": ["2001:db8::/64"]}


class CountingHostvars(dict):
    """hostvars that count lookups: in a run each one computes all of a host's variables."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lookups = []

    def __getitem__(self, host):
        self.lookups.append(host)
        return super().__getitem__(host)


def fleet(apps):
    """Two balancers, one database server, ``apps`` application servers, each with a report."""
    names = {
        "loadbalancers": ["lb1", "lb2"],
        "appservers": [f"app{i}" for i in range(apps)],
        "dbservers": ["db1"],
    }
    hosts = [host for members in names.values() for host in members]
    groups = {"all": hosts, **names}
    hostvars = CountingHostvars(
        {
            host: {flows.REPORT_VAR: report(v4=f"10.0.{i // 250}.{i % 250 + 1}")}
            for i, host in enumerate(hosts)
        }
    )
    return hosts, groups, hostvars


def test_published_reports_are_read_when_asked_for_and_once():
    hostvars = CountingHostvars({"a": {flows.REPORT_VAR: "A"}, "b": {}, "c": {flows.REPORT_VAR: "C"}})
    reports = flows.PublishedReports(hostvars, ["a", "b", "c"])
    assert hostvars.lookups == []
    assert reports["a"] == "A" and reports["a"] == "A" and reports.get("b") is None
    assert hostvars.lookups == ["a", "b"]
    assert "c" in reports and "far" not in reports and reports.get("far") is None
    with pytest.raises(KeyError):
        reports.report("far")
    # Variables the caller has already read are used instead of a lookup.
    assert reports.report("c", {flows.REPORT_VAR: "from the caller"}) == "from the caller"
    assert hostvars.lookups == ["a", "b"]
    reports["a"] = "own inspection"
    assert reports["a"] == "own inspection"
    assert list(reports) == ["a", "b", "c"] and len(reports) == 3
    assert dict(reports) == {"a": "own inspection", "b": None, "c": "from the caller"}


def test_with_outside_keeps_published_reports_lazy():
    hostvars = CountingHostvars({"a": {flows.REPORT_VAR: "A"}})
    reports = flows.PublishedReports(hostvars, ["a"])
    merged = flows.with_outside(
        reports, [{"item": "far", "report": "F"}, {"item": "gone", "unreachable": True}]
    )
    assert isinstance(merged, flows.PublishedReports) and hostvars.lookups == []
    assert merged["far"] == "F" and merged["gone"] is None and merged["a"] == "A"
    assert "far" not in reports


@pytest.mark.parametrize("apps", [1, 10, 100])
def test_a_hosts_rules_read_only_the_hosts_its_flows_name(apps):
    """Resolving the rules of one host looks up the variables of the hosts of the groups its
    flows come from, each once: an application server its two balancers whatever the size of
    the fleet (not every host of the play), the database server each application server."""
    hosts, groups, hostvars = fleet(apps)
    flows_ = THREE_TIER[:3]
    for host, expected in (("app0", ["lb1", "lb2"]), ("db1", groups["appservers"]), ("lb1", [])):
        hostvars.lookups.clear()
        reports = flows.PublishedReports(hostvars, hosts)
        check = Checker()
        rules = flows.inbound(flows_, host, groups, hostvars, reports, check=check)
        assert check.errors == [] and rules
        assert sorted(hostvars.lookups) == sorted(expected)


def test_published_reports_resolve_as_a_dict_of_the_same_reports():
    hosts, groups, hostvars = fleet(5)
    eager = {host: hostvars[host][flows.REPORT_VAR] for host in hosts}
    for host in ("app3", "db1", "lb2"):
        lazy = flows.inbound(THREE_TIER[:3], host, groups, hostvars, flows.PublishedReports(hostvars, hosts))
        assert lazy == flows.inbound(THREE_TIER[:3], host, groups, hostvars, eager)
