# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Flows as a contract: "group A may reach group B on port P", resolved to addresses.

Every role that needs to know who may reach a host reads the flows through this module:
the firewall (its table), the database roles (which networks may connect on their port).

- ``parse_network``, ``parse_address``, ``parse_report``: the pieces (an inventory value, an
  address, what a host's inspection reports: its management connection, its addresses and
  package states);
- ``Resolver``: the addresses of an inventory host, from its ``firewall_addresses``, else
  from its report (``firewall_host_report``, published by groundwork.server.firewall, or the
  inspection of a host outside the play) and its ``ansible_host``;
- ``PublishedReports(hostvars, hosts)``: the reports the play's hosts published, each read
  from its host's variables when a flow needs it (never every host's for every host);
- ``with_outside(reports, results)``: the reports of the play's hosts plus the results of
  reading hosts outside the play;
- ``inbound(flows, host, groups, hostvars, reports, ssh_port, check)``: the rules of
  ``host`` (one a protocol and flow: comment, proto, ports, any, v4, v6);
- ``egress(allow, ...)``: the same for outbound allows;
- ``sources_for(host, port, proto, flows, groups, hostvars, reports, ...)``: the networks
  that may reach ``host`` on ``port`` (what a database role needs).

Services and ports come from the catalogue, plugins/module_utils/_contracts.py. With
``reports=None`` nothing is resolved: the flows are only checked, and ``Resolver.needs``
lists the hosts whose reports are needed.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _flows as flows
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    CONTROL,
    Checker,
    is_int,
    named_items,
    quote,
)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+/ -]{0,63}")
NAME_EXPECTED = "up to 64 letters, digits, spaces and '_.:+/-', starting with a letter or digit"
RANGE = re.compile(r"([0-9]{1,5})-([0-9]{1,5})")
SRC = re.compile(r"\bsrc (\S+)")
PROTOS = ("tcp", "udp")
FLOW_KEYS = ("name", "from", "to", "port", "proto", "service")
EGRESS_KEYS = ("name", "to", "port", "proto", "service")

# The flow services by name (plugins/module_utils/_contracts.py): name -> [(proto, port)];
# "ssh" follows the host's SSH port.
SERVICES = contracts.SERVICES


def as_list(value):
    return value if isinstance(value, list) else [value]


def parse_network(value):
    """An IP address or network as ipaddress network, or a reason why it is not one."""
    if not isinstance(value, str) or not value or CONTROL.search(value):
        return None, "is not an IP address or network"
    if "%" in value:
        # Python accepts an IPv6 zone ("fe80::1%eth0") of any characters and prints it back:
        # into an nft set it would carry spaces and ';' into the table.
        return None, "is not an IP address or network (a zone index '%...' is not allowed)"
    text = value.strip(" ")
    try:
        return ipaddress.ip_network(text, strict=True), None
    except ValueError:
        pass
    # what only the strict parse refuses is a network with host bits set (the value's own
    # text may hold any words, so the exception's message decides nothing)
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None, "is not an IP address or network"
    return None, f"has host bits set (the network is {network}; for one address use /{network.max_prefixlen})"


def parse_address(value):
    """One IP address (IPv4-mapped IPv6 as IPv4, zone index dropped), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address


def _connection(value, server_port_field):
    """(client address, server port) from SSH_CONNECTION or SSH_CLIENT, or (None, None)."""
    fields = value.split()
    client = parse_address(fields[0]) if fields else None
    if client is None:
        return None, None
    port = fields[server_port_field] if len(fields) > server_port_field else ""
    return str(client), int(port) if port.isdigit() else None


def parse_report(text):
    """What the role's inspection printed: the SSH connection, the host's addresses, package states."""
    result = {"controller": None, "connection_port": None, "addresses": [], "packages": {}}
    lines = dict.fromkeys(("ssh", "sshclient"), "")
    for line in (text or "").splitlines():
        key, _sep, value = line.partition("=")
        value = value.strip()
        if key in lines:
            lines[key] = value
        elif key in ("route4", "route6"):
            match = SRC.search(value)
            address = parse_address(match.group(1)) if match else None
            if address is not None and not (
                address.is_loopback or address.is_link_local or address.is_unspecified
            ):
                result["addresses"].append(str(address))
        elif key == "pkg" and value:
            name, _sep, status = value.partition(" ")
            result["packages"][name] = status.strip() or "unknown"
    # SSH_CONNECTION: client, client port, server, server port; the older SSH_CLIENT (only
    # when the former is missing): client, client port, server port.
    controller, port = _connection(lines["ssh"], 3)
    if controller is None:
        controller, port = _connection(lines["sshclient"], 2)
    result["controller"], result["connection_port"] = controller, port
    return result


def collapse(networks):
    """IPv4 and IPv6 networks, overlaps merged, as nft elements (a host without /32 or /128)."""
    result = {}
    for version, key in ((4, "v4"), (6, "v6")):
        members = [n for n in networks if n.version == version]
        result[key] = [
            str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n)
            for n in ipaddress.collapse_addresses(members)
        ]
    return result


def nft_set(elements):
    """One element as is, several as an anonymous nft set."""
    return elements[0] if len(elements) == 1 else "{ " + ", ".join(elements) + " }"


def render_ports(ports):
    """Sorted (low, high) tuples as nft port syntax."""
    items = [str(low) if low == high else f"{low}-{high}" for low, high in sorted(set(ports))]
    return nft_set(items)


# The variable in which groundwork.server.firewall publishes what it read on a host (its
# addresses), for the other hosts' decisions in the same run.
REPORT_VAR = "firewall_host_report"


def host_vars(hostvars, host):
    """The variables of an inventory host, or {} for a host the inventory does not know."""
    try:
        variables = hostvars[host]
    except (KeyError, TypeError):
        return {}
    return variables if hasattr(variables, "get") else {}


def published_report(hostvars, host):
    """The report groundwork.server.firewall published for ``host`` in this run, or None."""
    return host_vars(hostvars, host).get(REPORT_VAR)


class PublishedReports(Mapping):
    """The reports the hosts ``hosts`` (the play's) published (``REPORT_VAR``), by host name,
    each read from that host's variables the first time it is asked for, and the reports set
    here directly (a host's own inspection, the reads of hosts outside the play), which win.

    Reading another host's variables (``hostvars[name]``) makes Ansible compute all of that
    host's variables. A host's plan needs the reports of the hosts its flows name, not of every
    host of the play: read eagerly, every host read every other host's, and the plans of a run
    grew with the square of the fleet. ``Resolver`` passes the variables it has already read."""

    def __init__(self, hostvars, hosts, given=None, read=None):
        self._hostvars = hostvars
        self._hosts = hosts if isinstance(hosts, (list, tuple)) else list(hosts or [])
        self._members = None
        self._given = dict(given or {})
        self._read = {} if read is None else read

    def _member(self, host):
        if self._members is None:
            self._members = frozenset(self._hosts)
        return host in self._members

    def report(self, host, variables=None):
        """The report of ``host`` (None when it published none); ``variables``: its variables
        when the caller has them already. KeyError for a host that is neither given nor a play host."""
        if host in self._given:
            return self._given[host]
        if not self._member(host):
            raise KeyError(host)
        if host not in self._read:
            found = host_vars(self._hostvars, host) if variables is None else variables
            self._read[host] = found.get(REPORT_VAR)
        return self._read[host]

    def __getitem__(self, host):
        return self.report(host)

    def __setitem__(self, host, text):
        self._given[host] = text

    def __contains__(self, host):
        return host in self._given or self._member(host)

    def __iter__(self):
        yield from self._given
        yield from (host for host in self._hosts if host not in self._given)

    def __len__(self):
        return len(self._given) + sum(1 for host in self._hosts if host not in self._given)

    def merged(self, given):
        """A copy with ``given`` (host name -> report) added; what was read is shared."""
        copy = PublishedReports(self._hostvars, self._hosts, {**self._given, **given}, self._read)
        copy._members = self._members
        return copy


class Resolver:
    """Addresses of inventory hosts, from firewall_addresses, the hosts' reports and ansible_host."""

    def __init__(self, hostvars, reports):
        self.hostvars = hostvars
        self.reports = reports
        self.needs = []
        self.resolved = {}
        self._variables = {}

    def _vars(self, host):
        # Each host's variables once per resolver: a lookup computes all of them.
        if host not in self._variables:
            self._variables[host] = host_vars(self.hostvars, host)
        return self._variables[host]

    def _report(self, host, variables):
        """The report of ``host``, or None when it has none (not inspected, or unreachable)."""
        if host not in self.reports:
            return None
        if isinstance(self.reports, PublishedReports):
            return self.reports.report(host, variables)
        return self.reports[host]

    def addresses(self, host):
        """(list of ip networks, problem) for one host; problem is None when it has addresses."""
        variables = self._vars(host)
        given = variables.get("firewall_addresses")
        if given is not None:
            if not isinstance(given, list):
                return [], f"has firewall_addresses {quote(given)}, which is not a list of IP addresses"
            networks = []
            for index, item in enumerate(given):
                network, problem = parse_network(str(item) if isinstance(item, str) else item)
                if network is None:
                    return [], f"has firewall_addresses[{index}] {quote(item)}, which {problem}"
                networks.append(network)
            if not networks:
                return [], "has no address (its firewall_addresses is empty)"
            self.resolved[host] = networks
            return networks, None
        if self.reports is None:
            if host not in self.needs:
                self.needs.append(host)
            return [], None
        networks = []
        ansible_host = variables.get("ansible_host")
        address = parse_address(str(ansible_host)) if ansible_host else None
        if address is not None:
            networks.append(ipaddress.ip_network(address))
        report = self._report(host, variables)
        if report is None:
            return [], (
                "has no known address: it could not be inspected (unreachable?); set firewall_addresses"
                " for it in the inventory"
            )
        for text in parse_report(report)["addresses"]:
            network = ipaddress.ip_network(text)
            if network not in networks:
                networks.append(network)
        if not networks:
            return [], (
                "has no known address: it reports no default route and its ansible_host"
                f" {quote(ansible_host or host)} is not an IP address; set firewall_addresses for it"
            )
        self.resolved[host] = networks
        return networks, None


def _ports(check, where, value):
    """A port spec (int, 'a-b', list of those) as a list of (low, high), or None after an error."""
    if value is None:
        check.errors.append(
            f"{where}: port is required (a number, a range 'low-high' or a list), or a service"
        )
        return None
    if isinstance(value, list) and not value:
        check.add(where, "port", value, "must not be empty")
        return None
    result = []
    for index, item in enumerate(as_list(value)):
        key = f"port[{index}]" if isinstance(value, list) else "port"
        if is_int(item):
            if not 1 <= int(item) <= 65535:
                check.add(where, key, item, "is out of range (expected 1-65535 or a range 'low-high')")
                return None
            result.append((int(item), int(item)))
            continue
        match = RANGE.fullmatch(item.replace(" ", "")) if isinstance(item, str) else None
        if not match:
            check.add(where, key, item, "is not a port (expected 1-65535 or a range 'low-high')")
            return None
        low, high = int(match.group(1)), int(match.group(2))
        if not (1 <= low <= 65535 and 1 <= high <= 65535):
            check.add(where, key, item, "is out of range (expected ports from 1 to 65535)")
            return None
        if low >= high:
            check.add(where, key, item, "is not a range (the first port must be lower than the second)")
            return None
        result.append((low, high))
    return result


def service_entries(check, where, key, name, ssh_port):
    """A well-known service as a list of (proto, (low, high))."""
    if not isinstance(name, str) or name not in SERVICES:
        check.add(where, key, name, f"is not a known service (known: {', '.join(sorted(SERVICES))})")
        return None
    return [(proto, (port, port)) for proto, port in contracts.service_ports(name, ssh_port)]


def _looks_like_address(item):
    return isinstance(item, str) and any(char in item for char in ".:/")


def _endpoints(check, where, key, value, groups, allow_any):
    """Parse 'from' or 'to': (any, networks, group names), or None after an error."""
    if value is None or value in ([], ""):
        check.errors.append(f"{where}: {key} is required")
        return None
    items = as_list(value)
    any_source, networks, group_names, valid = False, [], [], True
    for index, item in enumerate(items):
        at = f"{key}[{index}]" if isinstance(value, list) else key
        if isinstance(item, str) and item in groups:
            group_names.append(item)
        elif allow_any and item == "any":
            any_source = True
        elif allow_any and _looks_like_address(item):
            network, problem = parse_network(item)
            if network is None:
                check.add(where, at, item, problem)
                valid = False
            else:
                networks.append(network)
        else:
            expected = "a group of the inventory"
            if allow_any:
                expected += ", an IP address or network, or 'any'"
            candidates = [group for group in groups if group != "ungrouped"]
            close = (
                difflib.get_close_matches(item, candidates, n=1, cutoff=0.75) if isinstance(item, str) else []
            )
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            check.add(where, at, item, f"is not {expected}{hint}")
            valid = False
    if any_source and len(items) > 1:
        check.errors.append(f"{where}: {key} 'any' cannot be combined with other entries")
        valid = False
    return (any_source, networks, group_names) if valid else None


def rule(comment, proto, ports, any_source, networks):
    return {
        "comment": comment,
        "proto": proto,
        "ports": render_ports(ports),
        "any": any_source,
        **collapse(networks),
    }


def _resolve_groups(check, where, key, group_names, groups, resolver):
    """Addresses of every host of the groups, or None after an error."""
    networks, valid = [], True
    for group in group_names:
        members = list(groups[group])
        if not members:
            check.warnings.append(f"{where}: {key} {group!r} has no hosts; it contributes no address")
        for member in members:
            found, problem = resolver.addresses(member)
            if problem:
                check.errors.append(f"{where}: {key} {group!r}: host {member!r} {problem}")
                valid = False
            networks.extend(found)
    return networks if valid else None


def _comment(text):
    return re.sub(r"[^A-Za-z0-9_.,:+/ -]", "_", text)[:64]


def _entries(check, where, item, ssh_port):
    """(proto, (low, high)) pairs of a flow from its service, or its port and proto; None after an error."""
    service, proto = item.get("service"), item.get("proto")
    if service is not None:
        if item.get("port") is not None or proto is not None:
            check.errors.append(f"{where}: service {quote(service)} cannot be combined with port or proto")
            return None
        return service_entries(check, where, "service", service, ssh_port)
    proto = "tcp" if proto is None else proto
    if proto not in PROTOS:
        check.add(where, "proto", proto, "is not valid (expected 'tcp' or 'udp')")
        return None
    ports = _ports(check, where, item.get("port"))
    return None if ports is None else [(proto, port) for port in ports]


def flow_rules(check, var, items, groups, resolver, host, ssh_port, egress):
    """Validate flows (or egress allows) and return the rules that concern ``host``."""
    rules = []
    allowed = EGRESS_KEYS if egress else FLOW_KEYS
    peer_key = "to" if egress else "from"
    for where, item in named_items(check, var, items, NAME, NAME_EXPECTED, required=False, cite_name=False):
        name = item.get("name")
        name = name if isinstance(name, str) and NAME.fullmatch(name) else None
        unknown = sorted(str(key) for key in item if key not in allowed)
        if unknown:
            check.errors.append(
                f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})"
            )
            continue
        peer = _endpoints(check, where, peer_key, item.get(peer_key), groups, allow_any=True)
        targets = None if egress else _endpoints(check, where, "to", item.get("to"), groups, allow_any=False)
        entries = _entries(check, where, item, ssh_port)
        if peer is None or entries is None or (not egress and targets is None):
            continue
        if not egress and host not in {member for group in targets[2] for member in groups[group]}:
            continue
        any_source, networks, group_names = peer
        resolved = _resolve_groups(check, where, peer_key, group_names, groups, resolver)
        if resolved is None or not (any_source or networks or resolved):
            continue
        peers = ", ".join(str(p) for p in as_list(item.get(peer_key)))
        default = f"to {peers}" if egress else f"{peers} to {', '.join(as_list(item.get('to')))}"
        comment = _comment(name or (f"{item['service']} " if item.get("service") else "") + default)
        for proto in PROTOS:
            ports = [port for entry_proto, port in entries if entry_proto == proto]
            if ports:
                rules.append(rule(comment, proto, ports, any_source, networks + resolved))
    return rules


def with_outside(reports, outside):
    """The reports by host name, plus what reading hosts outside the play returned: the
    results of a looped task (``item`` the host; the ``report`` of groundwork.server.role_plan
    (role firewall), groundwork.server.host_info's ``info.report`` or a command's ``stdout``).
    A host that could not be read reports None. ``reports``: a mapping, or PublishedReports
    (then its reads are kept: the result reads the play's hosts only as needed)."""
    merged = {} if isinstance(reports, PublishedReports) else dict(reports or {})
    for result in outside or []:
        if not isinstance(result, dict) or "item" not in result:
            continue
        if "report" in result or result.get("unreachable"):  # groundwork.server.role_plan
            readable = not result.get("unreachable") and not result.get("failed")
            text = result.get("report")
        elif "info" in result:  # groundwork.server.host_info
            readable = not result.get("unreachable") and not result.get("failed")
            text = (result.get("info") or {}).get("report")
        else:  # a command's output
            readable = not result.get("unreachable") and result.get("rc") == 0
            text = result.get("stdout")
        merged[result["item"]] = text if readable else None
    return reports.merged(merged) if isinstance(reports, PublishedReports) else merged


def inbound(flows, host, groups, hostvars, reports, ssh_port=22, check=None, resolver=None):
    """The rules of ``host`` from ``flows`` (firewall_flows): those whose "to" groups hold it,
    with the addresses of their "from" side. Problems go to ``check`` (a Checker)."""
    check = check if check is not None else Checker()
    resolver = resolver if resolver is not None else Resolver(hostvars or {}, reports)
    return flow_rules(check, "firewall_flows", flows, groups or {}, resolver, host, ssh_port, egress=False)


def egress(allow, host, groups, hostvars, reports, ssh_port=22, check=None, resolver=None):
    """The outbound rules from ``allow`` (firewall_egress_allow), with the addresses of their "to"."""
    check = check if check is not None else Checker()
    resolver = resolver if resolver is not None else Resolver(hostvars or {}, reports)
    return flow_rules(
        check, "firewall_egress_allow", allow, groups or {}, resolver, host, ssh_port, egress=True
    )


def _covers(ports, port):
    """Whether nft port syntax ('5432', '5000-6000', '{ 80, 5432 }') includes ``port``."""
    for part in ports.strip("{} ").split(","):
        low, _sep, high = part.strip().partition("-")
        if low.isdigit() and int(low) <= port <= int(high or low):
            return True
    return False


def sources_for(
    host, port, flows, groups, hostvars, reports, proto="tcp", ssh_port=22, check=None, resolver=None
):
    """Which networks may reach ``host`` on ``port``/``proto`` by the flows: a list of
    ``{"comment", "any", "networks"}`` (one a matching rule; ``any`` for a flow from 'any',
    networks as ipaddress networks). Problems go to ``check``; ``resolver.needs`` lists the
    hosts whose reports are needed when ``reports`` is None."""
    found = []
    for item in inbound(flows, host, groups, hostvars, reports, ssh_port, check, resolver):
        if item["proto"] != proto or not _covers(item["ports"], port):
            continue
        found.append(
            {
                "comment": item["comment"],
                "any": item["any"],
                "networks": [ipaddress.ip_network(text) for text in item["v4"] + item["v6"]],
            }
        )
    return found
