# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the firewall role's model (plugin_utils/_firewall_model.py)."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.plugin_utils._firewall_model import (
    collapse,
    firewall_model,
    parse_network,
    parse_report,
)


def report(v4=None, v6=None, ssh="", packages=None):
    """What the role's inspection prints on a host."""
    lines = [f"ssh={ssh}"]
    lines.append(f"route4=192.0.2.1 via 10.0.0.1 dev eth0 src {v4} uid 0" if v4 else "route4=")
    lines.append(
        f"route6=2001:db8::1 from :: via fe80::1 dev eth0 proto ra src {v6} metric 1024 pref medium"
        if v6
        else "route6="
    )
    lines += [f"pkg={name} {status}" for name, status in (packages or {}).items()]
    return "\n".join(lines) + "\n"


GROUPS = {
    "all": ["lb1", "app1", "app2", "db1", "mon1"],
    "ungrouped": [],
    "loadbalancers": ["lb1"],
    "appservers": ["app1", "app2"],
    "dbservers": ["db1"],
    "monitoring": ["mon1"],
    "empty": [],
}
HOSTVARS = {
    "lb1": {"ansible_host": "203.0.113.10"},
    "app1": {"ansible_host": "app1.example.net"},
    "app2": {"ansible_host": "app2.example.net"},
    "db1": {"ansible_host": "db1.example.net"},
    "mon1": {"ansible_host": "mon1.example.net", "firewall_addresses": ["10.9.0.5", "2001:db8:9::5"]},
}
REPORTS = {
    "lb1": report(v4="10.0.0.10"),
    "app1": report(v4="10.0.0.11", v6="2001:db8::11"),
    "app2": report(v4="10.0.0.12", v6="2001:db8::12"),
    "db1": report(v4="10.0.0.20", ssh="198.51.100.7 50022 10.0.0.20 22", packages={"nftables": "installed"}),
}
THREE_TIER = [
    {"name": "web", "from": "any", "to": "loadbalancers", "port": [80, 443]},
    {"name": "lb-to-app", "from": "loadbalancers", "to": "appservers", "port": 8000},
    {"name": "app-to-db", "from": "appservers", "to": "dbservers", "service": "postgresql"},
]


def model(flows=None, host="db1", reports=None, hostvars=None, **kwargs):
    """The model of one host of the three tiers; ``reports=False`` for the first pass."""
    return firewall_model(
        copy.deepcopy(THREE_TIER if flows is None else flows),
        host=host,
        groups=GROUPS,
        hostvars=HOSTVARS if hostvars is None else hostvars,
        reports=REPORTS if reports is None else (reports or None),
        **kwargs,
    )


def one_error(flows=None, **kwargs):
    result = model(flows, **kwargs)
    assert len(result["errors"]) == 1, result["errors"]
    return result["errors"][0]


# --- The three tiers ---------------------------------------------------------------------------


def test_the_database_accepts_postgresql_from_the_app_servers_v4_and_v6():
    result = model(host="db1")
    assert result["errors"] == []
    assert result["inbound"] == [
        {
            "comment": "app-to-db",
            "proto": "tcp",
            "ports": "5432",
            "any": False,
            "v4": ["10.0.0.11", "10.0.0.12"],
            "v6": ["2001:db8::11", "2001:db8::12"],
        }
    ]
    assert result["addresses"] == {
        "app1": ["10.0.0.11", "2001:db8::11"],
        "app2": ["10.0.0.12", "2001:db8::12"],
    }


def test_the_app_servers_accept_8000_from_the_balancer_and_its_ansible_host():
    result = model(host="app1")
    assert result["inbound"] == [
        {
            "comment": "lb-to-app",
            "proto": "tcp",
            "ports": "8000",
            "any": False,
            "v4": ["10.0.0.10", "203.0.113.10"],
            "v6": [],
        }
    ]


def test_the_balancer_accepts_the_web_from_anywhere():
    result = model(host="lb1")
    assert result["inbound"] == [
        {"comment": "web", "proto": "tcp", "ports": "{ 80, 443 }", "any": True, "v4": [], "v6": []}
    ]
    assert result["addresses"] == {}


def test_a_host_outside_every_to_group_gets_no_flow_rules():
    assert model(host="mon1")["inbound"] == []


# --- Sources, ports, protocols ---------------------------------------------------------------


def test_sources_mix_groups_networks_and_explicit_addresses():
    flows = [
        {"from": ["monitoring", "192.0.2.0/24", "10.0.0.11", "2001:db8:1::/48"], "to": "all", "port": 9100}
    ]
    (rule,) = model(flows, host="lb1")["inbound"]
    assert rule["v4"] == ["10.0.0.11", "10.9.0.5", "192.0.2.0/24"]
    assert rule["v6"] == ["2001:db8:1::/48", "2001:db8:9::5"]
    assert rule["comment"] == "monitoring, 192.0.2.0/24, 10.0.0.11, 2001:db8:1::/48 to all"


def test_overlapping_sources_are_collapsed():
    flows = [{"from": ["10.0.0.0/8", "10.1.2.3", "10.0.0.0/9"], "to": "dbservers", "port": 1}]
    assert model(flows)["inbound"][0]["v4"] == ["10.0.0.0/8"]


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        (5432, "5432"),
        ("5432", "5432"),
        ("8000-8010", "8000-8010"),
        ([443, 80, "8000-8010", 80], "{ 80, 443, 8000-8010 }"),
        ([1, 65535], "{ 1, 65535 }"),
    ],
)
def test_ports_and_ranges(port, expected):
    flows = [{"from": "any", "to": "dbservers", "port": port}]
    assert model(flows)["inbound"][0]["ports"] == expected


def test_udp_flows():
    flows = [{"name": "syslog", "from": "appservers", "to": "dbservers", "port": 514, "proto": "udp"}]
    (rule,) = model(flows)["inbound"]
    assert (rule["proto"], rule["ports"], rule["comment"]) == ("udp", "514", "syslog")


def test_a_service_with_two_protocols_makes_two_rules():
    flows = [{"from": "appservers", "to": "dbservers", "service": "dns"}]
    rules = model(flows)["inbound"]
    assert [(r["proto"], r["ports"], r["comment"]) for r in rules] == [
        ("tcp", "53", "dns appservers to dbservers"),
        ("udp", "53", "dns appservers to dbservers"),
    ]


def test_services_of_the_host_are_open_to_everyone_and_ssh_follows_the_port():
    result = model([], services=["https", "http", "ssh", "http3"], ssh_port=2222)
    assert [(r["proto"], r["ports"], r["any"]) for r in result["inbound"]] == [
        ("tcp", "{ 80, 443, 2222 }", True),
        ("udp", "443", True),
    ]
    assert result["inbound"][0]["comment"] == "services https http ssh http3"


def test_a_group_without_hosts_contributes_nothing_with_a_warning():
    flows = [{"name": "nobody", "from": "empty", "to": "dbservers", "port": 1}]
    result = model(flows)
    assert result["errors"] == []
    assert result["inbound"] == []
    assert result["warnings"] == [
        "firewall_flows[0] (nobody): from 'empty' has no hosts; it contributes no address"
    ]


# --- Addresses of hosts ----------------------------------------------------------------------


def test_firewall_addresses_win_over_what_the_host_reports():
    hostvars = copy.deepcopy(HOSTVARS)
    hostvars["app1"]["firewall_addresses"] = ["172.16.5.1"]
    flows = [{"from": "appservers", "to": "dbservers", "port": 1}]
    (rule,) = model(flows, hostvars=hostvars)["inbound"]
    assert rule["v4"] == ["10.0.0.12", "172.16.5.1"]
    assert rule["v6"] == ["2001:db8::12"]


def test_the_first_pass_lists_the_hosts_to_inspect_and_resolves_nothing():
    flows = [{"from": ["appservers", "monitoring"], "to": "dbservers", "port": 1}]
    result = model(flows, reports=False)
    assert result["errors"] == []
    assert result["needs"] == ["app1", "app2"]  # mon1 has firewall_addresses
    assert result["inbound"][0]["v4"] == ["10.9.0.5"]


def test_hosts_outside_the_play_are_merged_from_the_delegated_results():
    reports = {"db1": REPORTS["db1"]}
    outside = [
        {"item": "app1", "rc": 0, "stdout": REPORTS["app1"]},
        {"item": "app2", "rc": 0, "stdout": REPORTS["app2"]},
    ]
    result = model(reports=reports, outside=outside)
    assert result["errors"] == []
    assert result["inbound"][0]["v4"] == ["10.0.0.11", "10.0.0.12"]


def test_hosts_outside_the_play_inspected_by_host_info():
    reports = {"db1": REPORTS["db1"]}
    outside = [
        {"item": "app1", "changed": False, "info": {"report": REPORTS["app1"], "table": {}}},
        {"item": "app2", "changed": False, "info": {"report": REPORTS["app2"], "table": {}}},
    ]
    result = model(reports=reports, outside=outside)
    assert result["errors"] == []
    assert result["inbound"][0]["v4"] == ["10.0.0.11", "10.0.0.12"]
    outside[1] = {"item": "app2", "failed": True, "info": None, "msg": "The inspection failed"}
    assert "app2" in " ".join(model(reports=reports, outside=outside)["errors"])


@pytest.mark.parametrize(
    ("outside", "hostvars_app2", "problem"),
    [
        (
            {"item": "app2", "unreachable": True, "msg": "no route"},
            {},
            "has no known address: it could not be inspected (unreachable?); set firewall_addresses for it in"
            " the inventory",
        ),
        (
            {"item": "app2", "rc": 1, "stdout": ""},
            {"ansible_host": "192.0.2.99"},
            "has no known address: it could not be inspected (unreachable?); set firewall_addresses for it in"
            " the inventory",
        ),
        (
            {"item": "app2", "rc": 0, "stdout": report()},
            {"ansible_host": "app2.example.net"},
            "has no known address: it reports no default route and its ansible_host 'app2.example.net' is not"
            " an IP address; set firewall_addresses for it",
        ),
        (None, {"firewall_addresses": []}, "has no address (its firewall_addresses is empty)"),
        (
            None,
            {"firewall_addresses": ["10.0.0.300"]},
            "has firewall_addresses[0] '10.0.0.300', which is not an IP address or network",
        ),
        (
            None,
            {"firewall_addresses": "10.0.0.3"},
            "has firewall_addresses '10.0.0.3', which is not a list of IP addresses",
        ),
    ],
)
def test_a_flow_whose_hosts_have_no_address_names_the_flow_and_the_host(outside, hostvars_app2, problem):
    hostvars = copy.deepcopy(HOSTVARS)
    hostvars["app2"] = hostvars_app2
    reports = {"db1": REPORTS["db1"], "app1": REPORTS["app1"]}
    error = one_error(hostvars=hostvars, reports=reports, outside=[outside] if outside else [])
    assert error == f"firewall_flows[2] (app-to-db): from 'appservers': host 'app2' {problem}"


def test_addresses_of_a_host_without_routes_come_from_its_ansible_host():
    hostvars = copy.deepcopy(HOSTVARS)
    reports = dict(REPORTS, lb1=report())
    (rule,) = model(host="app1", hostvars=hostvars, reports=reports)["inbound"]
    assert rule["v4"] == ["203.0.113.10"]


# --- The report of the inspection --------------------------------------------------------------


def test_parse_report():
    text = report(
        v4="10.0.0.20",
        v6="2001:db8::20",
        ssh="::ffff:198.51.100.7 50022 10.0.0.20 2222",
        packages={"nftables": "installed", "python3-apt": "not-installed"},
    )
    assert parse_report(text) == {
        "controller": "198.51.100.7",
        "connection_port": 2222,
        "addresses": ["10.0.0.20", "2001:db8::20"],
        "packages": {"nftables": "installed", "python3-apt": "not-installed"},
    }


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "ssh=\nroute4=\nroute6=\n",
        "route4=192.0.2.1 dev lo src 127.0.0.1\nroute6=2001:db8::1 dev eth0 src fe80::1\n",
        "ssh=garbage\n",
    ],
)
def test_parse_report_without_connection_or_addresses(text):
    result = parse_report(text)
    assert (result["controller"], result["addresses"]) == (None, [])


@pytest.mark.parametrize(
    ("text", "controller", "port"),
    [
        ("ssh=198.51.100.7 50022 10.0.0.20 22\nsshclient=198.51.100.7 50022 22\n", "198.51.100.7", 22),
        ("ssh=\nsshclient=2001:db8::7 50022 2222\n", "2001:db8::7", 2222),
        ("sshclient=198.51.100.7 50022 22\nssh=192.0.2.1 1 10.0.0.20 2222\n", "192.0.2.1", 2222),
        ("ssh=198.51.100.7\n", "198.51.100.7", None),
    ],
)
def test_parse_report_reads_ssh_connection_or_ssh_client(text, controller, port):
    result = parse_report(text)
    assert (result["controller"], result["connection_port"]) == (controller, port)


def test_parse_report_of_a_link_local_controller_drops_the_zone():
    assert parse_report("ssh=fe80::1%eth0 50022 fe80::2%eth0 22\n")["controller"] == "fe80::1"


# --- SSH: admin sources and the controller ---------------------------------------------------


def test_the_controller_is_allowed_when_the_admin_sources_do_not_cover_it():
    result = model(admin_sources=["192.0.2.0/24", "2001:db8:a::/48"])
    assert result["controller"] == {"address": "198.51.100.7", "family": "v4"}
    assert result["admin"] == {"v4": ["192.0.2.0/24"], "v6": ["2001:db8:a::/48"]}
    assert result["own"]["packages"] == {"nftables": "installed"}
    assert result["warnings"] == []


def test_the_controller_needs_no_rule_of_its_own_when_an_admin_source_covers_it():
    assert model(admin_sources=["198.51.100.0/24"])["controller"] is None


def test_an_ipv6_controller():
    reports = dict(REPORTS, db1=report(v4="10.0.0.20", ssh="2001:db8:c::1 50022 2001:db8::20 22"))
    assert model(reports=reports)["controller"] == {"address": "2001:db8:c::1", "family": "v6"}


def test_a_connection_on_another_port_than_the_rules_allow_is_warned_about():
    result = model(ssh_port=2222)
    assert result["warnings"] == [
        "The management connection arrives on port 22, but the new rules allow SSH on firewall_ssh_port 2222"
        " only: if that cuts the connection, the host restores the previous rules by itself"
    ]


def test_no_ssh_connection_and_no_admin_sources_is_warned_about():
    reports = dict(REPORTS, db1=report(v4="10.0.0.20"))
    result = model(reports=reports)
    assert result["controller"] is None
    assert result["warnings"] == [
        "firewall_admin_sources is empty and the play does not connect over SSH:"
        " SSH is closed to every address"
    ]
    assert model(reports=reports, admin_sources=["10.0.0.0/8"])["warnings"] == []


def test_overlapping_admin_sources_are_collapsed():
    result = model(admin_sources=["10.0.0.0/16", "10.0.1.0/24", "10.2.0.0/16", "::1"])
    assert result["admin"] == {"v4": ["10.0.0.0/16", "10.2.0.0/16"], "v6": ["::1"]}


def test_ssh_settings_are_passed_on():
    assert model(ssh_port="2200", ssh_rate="5/second", ssh_burst=3)["ssh"] == {
        "port": 2200,
        "rate": "5/second",
        "burst": 3,
    }


# --- Egress --------------------------------------------------------------------------------------


def test_egress_destinations_are_resolved_like_flow_sources():
    allow = [
        {"name": "db", "to": "dbservers", "service": "postgresql"},
        {"name": "mirror", "to": "any", "port": [80, 443]},
        {"to": "192.0.2.53", "service": "dns"},
    ]
    result = model([], host="app1", egress_restrict=True, egress_allow=allow)
    assert result["egress"] == {
        "restrict": True,
        "allow": [
            {"comment": "db", "proto": "tcp", "ports": "5432", "any": False, "v4": ["10.0.0.20"], "v6": []},
            {"comment": "mirror", "proto": "tcp", "ports": "{ 80, 443 }", "any": True, "v4": [], "v6": []},
            {
                "comment": "dns to 192.0.2.53",
                "proto": "tcp",
                "ports": "53",
                "any": False,
                "v4": ["192.0.2.53"],
                "v6": [],
            },
            {
                "comment": "dns to 192.0.2.53",
                "proto": "udp",
                "ports": "53",
                "any": False,
                "v4": ["192.0.2.53"],
                "v6": [],
            },
        ],
    }


def test_egress_allows_without_the_restriction_are_warned_about():
    result = model([], egress_allow=[{"to": "any", "port": 443}])
    assert result["warnings"] == [
        "firewall_egress_allow has no effect while firewall_egress_restrict is false"
    ]


# --- Extra rules ---------------------------------------------------------------------------------


def test_extra_rules_pass_through_stripped():
    rules = [
        "  tcp dport { 8443, 9443 } accept  ",
        'ip saddr 192.0.2.0/24 udp dport 161 accept comment "snmp"',
    ]
    assert model(rules=rules)["rules"] == [
        "tcp dport { 8443, 9443 } accept",
        'ip saddr 192.0.2.0/24 udp dport 161 accept comment "snmp"',
    ]


# --- Validation ------------------------------------------------------------------------------------

FLOW_ERRORS = {
    "invalid network": (
        {"from": "10.0.0.0/33"},
        "firewall_flows[1] (lb-to-app): from '10.0.0.0/33' is not an IP address or network",
    ),
    "invalid address": (
        {"from": ["appservers", "10.0.0.300"]},
        "firewall_flows[1] (lb-to-app): from[1] '10.0.0.300' is not an IP address or network",
    ),
    "host bits": (
        {"from": "10.0.0.1/24"},
        "firewall_flows[1] (lb-to-app): from '10.0.0.1/24' has host bits set (the network is 10.0.0.0/24;"
        " for one address use /32)",
    ),
    "unknown group with a suggestion": (
        {"from": "loadbalancer"},
        "firewall_flows[1] (lb-to-app): from 'loadbalancer' is not a group of the inventory, an IP address or"
        " network, or 'any' (did you mean 'loadbalancers'?)",
    ),
    "unknown group": (
        {"from": "nosuchgroup"},
        "firewall_flows[1] (lb-to-app): from 'nosuchgroup' is not a group of the inventory, an IP address or"
        " network, or 'any'",
    ),
    "unknown to group": (
        {"to": ["appservers", "appserver"]},
        "firewall_flows[1] (lb-to-app): to[1] 'appserver' is not a group of the inventory"
        " (did you mean 'appservers'?)",
    ),
    "any as destination": (
        {"to": "any"},
        "firewall_flows[1] (lb-to-app): to 'any' is not a group of the inventory",
    ),
    "network as destination": (
        {"to": "10.0.0.0/8"},
        "firewall_flows[1] (lb-to-app): to '10.0.0.0/8' is not a group of the inventory",
    ),
    "any combined": (
        {"from": ["any", "appservers"]},
        "firewall_flows[1] (lb-to-app): from 'any' cannot be combined with other entries",
    ),
    "missing from": ({"from": None}, "firewall_flows[1] (lb-to-app): from is required"),
    "empty to": ({"to": []}, "firewall_flows[1] (lb-to-app): to is required"),
    "port zero": (
        {"port": 0},
        "firewall_flows[1] (lb-to-app): port 0 is out of range (expected 1-65535 or a range 'low-high')",
    ),
    "port too high": (
        {"port": 65536},
        "firewall_flows[1] (lb-to-app): port 65536 is out of range (expected 1-65535 or a range 'low-high')",
    ),
    "port text too high": (
        {"port": "70000"},
        "firewall_flows[1] (lb-to-app): port '70000' is out of range"
        " (expected 1-65535 or a range 'low-high')",
    ),
    "range out of range": (
        {"port": "8000-99999"},
        "firewall_flows[1] (lb-to-app): port '8000-99999' is out of range (expected ports from 1 to 65535)",
    ),
    "reversed range": (
        {"port": "9000-8000"},
        "firewall_flows[1] (lb-to-app): port '9000-8000' is not a range (the first port must be lower than"
        " the second)",
    ),
    "port in a list": (
        {"port": [80, "http"]},
        "firewall_flows[1] (lb-to-app): port[1] 'http' is not a port"
        " (expected 1-65535 or a range 'low-high')",
    ),
    "boolean port": (
        {"port": True},
        "firewall_flows[1] (lb-to-app): port True is not a port (expected 1-65535 or a range 'low-high')",
    ),
    "empty port list": ({"port": []}, "firewall_flows[1] (lb-to-app): port [] must not be empty"),
    "missing port": (
        {"port": None},
        "firewall_flows[1] (lb-to-app): port is required (a number, a range 'low-high' or a list), or a"
        " service",
    ),
    "bad proto": (
        {"proto": "icmp"},
        "firewall_flows[1] (lb-to-app): proto 'icmp' is not valid (expected 'tcp' or 'udp')",
    ),
    "unknown service": (
        {"port": None, "service": "postgres"},
        "firewall_flows[1] (lb-to-app): service 'postgres' is not a known service (known: dns, http, http3,"
        " https, imaps, mariadb, mysql, node-exporter, ntp, pop3s, postgresql, redis, smtp, smtps, ssh,"
        " submission, wireguard)",
    ),
    "service and port": (
        {"service": "http"},
        "firewall_flows[1] (lb-to-app): service 'http' cannot be combined with port or proto",
    ),
    "unknown key": (
        {"ports": 80},
        "firewall_flows[1] (lb-to-app): unknown key(s) ports (allowed: name, from, to, port, proto, service)",
    ),
    "bad name": (
        {"name": 'lb "app"'},
        'firewall_flows[1] (lb "app"): name \'lb "app"\' is not valid (expected up to 64 letters, digits,'
        " spaces and '_.:+/-', starting with a letter or digit)",
    ),
    "duplicate name": (
        {"name": "web"},
        "firewall_flows[1] (web): name 'web' is already used by firewall_flows[0]",
    ),
}


@pytest.mark.parametrize("case", list(FLOW_ERRORS))
def test_flow_errors_name_the_flow_the_key_and_the_value(case):
    changes, expected = FLOW_ERRORS[case]
    flows = copy.deepcopy(THREE_TIER)
    flows[1].update(changes)
    flows[1] = {key: value for key, value in flows[1].items() if value is not None}
    assert one_error(flows, host="app1") == expected


def test_flows_are_checked_on_every_host_not_only_their_destinations():
    flows = copy.deepcopy(THREE_TIER)
    flows[2]["port"] = 5432
    flows[2].pop("service")
    flows[2]["from"] = "10.0.0.0/33"
    assert one_error(flows, host="lb1").startswith("firewall_flows[2] (app-to-db): from '10.0.0.0/33'")


def test_an_unnamed_flow_is_named_by_its_index():
    flows = [{"from": "any", "to": "dbservers", "port": 0}]
    assert one_error(flows).startswith("firewall_flows[0]: port 0 is out of range")


@pytest.mark.parametrize(
    ("flows", "expected"),
    [
        ("web", "firewall_flows: must be a list"),
        (["web"], "firewall_flows[0]: must be a mapping"),
    ],
)
def test_flows_of_the_wrong_shape(flows, expected):
    assert one_error(flows) == expected


SETTING_ERRORS = {
    "admin source": (
        {"admin_sources": ["10.0.0.0/8", "10.0.0.0/33"]},
        "firewall_admin_sources[1]: '10.0.0.0/33' is not an IP address or network",
    ),
    "admin source with host bits": (
        {"admin_sources": ["2001:db8::1/64"]},
        "firewall_admin_sources[0]: '2001:db8::1/64' has host bits set (the network is 2001:db8::/64; for one"
        " address use /128)",
    ),
    "admin sources not a list": (
        {"admin_sources": "10.0.0.0/8"},
        "firewall_admin_sources: '10.0.0.0/8' must be a list of IP addresses or networks",
    ),
    "ssh port": (
        {"ssh_port": 0},
        "firewall_ssh_port: 0 is out of range (expected a whole number from 1 to 65535)",
    ),
    "ssh rate": (
        {"ssh_rate": "10/fortnight"},
        "firewall_ssh_rate: '10/fortnight' is not a rate (expected a number per second, minute, hour or day,"
        " like '10/minute')",
    ),
    "ssh burst": (
        {"ssh_burst": 0},
        "firewall_ssh_burst: 0 is out of range (expected a whole number from 1 to 10000)",
    ),
    "log rate": ({"log_rate": "5"}, "firewall_log_rate: '5' is not a rate"),
    "echo rate": ({"icmp_echo_rate": "0/second"}, "firewall_icmp_echo_rate: '0/second' is not a rate"),
    "confirm timeout": (
        {"confirm_timeout": 5},
        "firewall_confirm_timeout: 5 is out of range"
        " (expected 0 for no commit-confirm, or 10 to 3600 seconds)",
    ),
    "unknown service": (
        {"services": ["http", "gopher"]},
        "firewall_services[1]: service 'gopher' is not a known service",
    ),
    "services not a list": ({"services": "http"}, "firewall_services: must be a list of service names"),
    "rule with a line break": (
        {"rules": ["tcp dport 1 accept\n}"]},
        "firewall_rules[0]: 'tcp dport 1 accept\\n}' must be one rule on one line"
        " (no ';', '#', backslashes, line breaks or other control characters)",
    ),
    "rule with a semicolon": (
        {"rules": ["tcp dport 1 accept; flush ruleset"]},
        "firewall_rules[0]: 'tcp dport 1 accept; flush ruleset' must be one rule on one line",
    ),
    "rule closing the chain": (
        {"rules": ["} chain evil { type filter hook input priority 0"]},
        "firewall_rules[0]: '} chain evil { type filter hook input priority 0' has unbalanced braces",
    ),
    "rule with an open brace": (
        {"rules": ["tcp dport { 1, 2 accept"]},
        "firewall_rules[0]: 'tcp dport { 1, 2 accept' has unbalanced braces",
    ),
    "empty rule": ({"rules": [" "]}, "firewall_rules[0]: ' ' must be a non-empty nft rule"),
    "rules not a list": ({"rules": "tcp dport 1 accept"}, "firewall_rules: must be a list of nft rules"),
    "egress with from": (
        {"egress_allow": [{"from": "any", "to": "any", "port": 53}]},
        "firewall_egress_allow[0]: unknown key(s) from (allowed: name, to, port, proto, service)",
    ),
    "egress to unknown group": (
        {"egress_allow": [{"name": "db", "to": "databases", "port": 5432}]},
        "firewall_egress_allow[0] (db): to 'databases' is not a group of the inventory, an IP address or"
        " network, or 'any'",
    ),
}


@pytest.mark.parametrize("case", list(SETTING_ERRORS))
def test_setting_errors_name_the_variable_and_the_value(case):
    kwargs, expected = SETTING_ERRORS[case]
    assert one_error(**kwargs).startswith(expected)


def test_every_problem_is_reported_at_once():
    flows = [
        {"name": "a", "from": "nosuch", "to": "dbservers", "port": 1},
        {"name": "b", "from": "any", "to": "dbservers", "port": 0},
    ]
    result = model(flows, admin_sources=["x"], confirm_timeout=1)
    assert len(result["errors"]) == 4


def test_the_host_is_required():
    with pytest.raises(AnsibleFilterError, match="host"):
        firewall_model([], host=None)


# --- Helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "network", "problem"),
    [
        ("10.0.0.0/8", "10.0.0.0/8", None),
        (" 10.0.0.1 ", "10.0.0.1/32", None),
        ("2001:db8::/32", "2001:db8::/32", None),
        ("10.0.0.1/8", None, "has host bits set (the network is 10.0.0.0/8; for one address use /32)"),
        ("10.0.0.0/33", None, "is not an IP address or network"),
        # words of ipaddress's own messages in the value decide nothing
        ("has host bits set", None, "is not an IP address or network"),
        ("", None, "is not an IP address or network"),
        (None, None, "is not an IP address or network"),
    ],
)
def test_parse_network(value, network, problem):
    parsed, reason = parse_network(value)
    assert (str(parsed) if parsed else None, reason) == (network, problem)


def test_collapse_writes_hosts_without_prefix():
    networks = [parse_network(text)[0] for text in ("10.0.0.1", "10.0.0.0/31", "::1", "2001:db8::/64")]
    assert collapse(networks) == {"v4": ["10.0.0.0/31"], "v6": ["::1", "2001:db8::/64"]}
