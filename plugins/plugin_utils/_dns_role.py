# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The decision of groundwork.server.dns, run by the action groundwork.server.role_plan.

``validate`` checks the input and builds the zone from the inventory (plugin_utils/_dns_model.py):
the authoritative servers (a primary, its secondaries), the hosts' names and addresses, the
tiers' service names and the user's records. The addresses come from ``firewall_addresses``,
the reports groundwork.server.firewall published in this run, or (the role's delegated task)
a read of the hosts neither gives, as the database roles find their clients.

``request`` lists what the one inspection reads; ``plan`` renders BIND's files (on the
authoritative servers), unbound's file and /etc/resolv.conf (on every server with the
resolver), and compares them. The zone's serial is the one the primary's file holds: the
zone is rendered with it, and only when that differs from the file is it rendered again with
the next serial - once per real change, never on a run that changes nothing, and the same in
check mode as in a real run. A plan with the transfer key is secret.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _dns_role
"""

from __future__ import annotations

import ipaddress
import json
import os

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import digest
from ansible_collections.groundwork.server.plugins.plugin_utils import _database_contract as contract
from ansible_collections.groundwork.server.plugins.plugin_utils import _dns_model as dns
from ansible_collections.groundwork.server.plugins.plugin_utils import _flows as flows
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import Checker
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    Plan,
    file_changes,
    missing_packages,
    package_changes,
    release_problem,
    start_needed,
    unit_changes,
)

ROLE = "dns"
NAMED = "named.service"
UNBOUND = "unbound.service"
BIND_PACKAGES = ["bind9", "bind9-utils", "bind9-dnsutils"]
# groundwork.server.dns_update (dns_mode: update) sends the updates with dnspython
UPDATE_PACKAGES = ["python3-dnspython"]
MODES = ("serve", "update")
ALGORITHMS = ("hmac-sha256", "hmac-sha384", "hmac-sha512")
# the root trust anchor unbound validates with (a recommendation only), and /bin/kill, which
# the unit's reload runs and unbound does not depend on (procps; not in a minimal system)
UNBOUND_PACKAGES = ["unbound", "dns-root-data", "procps"]
NAMED_OPTIONS = "/etc/bind/named.conf.options"
NAMED_LOCAL = "/etc/bind/named.conf.local"
KEY_FILE = "/etc/bind/groundwork-transfer.key"
ZONE_DIR = "/var/lib/bind"
UNBOUND_CONF = "/etc/unbound/unbound.conf.d/groundwork.conf"
# the zone's trust anchor (dns_dnssec): a file of its own, written once BIND has made the key
ANCHOR_CONF = "/etc/unbound/unbound.conf.d/groundwork-anchor.conf"
RESOLV_CONF = "/etc/resolv.conf"
KEY_NAME = "groundwork-transfer"
NAMED_CHECK = ["/usr/bin/named-checkconf", "-z", "/etc/bind/named.conf"]
# unbound-checkconf reads Debian's files too, which name the root's trust anchor in
# /var/lib/unbound: unbound's start copies it there from dns-root-data (Debian's helper), so
# before the first start the check makes the same copy.
UNBOUND_CHECK = [
    "/bin/sh",
    "-c",
    "/usr/libexec/unbound-helper root_trust_anchor_update && exec /usr/sbin/unbound-checkconf",
]
MAX_CACHE_VALID_TIME = 10**7

INPUTS = (
    "dns_zone",
    "dns_servers_group",
    "dns_primary",
    "dns_secondaries",
    "dns_hosts_group",
    "dns_service_names",
    "dns_records",
    "dns_ttl",
    "dns_hostmaster",
    "dns_transfer_key",
    "dns_dnssec",
    "dns_mode",
    "dns_update_server",
    "dns_update_key",
    "dns_update_key_name",
    "dns_update_algorithm",
    "dns_update_host",
    "dns_resolver",
    "dns_resolver_upstreams",
    "dns_resolver_insecure_domains",
    "dns_resolver_search",
    "dns_resolver_permissive",
)


# --- Pure functions -----------------------------------------------------------------------


def servers(check, values, groups):
    """(primary, secondaries): the authoritative servers, inventory hosts both."""
    known = set((groups or {}).get("all") or [])
    group = list((groups or {}).get(values["dns_servers_group"]) or [])
    primary = values["dns_primary"] or (group[0] if group else None)
    if primary is None:
        check.line(
            "dns_primary",
            f"no primary: the group {values['dns_servers_group']!r} (dns_servers_group) is empty or missing"
            " and dns_primary names no host",
        )
    elif not isinstance(primary, str) or primary not in known:
        check.add("dns_primary", None, primary, "is not a host of the inventory")
        primary = None
    given = values["dns_secondaries"]
    secondaries = [name for name in group if name != primary] if given is None else given
    if not isinstance(secondaries, list):
        check.add("dns_secondaries", None, secondaries, "must be a list of inventory hosts")
        return primary, []
    found = []
    for index, name in enumerate(secondaries):
        where = f"dns_secondaries[{index}]"
        if not isinstance(name, str) or name not in known:
            check.add(where, None, name, "is not a host of the inventory")
        elif name == primary:
            check.add(where, None, name, "is the primary (dns_primary) already")
        elif name in found:
            check.add(where, None, name, "is listed twice")
        else:
            found.append(name)
    return primary, found


def update_settings(check, values, groups):
    """dns_mode update: the existing server, the key, the host that sends the updates."""
    found = upstreams(check, "dns_update_server", [values["dns_update_server"]], single=True)
    address, _at, port = found[0].partition("@") if found else (None, "", "")
    dns.transfer_key(check, "dns_update_key", values["dns_update_key"], True)
    key_name = dns.zone_name(check, "dns_update_key_name", values["dns_update_key_name"])
    algorithm = check.one_of(
        "dns_update_algorithm",
        None,
        values["dns_update_algorithm"],
        ALGORITHMS,
        "a TSIG algorithm",
        optional=False,
    )
    host = values["dns_update_host"]
    hosts = list((groups or {}).get(values["dns_hosts_group"]) or [])
    if host in ("", None):
        host = hosts[0] if hosts else None
        if host is None:
            check.line("dns_update_host", "no host sends the updates: dns_hosts_group has no host")
    elif not isinstance(host, str) or host not in set((groups or {}).get("all") or []):
        check.add("dns_update_host", None, host, "is not a host of the inventory")
        host = None
    return {
        "server": address,
        "port": int(port) if port else 53,
        "key_name": key_name,
        "algorithm": algorithm,
        "host": host,
    }


def upstreams(check, var, value, single=False):
    """The resolvers unbound forwards to: ``address`` or ``address@port``."""
    if not isinstance(value, list):
        check.add(var, None, value, "must be a list of addresses (address or address@port)")
        return []
    found = []
    for index, item in enumerate(value):
        text = item if isinstance(item, str) else ""
        address, _at, port = text.partition("@")
        try:
            ipaddress.ip_address(address)
        except ValueError:
            address = None
        if address is None or (_at and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535)):
            check.add(
                var if single else f"{var}[{index}]",
                None,
                item,
                f"is not {'a server' if single else 'a resolver'} (expected an IP address, or address@port)",
            )
            continue
        found.append(text)
    return found


def domains(check, var, value):
    if not isinstance(value, list):
        check.add(var, None, value, "must be a list of domain names")
        return []
    found = []
    for index, item in enumerate(value):
        name = dns.zone_name(check, f"{var}[{index}]", item)
        if name is not None:
            found.append(name)
    return found


def zone_hosts(values, groups, primary, secondaries):
    """The hosts the zone names, in inventory order (the authoritative servers included)."""
    hosts = list((groups or {}).get(values["dns_hosts_group"]) or [])
    hosts += [name for name in [primary, *secondaries] if name and name not in hosts]
    return hosts


def check_values(values, groups, hostvars):
    """(settings, checker): everything that needs no host's address."""
    check = Checker()
    zone = dns.zone_name(check, "dns_zone", values["dns_zone"])
    mode = check.one_of("dns_mode", None, values["dns_mode"], MODES, "a mode", optional=False)
    update = update_settings(check, values, groups) if mode == "update" else None
    primary, secondaries = servers(check, values, groups) if mode == "serve" else (None, [])
    ttl = dns.whole(check, "dns_ttl", None, values["dns_ttl"], 0, dns.MAX_TTL)
    services = dns.service_names(check, "dns_service_names", values["dns_service_names"])
    resolver = check.boolean("dns_resolver", None, values["dns_resolver"], True)
    search = check.boolean("dns_resolver_search", None, values["dns_resolver_search"], True)
    permissive = check.boolean("dns_resolver_permissive", None, values["dns_resolver_permissive"], False)
    forwarders = upstreams(check, "dns_resolver_upstreams", values["dns_resolver_upstreams"])
    insecure = domains(check, "dns_resolver_insecure_domains", values["dns_resolver_insecure_domains"])
    dnssec = check.boolean("dns_dnssec", None, values["dns_dnssec"], False)
    key = dns.transfer_key(check, "dns_transfer_key", values["dns_transfer_key"], bool(secondaries))
    if dnssec and mode == "update":
        check.line(
            "dns_dnssec",
            "signs a zone this collection serves; with dns_mode update the existing server signs it",
        )
    if not isinstance(values["dns_hosts_group"], str) or values["dns_hosts_group"] not in (groups or {}):
        check.add("dns_hosts_group", None, values["dns_hosts_group"], "is not a group of the inventory")
    settings = {
        "zone": zone,
        "primary": primary,
        "secondaries": secondaries,
        "ttl": ttl,
        "services": services,
        "resolver": resolver,
        "search": search,
        "permissive": permissive,
        "upstreams": forwarders,
        "insecure": insecure,
        "key": key,
        "dnssec": dnssec,
        "mode": mode,
        "update": update,
        "hosts": [],
        "labels": {},
        "records": [],
        "hostmaster": None,
    }
    if zone is None or ttl is None:
        return settings, check
    settings["hostmaster"] = dns.hostmaster_name(check, "dns_hostmaster", values["dns_hostmaster"], zone)
    settings["records"] = dns.user_records(check, "dns_records", values["dns_records"], zone, ttl)
    hosts = zone_hosts(values, groups, primary, secondaries)
    settings["hosts"] = hosts
    settings["labels"] = {
        host: dns.host_label(check, host, flows.host_vars(hostvars, host), zone) for host in hosts
    }
    return settings, check


def zone_model(settings, groups, group_names, hostvars, reports, outside):
    """The model with every host's addresses and the zone's records; ``needs`` (the hosts
    whose addresses are still to be read) when ``reports`` is None."""
    check = Checker()
    if reports is not None:
        reports = flows.with_outside(reports, outside)
    resolver = flows.Resolver(hostvars or {}, reports)
    addresses = {}
    for host in settings["hosts"]:
        networks, problem = resolver.addresses(host)
        if problem:
            check.line(f"host {host}", problem)
        addresses[host] = dns.address_rows(networks)
    model = {"errors": check.errors, "needs": resolver.needs, "addresses": addresses, "generated": []}
    if resolver.needs or check.errors:
        return model
    generated = dns.generated_records(
        check,
        settings["zone"],
        settings["hosts"],
        settings["labels"],
        addresses,
        settings["services"],
        groups,
        group_names,
        settings["ttl"],
    )
    dns.conflicts(check, generated, settings["records"])
    for host in authoritative(settings):
        if not addresses.get(host):
            check.line(
                f"host {host}",
                "is an authoritative server without an address of its own (set firewall_addresses)",
            )
    model["generated"] = generated
    return model


def server_addresses(settings, addresses):
    """The addresses of the authoritative servers: the primary's first."""
    return {host: [address for _kind, address in addresses.get(host, [])] for host in authoritative(settings)}


def authoritative(settings):
    return [host for host in [settings["primary"], *settings["secondaries"]] if host]


def role_of(settings, host):
    if host == settings["primary"]:
        return "primary"
    return "secondary" if host in settings["secondaries"] else None


def zone_file(zone):
    return f"{ZONE_DIR}/{zone}.zone"


def secondary_file(zone):
    return f"{ZONE_DIR}/{zone}.secondary"


def zone_text(settings, model, serial):
    """The primary's zone file for ``serial`` (rows rendered by templates/zone.j2)."""
    names = [settings["labels"][host] for host in authoritative(settings)]
    return dns.zone_rows(
        settings["zone"],
        settings["labels"][settings["primary"]],
        settings["hostmaster"],
        names,
        model["generated"] + settings["records"],
        serial,
    )


def choose_serial(render, current, observed):
    """(serial, content): the zone rendered with the serial of the file on the host when that
    gives the file as it is, else with the next serial. ``render(serial)`` -> content;
    ``observed``: the file's state from the inspection."""
    if current is not None:
        content = render(current)
        if (observed or {}).get("sha256") == digest(content):
            return current, content
    serial = dns.next_serial(current)
    return serial, render(serial)


def derived(settings, model, host, probe):
    """What the templates need, computed here (no decision in Jinja)."""
    addresses = model["addresses"]
    own = [address for _kind, address in addresses.get(host, [])]
    servers_at = server_addresses(settings, addresses)
    stubs = [address for host_addresses in servers_at.values() for address in host_addresses]
    if settings["update"]:
        # the zone lives on the existing server: the resolvers ask it
        update = settings["update"]
        stubs = [update["server"] + (f"@{update['port']}" if update["port"] != 53 else "")]
    others = {name: found for name, found in servers_at.items() if name != settings["primary"]}
    threads = max(1, min(int(probe.get("cpus") or 1), 16))
    return {
        "zone": settings["zone"],
        "role": role_of(settings, host),
        "listen4": [a for a in own if ipaddress.ip_address(a).version == 4],
        "listen6": [a for a in own if ipaddress.ip_address(a).version == 6],
        "zone_file": zone_file(settings["zone"]),
        "secondary_file": secondary_file(settings["zone"]),
        "key_name": KEY_NAME,
        "has_key": settings["key"] is not None,
        "key_file": KEY_FILE,
        "primary_addresses": servers_at.get(settings["primary"], []),
        "secondary_addresses": [address for found in others.values() for address in found],
        "stubs": stubs,
        "upstreams": settings["upstreams"],
        "search": settings["search"],
        "resolver": settings["resolver"],
        "permissive": settings["permissive"],
        "dnssec": settings["dnssec"],
        # a zone BIND signed once stays inline-signed: unsigned again through the "insecure"
        # policy (the keys are withdrawn in BIND's own time), with a serial that never goes back
        "policy": "default" if settings["dnssec"] else ("insecure" if probe.get("signed") else None),
        "threads": threads,
        # a power of two of at least the threads: fewer lock conflicts between them
        "slabs": 1 << (threads - 1).bit_length(),
        "loopback": any(
            ipaddress.ip_address(a.partition("@")[0]).is_loopback for a in stubs + settings["upstreams"]
        ),
        # an unsigned zone cannot validate; a signed one does with its anchor (anchor.conf.j2)
        "insecure": settings["insecure"] + ([] if settings["dnssec"] else [settings["zone"]]),
    }


# --- The role_plan entry points -------------------------------------------------------------


def validate(inputs, context):
    values = {name: inputs[name] for name in INPUTS}
    values["dns_apt_cache_valid_time"] = inputs.get("dns_apt_cache_valid_time", 3600)
    settings, check = check_values(values, context.groups, context.hostvars)
    cache_time = values["dns_apt_cache_valid_time"]
    if contract.whole(cache_time, 0, MAX_CACHE_VALID_TIME) is None:
        check.add(
            "dns_apt_cache_valid_time",
            None,
            cache_time,
            f"is out of range (expected a whole number of seconds from 0 to {MAX_CACHE_VALID_TIME})",
        )
    if check.errors:
        return None, check.errors
    group_names = {tier["tier"]: inputs.get(tier["group_var"]) for tier in contracts.TIERS}

    def build(reports, outside):
        return zone_model(settings, context.groups, group_names, context.hostvars, reports, outside)

    model, problems = contract.resolve(build, context.hostvars, inputs.get("__dns_sources"))
    if problems:
        return None, problems
    anchors = zone_anchors(inputs.get("__dns_keys")) if settings["dnssec"] else None
    return {"settings": settings, "model": model, "anchors": anchors}, []


def zone_anchors(read):
    """The zone's key-signing keys from the delegated read of the primary (decide.yml): a
    sorted list of DNSKEY data, [] when the primary has none (yet) or could not be read, None
    before the read (the validate step)."""
    if not isinstance(read, dict) or read.get("skipped"):
        return None
    keys = (read.get("info") or {}).get("keys") if not read.get("failed") else None
    if not isinstance(keys, list):
        return []
    return sorted(key for key in keys if isinstance(key, str) and dns.is_dnskey(key))


KEYS_PROGRAM = os.path.join(os.path.dirname(__file__), "_probes", "zone_keys.py")


def program(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def validated(model, context):
    """What ``step: validate`` returns: the hosts whose addresses the role's task reads and the
    program that reads them; with dns_dnssec, the primary whose keys it reads and that program."""
    settings = model["settings"]
    return {
        **contract.validated(model, context),
        "dnssec": settings["dnssec"],
        "primary": settings["primary"],
        "zone": settings["zone"],
        "keys_program": program(KEYS_PROGRAM) if settings["dnssec"] else "",
    }


def update_host(settings):
    return (settings["update"] or {}).get("host")


def packages(settings, host):
    wanted = list(BIND_PACKAGES) if role_of(settings, host) else []
    wanted += list(UPDATE_PACKAGES) if host == update_host(settings) else []
    return wanted + (list(UNBOUND_PACKAGES) if settings["resolver"] else [])


def paths(settings, host):
    found = []
    if role_of(settings, host):
        found += [NAMED_OPTIONS, NAMED_LOCAL, KEY_FILE]
    if role_of(settings, host) == "primary":
        found.append(zone_file(settings["zone"]))
    if settings["resolver"]:
        found += [UNBOUND_CONF, ANCHOR_CONF, RESOLV_CONF]
    return found


def request(model, context):
    settings = model["settings"]
    primary = role_of(settings, context.host) == "primary"
    return {
        "files": paths(settings, context.host),
        "packages": packages(settings, context.host),
        "units": [
            unit
            for unit, wanted in ((NAMED, role_of(settings, context.host)), (UNBOUND, settings["resolver"]))
            if wanted
        ],
        "probe": {"zone_file": zone_file(settings["zone"]) if primary else None},
    }


def publish(settings, model):
    """The arguments of groundwork.server.dns_update (without the key), or None."""
    update = settings["update"]
    if not update:
        return None
    rows = model["generated"] + settings["records"]
    return {
        "host": update["host"],
        "server": update["server"],
        "port": update["port"],
        "zone": settings["zone"],
        "key_name": update["key_name"],
        "key_algorithm": update["algorithm"],
        "records": [
            {"name": name, "type": kind, "ttl": ttl, "data": data} for name, ttl, kind, data, _where in rows
        ],
    }


def file_sets(settings, rendered, zone_content):
    """(named, unbound, resolv): the files of each transaction. The trust anchor is among
    unbound's when the keys are known, absent without DNSSEC, left to the run that makes the
    key otherwise (``anchor_pending``)."""
    named = []
    if rendered.get("named.conf.options.j2") is not None:
        named = [
            {"path": NAMED_OPTIONS, "content": rendered["named.conf.options.j2"], "group": "bind"},
            {"path": NAMED_LOCAL, "content": rendered["named.conf.local.j2"], "group": "bind"},
        ]
        if rendered.get("transfer.key.j2") is None:
            named.append({"path": KEY_FILE, "state": "absent"})
        else:
            key = {"path": KEY_FILE, "content": rendered["transfer.key.j2"], "group": "bind", "mode": "0640"}
            named.append({**key, "secret": True})
        if zone_content is not None:
            named.append({"path": zone_file(settings["zone"]), "content": zone_content, "group": "bind"})
    resolver, resolv = [], []
    if settings["resolver"]:
        resolver = [{"path": UNBOUND_CONF, "content": rendered["unbound.conf.j2"]}]
        if not settings["dnssec"]:
            resolver.append({"path": ANCHOR_CONF, "state": "absent"})
        elif rendered.get("anchor.conf.j2") is not None:
            resolver.append({"path": ANCHOR_CONF, "content": rendered["anchor.conf.j2"]})
        resolv = [{"path": RESOLV_CONF, "content": rendered["resolv.conf.j2"]}]
    return named, resolver, resolv


def resolver_reset(settings, state):
    """Whether unbound's restart loop is stopped and its failed starts forgotten before our
    configuration starts it: when it should run and does not (Debian's package starts it with
    a configuration that listens on ::1, which fails on a host without IPv6 loopback, and
    systemd retries until its start limit - whether this role or an earlier one installed it)."""
    return bool(settings["resolver"]) and (state or {}).get("active") != "active"


def plan(model, inspection, context):
    settings, zone = model["settings"], model["model"]
    host = context.host
    kind = role_of(settings, host)
    result = Plan(secret=kind is not None)
    problem = release_problem(ROLE, inspection["os"]) or contract.clients_problem(zone)
    if problem:
        result.problems.append(problem)
        return result
    probe = inspection.get("probe") or {}
    files = inspection.get("files") or {}
    facts = derived(settings, zone, host, probe)

    def render(name, **extra):
        return context.render(name, __dns=facts, __dns_key=settings["key"], **extra)

    zone_content, serial = None, None
    if kind == "primary":
        rows = {}

        def zone_for(number):
            if number not in rows:
                rows[number] = render("zone.j2", __dns_rows=zone_text(settings, zone, number))
            return rows[number]

        serial, zone_content = choose_serial(
            zone_for, probe.get("serial"), files.get(zone_file(settings["zone"]))
        )
    anchors = model.get("anchors") or []
    rendered = json.loads(render("files.j2", __dns_anchors=anchors))
    named, resolver, resolv = file_sets(settings, rendered, zone_content)
    wanted = packages(settings, host)
    missing = missing_packages(wanted, inspection.get("packages"))
    result.extend(package_changes(wanted, inspection.get("packages")))
    named_changes = file_changes(named, files)
    resolver_changes = file_changes(resolver, files)
    result.extend(named_changes + resolver_changes + file_changes(resolv, files))
    pending = settings["resolver"] and settings["dnssec"] and not anchors
    if pending:
        result.changes.append(
            Change("file", ANCHOR_CONF, "the zone's trust anchor, once BIND has made its key")
        )
    units = inspection.get("units") or {}
    start_named = unit_changes(NAMED, units.get(NAMED)) if kind else []
    start_unbound = unit_changes(UNBOUND, units.get(UNBOUND)) if settings["resolver"] else []
    result.extend(start_named + start_unbound)
    # What the configurations' transactions leave undone (they start a stopped server when
    # they change files): the tasks that enable and start the servers run only for that.
    enable_named = bool(kind) and start_needed(NAMED, units.get(NAMED), bool(named_changes))
    enable_unbound = settings["resolver"] and start_needed(
        UNBOUND, units.get(UNBOUND), bool(resolver_changes)
    )
    result.data.update(
        {
            "packages": wanted,
            "missing": missing,
            "authoritative": kind is not None,
            "kind": kind or "",
            "serial": serial,
            "named_files": named,
            "named_check": NAMED_CHECK,
            "named_service": NAMED,
            "listen": facts["listen4"][:1] or facts["listen6"][:1] or ["127.0.0.1"],
            "unbound_files": resolver,
            "unbound_check": UNBOUND_CHECK,
            "unbound_service": UNBOUND,
            "resolv_files": resolv,
            "start_named": enable_named,
            # DNSSEC is wanted and the primary has no key yet: apply.yml waits for BIND to make
            # it and then writes the anchor (anchor.conf.j2)
            "anchor_pending": pending,
            "anchor_file": ANCHOR_CONF,
            # dns_mode update: what groundwork.server.dns_update publishes, from update_host
            "publish": publish(settings, zone),
            "start_unbound": enable_unbound,
            "reset_unbound": resolver_reset(settings, units.get(UNBOUND)),
            "fresh_check": context.check_mode and bool(set(wanted) & set(missing)),
        }
    )
    return result
