# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The topology picture's pure part: reports parsed, hosts placed, flows drawn, DOT written."""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._topology import core
from ansible_collections.groundwork.server.plugins.plugin_utils import _firewall_model as firewall_model

NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC)
GROUPS = {
    "all": ["lb", "app1", "app2", "db"],
    "ungrouped": [],
    "loadbalancers": ["lb"],
    "appservers": ["app1", "app2"],
    "dbservers": ["db"],
}
FLOWS = [
    {"name": "web", "from": "any", "to": "loadbalancers", "port": [80, 443]},
    {"name": "lb-to-app", "from": "loadbalancers", "to": "appservers", "port": 8000},
    {"name": "app-to-db", "from": "appservers", "to": "dbservers", "service": "postgresql"},
]


def report(address="", units=(), certs=(), release="12.8", firewall=False):
    lines = [f"address={address}", f"release={release}"]
    if firewall:
        lines.append("firewall=loaded")
    lines += [f"unit={unit}.service loaded {state} {sub} Some description" for unit, state, sub in units]
    lines += [f"cert={cert}" for cert in certs]
    return "\n".join(lines) + "\n"


RUNNING = ("active", "running")
HOSTS = [
    {
        "name": "lb",
        "report": report(
            "172.18.0.2 fd00::2",
            [("nginx", *RUNNING), ("ssh", *RUNNING), ("cron", *RUNNING)],
            ["demo|notAfter=Feb 23 12:00:00 2027 GMT|subject=CN = demo.groundwork.test"],
            firewall=True,
        ),
    },
    {"name": "app1", "report": report("172.18.0.3", [("shop", *RUNNING)]), "units": ["shop"]},
    {"name": "app2", "report": report("172.18.0.4", [("shop", "failed", "failed")]), "units": ["shop"]},
    {
        "name": "db",
        "report": report(
            "172.18.0.5",
            [("postgresql", "active", "exited"), ("postgresql@15-main", *RUNNING)],
            ["db|notAfter=Dec  1 12:00:00 2026 GMT|subject=CN = db.internal, O = groundwork"],
        ),
    },
]


def draw(**overrides):
    arguments = {"groups": GROUPS, "hosts": HOSTS, "flows": FLOWS, "now": NOW}
    arguments.update(overrides)
    return core.render(**arguments)


# --- reports ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Feb 23 12:00:00 2027 GMT", datetime.datetime(2027, 2, 23, 12, 0, tzinfo=datetime.UTC)),
        ("Dec  1 01:02:03 2026 GMT", datetime.datetime(2026, 12, 1, 1, 2, 3, tzinfo=datetime.UTC)),
        ("Feb 30 12:00:00 2027 GMT", None),
        ("Foo 1 12:00:00 2027 GMT", None),
        ("unable to load certificate", None),
        ("", None),
        (None, None),
    ],
)
def test_not_after_is_read_in_the_c_locale_format(text, expected):
    assert core.parse_not_after(text) == expected


@pytest.mark.parametrize(
    ("line", "subject", "problem"),
    [
        ("demo|notAfter=Feb 23 12:00:00 2027 GMT|subject=CN = demo.example", "demo.example", ""),
        ("demo|notAfter=Feb 23 12:00:00 2027 GMT|subject=/O=x/CN=old.example", "old.example", ""),
        ("demo|notAfter=Feb 23 12:00:00 2027 GMT|subject=CN = a.example, O = Org", "a.example", ""),
        ("demo|notAfter=Feb 23 12:00:00 2027 GMT|subject=O = no common name", "O = no common name", ""),
        ("demo|Could not read certificate from /etc/ssl/groundwork/demo/cert.pem", "", "unreadable"),
    ],
)
def test_certificate_lines(line, subject, problem):
    certificate = core.parse_certificate(line)
    assert certificate.name == "demo"
    assert (certificate.subject, certificate.problem) == (subject, problem)


def test_report_is_parsed_line_by_line():
    parsed = core.parse_report(HOSTS[0]["report"] + "noise without key\nunit=short line\n")
    assert parsed.addresses == ["172.18.0.2", "fd00::2"]
    assert parsed.release == "12.8"
    assert parsed.firewall is True
    assert parsed.units == {"nginx": RUNNING, "ssh": RUNNING, "cron": RUNNING}
    assert [c.name for c in parsed.certificates] == ["demo"]
    assert core.parse_report(None) == core.Report()


def test_services_follow_the_patterns_and_hide_inactive_units():
    units = {
        "ssh": RUNNING,
        "nginx": RUNNING,
        "apache2": ("inactive", "dead"),
        "postgresql": ("active", "exited"),
        "postgresql@15-main": RUNNING,
        "postgresql@16-main": ("failed", "failed"),
        "shop": ("activating", "start"),
    }
    patterns = [*core.DEFAULT_UNITS, "shop", "nginx"]
    assert core.select_services(units, patterns) == [
        ("nginx", "active"),
        ("postgresql@15-main", "active"),
        ("postgresql@16-main", "failed"),
        ("shop", "activating"),
        ("ssh", "active"),
    ]


@pytest.mark.parametrize(
    ("not_after", "state"),
    [
        (NOW + datetime.timedelta(days=31), "ok"),
        (NOW + datetime.timedelta(days=30), "soon"),
        (NOW, "expired"),
        (None, "unreadable"),
    ],
)
def test_certificate_states(not_after, state):
    certificate = core.Certificate(name="x", not_after=not_after)
    assert core.certificate_state(certificate, NOW, 30) == state


@pytest.mark.parametrize(
    ("flow", "label"),
    [
        ({"port": 8000}, "8000/tcp"),
        ({"port": [80, 443]}, "80, 443/tcp"),
        ({"port": "60000-61000", "proto": "udp"}, "60000-61000/udp"),
        ({"service": "postgresql"}, "postgresql 5432/tcp"),
        ({"service": "dns"}, "dns 53/tcp, 53/udp"),
        ({"service": "ssh"}, "ssh 22/tcp"),
        ({"service": "gopher"}, "gopher"),
        ({}, None),
    ],
)
def test_ports_label(flow, label):
    assert core.ports_label(flow) == label


def test_services_table_equals_the_firewall_roles():
    assert core.SERVICES == firewall_model.SERVICES


# --- the picture --------------------------------------------------------------------
def test_hosts_are_drawn_in_their_tiers_with_services_and_certificates():
    picture = draw(admin_sources=["172.18.0.0/16"], title="demo")
    dot = picture.dot
    assert picture.hosts == 4 and picture.edges == 3 and picture.warnings == []
    assert dot.startswith("digraph topology {\n") and dot.endswith("}\n")
    assert 'label="demo"' in dot
    for index, group in enumerate(("loadbalancers", "appservers", "dbservers")):
        assert f"subgraph cluster_{index} {{" in dot
        assert f"({group})" in dot
    assert "cluster_other" not in dot
    lb = next(line for line in dot.splitlines() if line.startswith('    "host:lb" ['))
    assert "<B>lb</B>" in lb and "172.18.0.2 · Debian 12.8" in lb
    # nginx first, then the firewall and sshd in small print; cron is not a known unit
    assert lb.index("nginx") < lb.index(core.FIREWALL) < lb.index("ssh")
    assert "cron" not in lb
    assert "cert demo (demo.groundwork.test), expires 2027-02-23" in lb
    assert core.CERT_COLOURS["ok"] in lb
    db = next(line for line in dot.splitlines() if line.startswith('    "host:db" ['))
    assert "cert db (db.internal), expires 2026-12-01" in db and core.CERT_COLOURS["soon"] in db
    assert "postgresql@15-main" in db and "postgresql<" not in db
    app2 = next(line for line in dot.splitlines() if line.startswith('    "host:app2" ['))
    assert "shop" in app2 and "(failed)" in app2 and core.STATE_COLOURS["failed"] in app2
    assert '{rank=same; "host:app1"; "host:app2";}' in dot
    assert "SSH (22/tcp) to every host from 172.18.0.0/16" in dot


def test_flows_become_labelled_arrows_between_tier_frames():
    dot = draw().dot
    assert '"internet" [shape=ellipse' in dot and "Internet (any)" in dot
    assert '"internet" -> "host:lb" [label="  web: 80, 443/tcp  ", lhead=cluster_0];' in dot
    assert (
        '"host:lb" -> "host:app1" [label="  lb-to-app: 8000/tcp  ", ltail=cluster_0, lhead=cluster_1];' in dot
    )
    assert '"host:app1" -> "host:db" [label="  app-to-db: postgresql 5432/tcp  "' in dot
    # the tiers stay in order from top to bottom
    assert '"host:lb" -> "host:app1" [style=invis];' in dot
    assert '"host:app1" -> "host:db" [style=invis];' in dot


def test_flows_between_the_same_ends_share_one_arrow_and_hosts_networks_groups_are_nodes():
    groups = dict(GROUPS, monitoring=["db"])
    flows = [
        {"name": "web", "from": "any", "to": "loadbalancers", "port": 80},
        {"from": "any", "to": "loadbalancers", "port": 443},
        {"name": "backup", "from": "10.9.0.0/24", "to": "db", "port": 22},
        {"name": "metrics", "from": ["monitoring", "lb"], "to": "appservers", "service": "node-exporter"},
        {"name": "peers", "from": "appservers", "to": "appservers", "port": 7000},
    ]
    picture = draw(groups=groups, flows=flows)
    dot = picture.dot
    assert picture.warnings == []
    assert '"internet" -> "host:lb" [label="  web: 80/tcp  \\n  443/tcp  ", lhead=cluster_0];' in dot
    assert '"net:10.9.0.0/24" [shape=box' in dot
    assert '"net:10.9.0.0/24" -> "host:db" [label="  backup: 22/tcp  "];' in dot
    assert '"group:monitoring" [shape=box' in dot and "group monitoring\\n(db)" in dot
    assert (
        '"group:monitoring" -> "host:app1" [label="  metrics: node-exporter 9100/tcp  ", lhead=cluster_1];'
        in dot
    )
    # a host by name is the host itself, not its tier's frame
    assert '"host:lb" -> "host:app1" [label="  metrics: node-exporter 9100/tcp  ", lhead=cluster_1];' in dot
    # within one tier: a loop on the tier's first host, no frame clipping
    assert '"host:app1" -> "host:app1" [label="  peers: 7000/tcp  "];' in dot


def test_a_flow_to_a_group_of_drawn_hosts_ends_at_its_hosts():
    # the DNS server is the database server: the arrow ends at it, not at a box of the group
    groups = dict(GROUPS, dnsservers=["db"], everyone=["lb", "ghost"])
    flows = [
        {"name": "dns", "from": ["loadbalancers", "appservers"], "to": "dnsservers", "service": "dns"},
        {"name": "agent", "from": "any", "to": ["all", "everyone"], "port": 9100},
    ]
    picture = draw(groups=groups, flows=flows)
    dot = picture.dot
    assert picture.warnings == []
    label = "  dns: dns 53/tcp, 53/udp  "
    assert f'"host:lb" -> "host:db" [label="{label}", ltail=cluster_0];' in dot
    assert f'"host:app1" -> "host:db" [label="{label}", ltail=cluster_1];' in dot
    assert '"group:dnsservers"' not in dot
    # "all", and a group with a host that is not drawn, stay boxes of their own
    assert '"internet" -> "group:all"' in dot and '"internet" -> "group:everyone"' in dot


def test_the_resolver_is_printed_small_like_sshd():
    units = {"unbound": RUNNING, "named": RUNNING, "ssh": RUNNING}
    assert core.select_services(units, core.DEFAULT_UNITS) == [
        ("named", "active"),
        ("unbound", "active"),
        ("ssh", "active"),
    ]
    assert "unbound" in core.BACKGROUND_UNITS and "named" not in core.BACKGROUND_UNITS


def test_what_cannot_be_drawn_is_named_in_warnings():
    hosts = [HOSTS[0], HOSTS[1], {"name": "db", "report": None}, {"name": "extra", "report": report()}]
    flows = [
        "not a mapping",
        {"name": "typo", "from": "appserver", "to": "dbservers", "port": 5432},
        {"name": "portless", "from": "any", "to": "dbservers"},
    ]
    picture = draw(hosts=hosts, flows=flows)
    assert picture.warnings == [
        "host 'app2' was not inspected; it is drawn without services",
        "host 'db' was not inspected; it is drawn without services",
        "flows[0]: not a mapping; not drawn",
        "flows[1] (typo): 'appserver' is not a group, host, address or 'any'; not drawn",
        "flows[2] (portless): names neither port nor service; not drawn",
    ]
    assert picture.edges == 0
    assert "not inspected" in picture.dot
    # a host that reported but is in no group of the tiers is drawn under "Other hosts"
    assert "subgraph cluster_other {" in picture.dot and '"host:extra"' in picture.dot


def test_tiers_are_configurable_and_an_empty_tier_has_a_placeholder():
    tiers = [{"group": "appservers", "label": "Apps"}, {"group": "caches"}, {"group": "queues"}]
    flows = [{"from": "any", "to": "caches", "port": 6379}, {"from": "any", "to": "queues", "port": 5672}]
    picture = draw(groups=dict(GROUPS, caches=[]), tiers=tiers, flows=flows)
    dot = picture.dot
    assert "<B>Apps</B>" in dot and "<B>caches</B>" in dot
    assert '"empty:cluster_1" [shape=box' in dot and 'label="no hosts"' in dot
    assert '"internet" -> "empty:cluster_1" [label="  6379/tcp  ", lhead=cluster_1];' in dot
    assert "Other hosts" in dot  # lb and db
    # a tier whose group the inventory does not have is left out
    assert "queues" not in dot
    assert picture.warnings == ["flows[1]: 'queues' is not a group, host, address or 'any'; not drawn"]
    with pytest.raises(core.TopologyError, match=r"tiers\[0\]: group is required"):
        draw(tiers=[{"label": "x"}])


def test_text_is_escaped_for_graphviz():
    hosts = [
        {
            "name": 'we<ird>&"host',
            "report": report("10.0.0.1", certs=['x|notAfter=Feb 23 12:00:00 2027 GMT|subject=CN = a<b>"c']),
        }
    ]
    dot = core.render({"all": ['we<ird>&"host']}, hosts, title='say "hi"\\', now=NOW).dot
    assert "we&lt;ird&gt;&amp;&quot;host" in dot
    assert '"host:we<ird>&\\"host"' in dot
    assert "a&lt;b&gt;&quot;c" in dot
    assert 'label="say \\"hi\\"\\\\"' in dot


def test_the_same_input_draws_the_same_source():
    assert draw().dot == draw().dot
    later = draw(now=NOW + datetime.timedelta(days=5))
    assert later.dot == draw().dot  # the date only matters at the colour thresholds


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz is not installed")
def test_graphviz_accepts_the_source(tmp_path):
    source = tmp_path / "t.dot"
    tiers = [*core.DEFAULT_TIERS, {"group": "caches"}]
    hosts = [*HOSTS, {"name": "lost"}]
    picture = draw(groups=dict(GROUPS, caches=[]), admin_sources=["10.0.0.0/8"], tiers=tiers, hosts=hosts)
    assert "no hosts" in picture.dot and "Other hosts" in picture.dot
    source.write_text(picture.dot)
    result = subprocess.run(["dot", "-Tsvg", str(source)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "<svg" in result.stdout


def test_hosts_outside_the_inventory_groups_follow_them_in_their_order():
    groups = {"all": ["web1", "db1"], "webservers": ["web1"]}
    hosts = [{"name": name} for name in ("extra2", "db1", "extra1", "web1")]
    builder = core._Builder(groups, hosts, [{"group": "webservers", "label": "Web"}], [], None, 30)
    assert [(tier.label, [host.name for host in tier.hosts]) for tier in builder.tiers] == [
        ("Web", ["web1"]),
        ("Other hosts", ["db1", "extra2", "extra1"]),
    ]
