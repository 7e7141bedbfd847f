# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The model of groundwork.server.firewall: its input validated, and the rules of one host.

``firewall_model(flows, host, groups, hostvars, reports, outside, **settings)`` checks the
flows, services, admin sources, extra rules and egress settings against the semantic rules
an argument spec cannot express, and computes the rules of ``host``: the flows whose "to"
groups contain it, resolved to addresses by plugin_utils/_flows.py (a host's
``firewall_addresses``, else what it reports, with its ``ansible_host`` when that is an
address). It never raises for bad input: every problem is one line of ``errors`` naming the
variable, the item, the key and the value. Without ``reports`` (the first step, before any
host is contacted) addresses are not resolved and ``needs`` lists the hosts whose reports
the second step needs. ``outside``: the results of reading hosts outside the play
(_flows.with_outside). The result: errors, warnings, needs, own (this host's parsed report),
admin, controller, ssh, inbound, rules, egress, log, icmp_echo_rate, addresses.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._firewall_model import firewall_model
"""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.groundwork.server.plugins.plugin_utils import _flows
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import CONTROL, Checker, is_int

RATE = re.compile(r"[1-9][0-9]{0,6}/(second|minute|hour|day)")
PROTOS = _flows.PROTOS
# The flow services (plugins/module_utils/_contracts.py), as _flows.py reads them.
SERVICES = _flows.SERVICES
# Importable from here as before (the postgresql model and the tests use them).
parse_network = _flows.parse_network
parse_address = _flows.parse_address
parse_report = _flows.parse_report
collapse = _flows.collapse
nft_set = _flows.nft_set


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


def _flag(check, var, value):
    """A boolean, or a word Ansible reads as one ('yes', 'false', ...); anything else is refused."""
    if isinstance(value, str) and value == value.strip() and not CONTROL.search(value):
        try:
            return boolean(value, strict=True)
        except TypeError:
            pass
    elif isinstance(value, bool):
        return value
    check.add(var, None, value, "must be true or false")
    return False


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
        if len(rule) > 1000 or re.search(r"[;#\\]", rule) or CONTROL.search(rule):
            check.add(
                where,
                None,
                rule,
                "must be one rule on one line (no ';', '#', backslashes, line breaks or other control"
                " characters)",
            )
            continue
        if rule.count('"') % 2:
            check.add(where, None, rule, "has an unbalanced double quote")
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
        found = _flows.service_entries(check, f"firewall_services[{index}]", "service", name, ssh_port)
        if found:
            entries.extend(found)
            names.append(name)
    for proto in PROTOS:
        ports = [port for p, port in entries if p == proto]
        if ports:
            rules.append(_flows.rule("services " + " ".join(names), proto, ports, True, []))
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
    check = Checker()
    if CONTROL.search(host) or re.search(r"[\s{};#\"\\]", host):
        # The host's inventory name stands in a comment line of the table.
        check.add("inventory_hostname", None, host, 'must not contain control characters, spaces or {};#"\\')
    if reports is not None:
        reports = _flows.with_outside(reports, outside)

    port = check.integer("firewall_ssh_port", None, ssh_port, 1, 65535, optional=False) or 22
    ssh = {
        "port": port,
        "rate": _rate(check, "firewall_ssh_rate", ssh_rate),
        "burst": check.integer("firewall_ssh_burst", None, ssh_burst, 1, 10000, optional=False),
    }
    log = {
        "drops": _flag(check, "firewall_log_drops", log_drops),
        "rate": _rate(check, "firewall_log_rate", log_rate),
    }
    restrict = _flag(check, "firewall_egress_restrict", egress_restrict)
    echo_rate = _rate(check, "firewall_icmp_echo_rate", icmp_echo_rate)
    if not (is_int(confirm_timeout) and (int(confirm_timeout) == 0 or 10 <= int(confirm_timeout) <= 3600)):
        check.add(
            "firewall_confirm_timeout",
            None,
            confirm_timeout,
            "is out of range (expected 0 for no commit-confirm, or 10 to 3600 seconds)",
        )

    admin = _admin(check, admin_sources if admin_sources is not None else [])
    resolver = _flows.Resolver(hostvars or {}, reports)
    inbound = _services(check, services if services is not None else [], port)
    inbound += _flows.inbound(flows, host, groups, hostvars, reports, port, check, resolver)
    extra = _extra_rules(check, rules if rules is not None else [])
    egress = _flows.egress(
        egress_allow if egress_allow is not None else [],
        host,
        groups,
        hostvars,
        reports,
        port,
        check,
        resolver,
    )
    if egress and not restrict:
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
        "egress": {"restrict": restrict, "allow": egress},
        "log": log,
        "icmp_echo_rate": echo_rate,
        "addresses": {
            name: [str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n) for n in networks]
            for name, networks in resolver.resolved.items()
        },
    }
