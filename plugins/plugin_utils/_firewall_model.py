# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The logic of the firewall_model filter (plugins/filter/firewall_model.py documents it).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._firewall_model import firewall_model
"""

from __future__ import annotations

import difflib
import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.module_utils._topology.core import (
    SERVICES as TOPOLOGY_SERVICES,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import (
    Checker,
    is_int,
    named_items,
    quote,
)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+/ -]{0,63}")
NAME_EXPECTED = "up to 64 letters, digits, spaces and '_.:+/-', starting with a letter or digit"
RATE = re.compile(r"[1-9][0-9]{0,6}/(second|minute|hour|day)")
RANGE = re.compile(r"([0-9]{1,5})-([0-9]{1,5})")
SRC = re.compile(r"\bsrc (\S+)")
PROTOS = ("tcp", "udp")
FLOW_KEYS = ("name", "from", "to", "port", "proto", "service")
EGRESS_KEYS = ("name", "to", "port", "proto", "service")

# Well-known services: name -> [(proto, port)]. "ssh" follows firewall_ssh_port.
# Well-known services (name -> [(proto, port)]) live with the topology drawing, which
# labels flows with the same ports.
SERVICES = TOPOLOGY_SERVICES


def _as_list(value):
    return value if isinstance(value, list) else [value]


def parse_network(value):
    """An IP address or network as ipaddress network, or a reason why it is not one."""
    if not isinstance(value, str) or not value:
        return None, "is not an IP address or network"
    text = value.strip()
    try:
        return ipaddress.ip_network(text, strict=True), None
    except ValueError as exc:
        if "has host bits set" in str(exc):
            network = ipaddress.ip_network(text, strict=False)
            return None, (
                f"has host bits set (the network is {network}; for one address use /{network.max_prefixlen})"
            )
        return None, "is not an IP address or network"


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


def _render_ports(ports):
    """Sorted (low, high) tuples as nft port syntax."""
    items = [str(low) if low == high else f"{low}-{high}" for low, high in sorted(set(ports))]
    return nft_set(items)


def _rate(check, var, value):
    return check.pattern(
        var,
        None,
        value,
        RATE,
        "a number per second, minute, hour or day, like '10/minute'",
        optional=False,
        problem="is not a rate",
    )


class _Resolver:
    """Addresses of inventory hosts, from firewall_addresses, the hosts' reports and ansible_host."""

    def __init__(self, hostvars, reports):
        self.hostvars = hostvars
        self.reports = reports
        self.needs = []
        self.resolved = {}

    def _vars(self, host):
        try:
            variables = self.hostvars[host]
        except (KeyError, TypeError):
            return {}
        return variables if hasattr(variables, "get") else {}

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
        if host not in self.reports or self.reports[host] is None:
            return [], (
                "has no known address: it could not be inspected (unreachable?); set firewall_addresses"
                " for it in the inventory"
            )
        for text in parse_report(self.reports[host])["addresses"]:
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
    for index, item in enumerate(_as_list(value)):
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


def _service(check, where, key, name, ssh_port):
    """A well-known service as a list of (proto, (low, high))."""
    if not isinstance(name, str) or name not in SERVICES:
        check.add(where, key, name, f"is not a known service (known: {', '.join(sorted(SERVICES))})")
        return None
    return [(proto, (port or ssh_port, port or ssh_port)) for proto, port in SERVICES[name]]


def _looks_like_address(item):
    return isinstance(item, str) and any(char in item for char in ".:/")


def _endpoints(check, where, key, value, groups, allow_any):
    """Parse 'from' or 'to': (any, networks, group names), or None after an error."""
    if value is None or value in ([], ""):
        check.errors.append(f"{where}: {key} is required")
        return None
    items = _as_list(value)
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


def _rule(comment, proto, ports, any_source, networks):
    return {
        "comment": comment,
        "proto": proto,
        "ports": _render_ports(ports),
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
        return _service(check, where, "service", service, ssh_port)
    proto = "tcp" if proto is None else proto
    if proto not in PROTOS:
        check.add(where, "proto", proto, "is not valid (expected 'tcp' or 'udp')")
        return None
    ports = _ports(check, where, item.get("port"))
    return None if ports is None else [(proto, port) for port in ports]


def _flow_list(check, var, items, groups, resolver, host, ssh_port, egress):
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
        peers = ", ".join(str(p) for p in _as_list(item.get(peer_key)))
        default = f"to {peers}" if egress else f"{peers} to {', '.join(_as_list(item.get('to')))}"
        comment = _comment(name or (f"{item['service']} " if item.get("service") else "") + default)
        for proto in PROTOS:
            ports = [port for entry_proto, port in entries if entry_proto == proto]
            if ports:
                rules.append(_rule(comment, proto, ports, any_source, networks + resolved))
    return rules


def _extra_rules(check, rules):
    result = []
    if not isinstance(rules, list):
        check.errors.append("firewall_rules: must be a list of nft rules")
        return result
    for index, rule in enumerate(rules):
        where = f"firewall_rules[{index}]"
        if not isinstance(rule, str) or not rule.strip():
            check.add(where, None, rule, "must be a non-empty nft rule")
            continue
        if len(rule) > 1000 or re.search(r"[\n\r;#\\]", rule):
            check.add(
                where, None, rule, "must be one rule on one line (no ';', '#', backslashes or line breaks)"
            )
            continue
        depth = 0
        for char in rule:
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth < 0:
                break
        if depth != 0:
            check.add(where, None, rule, "has unbalanced braces")
            continue
        result.append(rule.strip())
    return result


def _admin(check, sources):
    networks = []
    if not isinstance(sources, list):
        check.add("firewall_admin_sources", None, sources, "must be a list of IP addresses or networks")
        return networks
    for index, item in enumerate(sources):
        network, problem = parse_network(item)
        if network is None:
            check.add(f"firewall_admin_sources[{index}]", None, item, problem)
            continue
        networks.append(network)
    return networks


def _services(check, services, ssh_port):
    rules = []
    if not isinstance(services, list):
        check.errors.append("firewall_services: must be a list of service names")
        return rules
    entries, names = [], []
    for index, name in enumerate(services):
        found = _service(check, f"firewall_services[{index}]", "service", name, ssh_port)
        if found:
            entries.extend(found)
            names.append(name)
    for proto in PROTOS:
        ports = [port for p, port in entries if p == proto]
        if ports:
            rules.append(_rule("services " + " ".join(names), proto, ports, True, []))
    return rules


def firewall_model(
    flows,
    host=None,
    groups=None,
    hostvars=None,
    reports=None,
    outside=None,
    admin_sources=None,
    ssh_port=22,
    ssh_rate="10/minute",
    ssh_burst=20,
    services=None,
    rules=None,
    egress_restrict=False,
    egress_allow=None,
    log_drops=True,
    log_rate="5/minute",
    icmp_echo_rate="10/second",
    confirm_timeout=60,
):
    """Validate the input and compute the rules of ``host``; see DOCUMENTATION."""
    if not isinstance(host, str) or not host:
        raise AnsibleFilterError("firewall_model: host (the inventory name of the host) is required")
    groups = groups or {}
    if reports is not None:
        reports = dict(reports)
        for result in outside or []:
            if not isinstance(result, dict) or "item" not in result:
                continue
            if "info" in result:  # groundwork.server.host_info
                readable = not result.get("unreachable") and not result.get("failed")
                text = (result.get("info") or {}).get("report")
            else:  # a command's output
                readable = not result.get("unreachable") and result.get("rc") == 0
                text = result.get("stdout")
            reports[result["item"]] = text if readable else None
    check = Checker()

    port = check.integer("firewall_ssh_port", None, ssh_port, 1, 65535, optional=False) or 22
    ssh = {
        "port": port,
        "rate": _rate(check, "firewall_ssh_rate", ssh_rate),
        "burst": check.integer("firewall_ssh_burst", None, ssh_burst, 1, 10000, optional=False),
    }
    log = {"drops": bool(log_drops), "rate": _rate(check, "firewall_log_rate", log_rate)}
    echo_rate = _rate(check, "firewall_icmp_echo_rate", icmp_echo_rate)
    if not (is_int(confirm_timeout) and (int(confirm_timeout) == 0 or 10 <= int(confirm_timeout) <= 3600)):
        check.add(
            "firewall_confirm_timeout",
            None,
            confirm_timeout,
            "is out of range (expected 0 for no commit-confirm, or 10 to 3600 seconds)",
        )

    admin = _admin(check, admin_sources if admin_sources is not None else [])
    resolver = _Resolver(hostvars or {}, reports)
    inbound = _services(check, services if services is not None else [], port)
    inbound += _flow_list(check, "firewall_flows", flows, groups, resolver, host, port, egress=False)
    extra = _extra_rules(check, rules if rules is not None else [])
    egress = _flow_list(
        check,
        "firewall_egress_allow",
        egress_allow if egress_allow is not None else [],
        groups,
        resolver,
        host,
        port,
        egress=True,
    )
    if egress and not egress_restrict:
        check.warnings.append("firewall_egress_allow has no effect while firewall_egress_restrict is false")

    own = parse_report(reports.get(host)) if reports is not None else parse_report(None)
    controller = None
    if own["controller"] is not None:
        address = ipaddress.ip_address(own["controller"])
        if not any(address in network for network in admin):
            controller = {"address": str(address), "family": f"v{address.version}"}
        if own["connection_port"] is not None and own["connection_port"] != port:
            check.warnings.append(
                f"The management connection arrives on port {own['connection_port']}, but the new rules allow"
                f" SSH on firewall_ssh_port {port} only: if that cuts the connection, the host restores the"
                " previous rules by itself"
            )
    elif reports is not None and not admin:
        check.warnings.append(
            "firewall_admin_sources is empty and the play does not connect over SSH: SSH is closed to every"
            " address"
        )

    return {
        "errors": check.errors,
        "warnings": check.warnings,
        "needs": resolver.needs,
        "own": own,
        "admin": collapse(admin),
        "controller": controller,
        "ssh": ssh,
        "inbound": inbound,
        "rules": extra,
        "egress": {"restrict": bool(egress_restrict), "allow": egress},
        "log": log,
        "icmp_echo_rate": echo_rate,
        "addresses": {
            name: [str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n) for n in networks]
            for name, networks in resolver.resolved.items()
        },
    }
