# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployed topology as a Graphviz DOT picture.

Pure logic: parse what each host reported (addresses, service units, certificates),
place the hosts in their tiers, turn the firewall flows into labelled edges and write
the DOT source. The same input always gives the same source (sorted, no timestamps),
so a caller can tell from the source alone whether the picture changed; the current
time only decides the colour of a certificate close to its expiry.

A host's report is the text the playbook's one read-only command prints, one item a line:

    address=172.18.0.2 fd00::2
    release=12.8
    firewall=loaded
    unit=nginx.service loaded active running A high performance web server
    cert=demo|notAfter=Feb 23 12:00:00 2027 GMT|subject=CN = demo.groundwork.test

(``firewall=loaded`` when the nftables table ``inet groundwork`` exists; ``unit=`` lines
are ``systemctl list-units --type=service --all --plain --no-legend``; ``cert=`` lines are
the certificate's directory name and ``openssl x509 -noout -enddate -subject``, joined
with ``|``).
"""

from __future__ import annotations

import datetime
import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts

DEFAULT_TIERS = tuple({"group": tier["group"], "label": tier["label"]} for tier in contracts.TIERS)
DEFAULT_UNITS = contracts.UNITS
# The firewall is drawn when its nftables table is loaded (the unit only runs at boot).
FIREWALL = "nftables firewall"
# What every host runs is printed small: the firewall, sshd and the resolver of the internal
# zone (groundwork.server.dns).
BACKGROUND_UNITS = ("groundwork-firewall", "unbound", "ssh", FIREWALL)

# Well-known flow services: name -> [(proto, port)] (the contracts' catalogue); port None
# for "ssh" means the host's SSH port (22 in the picture).
SERVICES = contracts.SERVICES

MONTHS = {
    name: index
    for index, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
NOT_AFTER = re.compile(r"([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})")
COMMON_NAME = re.compile(r"(?:^|[/,]\s*)CN\s*=\s*([^,/]+)")
SHOWN_STATES = ("active", "reloading", "activating", "deactivating", "failed")

# Colours: one per tier (cycled), and the states of services and certificates.
TIER_COLOURS = (
    ("#eaf2fb", "#4a7ab5"),
    ("#ebf6ec", "#4f9457"),
    ("#fbf1e3", "#b97b2a"),
    ("#f3ecf8", "#8160a3"),
)
OTHER_COLOURS = ("#f2f2f2", "#8a8a8a")
STATE_COLOURS = {"active": "#2e8540", "failed": "#c62828"}
STATE_OTHER = "#d08700"
CERT_COLOURS = {"ok": "#2e6da4", "soon": "#d08700", "expired": "#c62828", "unreadable": "#c62828"}
FONT = "Helvetica"
# Modules may run on Pythons older than 3.11, which have no datetime.UTC.
UTC = datetime.timezone.utc  # noqa: UP017


class TopologyError(Exception):
    """Input the picture cannot be drawn from."""


@dataclass
class Certificate:
    name: str
    subject: str = ""
    not_after: datetime.datetime | None = None
    problem: str = ""


@dataclass
class Report:
    addresses: list = field(default_factory=list)
    release: str = ""
    units: dict = field(default_factory=dict)  # unit name (without .service) -> (active, sub)
    firewall: bool = False
    certificates: list = field(default_factory=list)


@dataclass
class Host:
    name: str
    address: str = ""
    release: str = ""
    inspected: bool = False
    services: list = field(default_factory=list)  # (name, state)
    certificates: list = field(default_factory=list)


@dataclass
class Tier:
    key: str
    group: str
    label: str
    hosts: list = field(default_factory=list)
    colours: tuple = OTHER_COLOURS


@dataclass
class Edge:
    tail: str
    head: str
    labels: list = field(default_factory=list)


@dataclass
class Picture:
    dot: str
    hosts: int
    edges: int
    warnings: list


def parse_not_after(text):
    """``Feb 23 12:00:00 2027 GMT`` (openssl's format, C locale) as an aware UTC datetime, or None."""
    match = NOT_AFTER.search(text or "")
    if not match or match.group(1) not in MONTHS:
        return None
    month = MONTHS[match.group(1)]
    day, hour, minute, second, year = (int(match.group(i)) for i in (2, 3, 4, 5, 6))
    try:
        return datetime.datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def parse_certificate(value):
    """One ``cert=`` line (without the key) as a Certificate."""
    name, _sep, rest = value.partition("|")
    certificate = Certificate(name=name.strip())
    for part in rest.split("|"):
        key, _sep, text = part.partition("=")
        key = key.strip()
        if key == "notAfter":
            certificate.not_after = parse_not_after(text)
        elif key == "subject":
            match = COMMON_NAME.search(text.strip())
            certificate.subject = match.group(1).strip() if match else text.strip()
    if certificate.not_after is None:
        certificate.problem = "unreadable"
    return certificate


def parse_report(text):
    """What one host printed, as a Report."""
    report = Report()
    for line in (text or "").splitlines():
        key, _sep, value = line.partition("=")
        if key == "address":
            report.addresses = value.split()
        elif key == "release":
            report.release = value.strip()
        elif key == "firewall":
            report.firewall = value.strip() == "loaded"
        elif key == "unit":
            fields = value.split()
            if len(fields) >= 4:
                unit = fields[0]
                if unit.endswith(".service"):
                    unit = unit[: -len(".service")]
                report.units[unit] = (fields[2], fields[3])
        elif key == "cert" and value.strip():
            report.certificates.append(parse_certificate(value))
    report.certificates.sort(key=lambda c: c.name)
    return report


def select_services(units, patterns):
    """The (name, state) of the units matching ``patterns`` that are not simply inactive, in pattern order."""
    chosen = []
    patterns = [p for p in patterns if p not in BACKGROUND_UNITS] + [
        p for p in patterns if p in BACKGROUND_UNITS
    ]
    for pattern in patterns:
        for unit in sorted(units):
            if fnmatch.fnmatchcase(unit, pattern) and unit not in (name for name, _state in chosen):
                active, _sub = units[unit]
                if active in SHOWN_STATES:
                    chosen.append((unit, active))
    return chosen


def certificate_state(certificate, now, warning_days):
    if certificate.problem or certificate.not_after is None:
        return "unreadable"
    if certificate.not_after <= now:
        return "expired"
    if certificate.not_after - now <= datetime.timedelta(days=warning_days):
        return "soon"
    return "ok"


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _looks_like_network(text):
    try:
        ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        return False
    return True


def ports_label(flow):
    """``80, 443/tcp`` or ``postgresql 5432/tcp`` for one flow, or None when it names neither."""
    service = flow.get("service")
    if service is not None:
        entries = SERVICES.get(str(service))
        if entries is None:
            return str(service)
        parts = [f"{port or 22}/{proto}" for proto, port in entries]
        return f"{service} {', '.join(parts)}"
    ports = _as_list(flow.get("port"))
    if not ports:
        return None
    return f"{', '.join(str(port) for port in ports)}/{flow.get('proto') or 'tcp'}"


def _node_id(kind, name):
    return '"' + f"{kind}:{name}".replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _font(text, colour=None, size=None):
    """Escaped text in a FONT element (never an empty one: Graphviz rejects those)."""
    attributes = (f' COLOR="{colour}"' if colour else "") + (f' POINT-SIZE="{size}"' if size else "")
    return f"<FONT{attributes}>{_html(text)}</FONT>" if text else ""


def _row(html, size=None):
    """One left-aligned row of a host's label; ``html`` is already escaped."""
    if size:
        html = f'<FONT POINT-SIZE="{size}">{html}</FONT>'
    return f'<TR><TD ALIGN="LEFT">{html}</TD></TR>'


def _plain(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Builder:
    """Places hosts in tiers and flows on edges, then writes DOT."""

    def __init__(self, groups, hosts, tiers, units, now, warning_days):
        self.groups = {name: list(members or []) for name, members in (groups or {}).items()}
        self.now = now
        self.warning_days = warning_days
        self.warnings = []
        self.units = list(units)
        self.data = {}
        for item in hosts or []:
            name = item.get("name")
            if not name:
                continue
            self.data[name] = item
        order = list(self.groups.get("all", []))
        known = set(order)
        order += [name for name in self.data if name not in known]
        self.tiers = []
        placed = set()
        for index, tier in enumerate(tiers):
            group = tier.get("group")
            if not group:
                raise TopologyError(f"tiers[{index}]: group is required")
            if group not in self.groups:
                continue  # an inventory without, say, database servers: no empty frame for them
            members = [name for name in self.groups[group] if name not in placed]
            placed.update(members)
            self.tiers.append(
                Tier(
                    key=f"cluster_{index}",
                    group=group,
                    label=tier.get("label") or group,
                    hosts=[self.host(name) for name in members],
                    colours=TIER_COLOURS[index % len(TIER_COLOURS)],
                )
            )
        rest = [name for name in order if name not in placed]
        if rest:
            self.tiers.append(
                Tier(key="cluster_other", group="", label="Other hosts", hosts=[self.host(n) for n in rest])
            )
        self.tier_of_group = {tier.group: tier for tier in self.tiers if tier.group}
        self.host_names = {host.name for tier in self.tiers for host in tier.hosts}
        self.extra_nodes = {}  # node id -> (label, kind)
        self.edges = {}

    def host(self, name):
        item = self.data.get(name, {})
        report_text = item.get("report")
        host = Host(name=name, address=str(item.get("address") or ""))
        if report_text is None:
            self.warnings.append(f"host {name!r} was not inspected; it is drawn without services")
            return host
        report = parse_report(report_text)
        host.inspected = True
        if report.addresses:
            host.address = report.addresses[0]
        host.release = report.release
        host.services = select_services(report.units, self.units + _as_list(item.get("units")))
        if report.firewall:
            background = [service for service in host.services if service[0] in BACKGROUND_UNITS]
            index = len(host.services) - len(background)
            host.services.insert(index, (FIREWALL, "active"))
        host.certificates = report.certificates
        return host

    # --- flows ---------------------------------------------------------------
    def endpoint(self, where, value):
        """(node id, cluster key or None) for one flow endpoint, or None with a warning."""
        text = str(value)
        if text == "any":
            self.extra_nodes['"internet"'] = ("Internet (any)", "internet")
            return '"internet"', None
        if text in self.tier_of_group:
            tier = self.tier_of_group[text]
            return self.anchor(tier), tier.key
        if text in self.host_names:
            return _node_id("host", text), None
        if text in self.groups:
            members = ", ".join(self.groups[text]) or "no hosts"
            node = _node_id("group", text)
            self.extra_nodes[node] = (f"group {text}\n({members})", "group")
            return node, None
        if _looks_like_network(text):
            node = _node_id("net", text)
            self.extra_nodes[node] = (text, "network")
            return node, None
        self.warnings.append(f"{where}: {text!r} is not a group, host, address or 'any'; not drawn")
        return None

    def targets(self, where, value):
        """The endpoints a flow's "to" ends at: endpoint()'s, except that a group which is not a
        tier but whose hosts are all drawn (the DNS servers among the database servers) ends at
        each of its hosts, where the firewall opens the port. ``all`` stays a box of its own."""
        text = str(value)
        members = self.groups.get(text) or []
        if (
            text != "all"
            and text not in self.tier_of_group
            and text not in self.host_names
            and members
            and all(name in self.host_names for name in members)
        ):
            return [(_node_id("host", name), None) for name in members]
        return [self.endpoint(where, value)]

    @staticmethod
    def anchor(tier):
        return _node_id("host", tier.hosts[0].name) if tier.hosts else _node_id("empty", tier.key)

    def add_flows(self, flows):
        for index, flow in enumerate(flows or []):
            where = f"flows[{index}]"
            if not isinstance(flow, dict):
                self.warnings.append(f"{where}: not a mapping; not drawn")
                continue
            name = flow.get("name")
            where = f"{where} ({name})" if name else where
            ports = ports_label(flow)
            if ports is None:
                self.warnings.append(f"{where}: names neither port nor service; not drawn")
                continue
            label = f"{name}: {ports}" if name else ports
            tails = [self.endpoint(where, item) for item in _as_list(flow.get("from"))]
            heads = [head for item in _as_list(flow.get("to")) for head in self.targets(where, item)]
            for tail in tails:
                for head in heads:
                    if tail is None or head is None:
                        continue
                    edge = self.edges.setdefault((tail, head), Edge(tail=tail, head=head))
                    if label not in edge.labels:
                        edge.labels.append(label)

    # --- DOT -----------------------------------------------------------------
    def host_label(self, host):
        rows = [_row(f"<B>{_html(host.name)}</B>", size=12)]
        details = " · ".join(
            part for part in (host.address, f"Debian {host.release}" if host.release else "") if part
        )
        if details:
            rows.append(_row(_font(details, colour="#555555", size=9)))
        if not host.inspected:
            rows.append(_row(_font("not inspected", colour=STATE_COLOURS["failed"], size=9)))
        for name, state in host.services:
            colour = STATE_COLOURS.get(state, STATE_OTHER)
            text = _font("●", colour=colour) + " " + _html(name)
            if state != "active":
                text += " " + _font(f"({state})", colour=colour)
            # What every host runs (firewall, sshd) in small print, below what the host is for.
            rows.append(_row(text, size=9 if name in BACKGROUND_UNITS else None))
        for certificate in host.certificates:
            state = certificate_state(certificate, self.now, self.warning_days)
            if state == "unreadable":
                text = f"cert {certificate.name}: unreadable"
            else:
                verb = "EXPIRED" if state == "expired" else "expires"
                subject = f" ({certificate.subject})" if certificate.subject else ""
                text = f"cert {certificate.name}{subject}, {verb} {certificate.not_after:%Y-%m-%d}"
            rows.append(_row(_font(text, colour=CERT_COLOURS[state], size=9)))
        return (
            '<<TABLE BORDER="1" COLOR="#9a9a9a" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3"'
            ' BGCOLOR="white" STYLE="rounded">' + "".join(rows) + "</TABLE>>"
        )

    def dot(self, title, footer):
        lines = [
            "digraph topology {",
            f"  graph [rankdir=TB, compound=true, newrank=true, nodesep=0.35, ranksep=0.75, pad=0.3,"
            f' fontname="{FONT}", fontsize=16, labelloc=t, label="{_plain(title)}"];',
            f'  node [fontname="{FONT}", fontsize=11, shape=plain];',
            f'  edge [fontname="{FONT}", fontsize=10, color="#4d4d4d", fontcolor="#333333", penwidth=1.3,'
            " arrowsize=0.8];",
        ]
        for node, (label, kind) in sorted(self.extra_nodes.items()):
            if kind == "internet":
                lines.append(
                    f'  {node} [shape=ellipse, style="filled", fillcolor="#fff7d6", color="#b59b2a",'
                    f' label="{_plain(label)}", fontsize=12, margin="0.25,0.08"];'
                )
            else:
                lines.append(
                    f'  {node} [shape=box, style="rounded,dashed", color="#8a8a8a",'
                    f' label="{_plain(label)}", margin="0.15,0.06"];'
                )
        for tier in self.tiers:
            fill, border = tier.colours
            group_note = f" ({tier.group})" if tier.group and tier.group != tier.label else ""
            lines.append(f"  subgraph {tier.key} {{")
            lines.append(
                f'    graph [style="rounded,filled", fillcolor="{fill}", color="{border}", penwidth=1.2,'
                f" fontsize=13, margin=12,"
                f" label=<<B>{_html(tier.label)}</B>{_font(group_note, size=10)}>];"
            )
            if not tier.hosts:
                lines.append(
                    f'    {_node_id("empty", tier.key)} [shape=box, style="dashed", color="{border}",'
                    ' label="no hosts", fontsize=10];'
                )
            for host in tier.hosts:
                lines.append(f"    {_node_id('host', host.name)} [label={self.host_label(host)}];")
            if len(tier.hosts) > 1:
                members = "; ".join(_node_id("host", host.name) for host in tier.hosts)
                lines.append(f"    {{rank=same; {members};}}")
                # Left to right in inventory order, without widening the gaps between them.
                chain = " -> ".join(_node_id("host", host.name) for host in tier.hosts)
                lines.append(f"    {chain} [style=invis, minlen=0];")
            lines.append("  }")
        # Keep the tiers in their order from top to bottom even where no flow links them.
        for index in range(len(self.tiers) - 1):
            upper, lower = self.tiers[index], self.tiers[index + 1]
            lines.append(f"  {self.anchor(upper)} -> {self.anchor(lower)} [style=invis];")
        for edge in self.edges.values():
            (tail, tail_cluster), (head, head_cluster) = edge.tail, edge.head
            attributes = [f'label="{_plain(chr(10).join(f"  {label}  " for label in edge.labels))}"']
            # An endpoint that is a tier ends at the tier's frame, not at its first host.
            if tail_cluster and tail_cluster != head_cluster:
                attributes.append(f"ltail={tail_cluster}")
            if head_cluster and tail_cluster != head_cluster:
                attributes.append(f"lhead={head_cluster}")
            lines.append(f"  {tail} -> {head} [{', '.join(attributes)}];")
        if footer:
            lines.append(
                f'  footer [shape=plaintext, fontsize=10, fontcolor="#555555", label="{_plain(footer)}"];'
            )
            for tier in self.tiers[-1:]:
                lines.append(f"  {self.anchor(tier)} -> footer [style=invis];")
        lines.append("}")
        return "\n".join(lines) + "\n"


def render(
    groups,
    hosts,
    flows=None,
    tiers=DEFAULT_TIERS,
    units=DEFAULT_UNITS,
    title="Deployed topology",
    admin_sources=None,
    now=None,
    warning_days=30,
):
    """The picture of the topology (see the module's documentation for the inputs)."""
    now = now or datetime.datetime.now(UTC)
    builder = _Builder(groups, hosts, list(tiers), units, now, warning_days)
    builder.add_flows(flows)
    footer_parts = []
    admin = [str(source) for source in _as_list(admin_sources)]
    if admin:
        footer_parts.append(f"SSH (22/tcp) to every host from {', '.join(admin)}")
    if flows:
        footer_parts.append("Arrows: the allowed inbound flows; everything else inbound is dropped")
    if any(host.certificates for tier in builder.tiers for host in tier.hosts):
        footer_parts.append(
            f"Certificates: blue valid, orange expiring within {warning_days} days, red expired or unreadable"
        )
    dot = builder.dot(title, "\n".join(footer_parts))
    return Picture(
        dot=dot,
        hosts=len(builder.host_names),
        edges=len(builder.edges),
        warnings=builder.warnings,
    )
