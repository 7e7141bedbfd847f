# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The zone groundwork.server.dns serves: names from the inventory and the user's records.

``zone_model(...)`` checks what an argument spec cannot express and builds the zone's
records: an address record for every host (its inventory name, or ``dns_name``), the tiers'
service names (every application server under one name, the first database server under
another, the balancers under theirs), NS records for the authoritative servers, and the
user's records (A, AAAA, CNAME, MX, TXT, SRV, CAA). Each problem is one message that names
the variable, the record (index and name), the key, the value and what is allowed:

    dns_records[2] (mail): ttl -5 is out of range (expected a whole number from 0 to 2147483647)

Names are compared in lower case, as DNS compares them. A record of the user that gives a
generated name an address or an alias, a CNAME beside other data (or at the zone's apex),
a record declared twice and a target outside the rules of its type are refused here, before
anything is written; the server's own checker (named-checkzone) checks the written zone
again before it is loaded.

``zone_rows(model, serial)`` turns the records into the rows of the zone file (owner, TTL,
type, data), each field already in the zone file's syntax.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _dns_model as dns
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re

from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import Checker, is_int

# A label of a name the collection writes: letters, digits, '-' and '_' (service labels of
# SRV records and _dmarc-like names), 1 to 63 characters, not starting or ending with '-'.
LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
LABEL_TEXT = "1 to 63 letters, digits, '-' or '_', not starting or ending with '-'"
# A name's text form may be 253 characters at most (255 octets on the wire).
MAX_NAME = 253
MAX_TTL = 2**31 - 1  # RFC 2181, section 8
TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "SRV", "CAA")
# The keys of a record, by type (besides name, type, value and ttl).
EXTRA_KEYS = {
    "A": (),
    "AAAA": (),
    "CNAME": (),
    "MX": ("priority",),
    "TXT": (),
    "SRV": ("priority", "weight", "port"),
    "CAA": ("tag", "flags"),
}
COMMON_KEYS = ("name", "type", "value", "ttl")
CAA_TAGS = ("issue", "issuewild", "iodef")
CAA_FLAGS = (0, 128)
# What a TXT or CAA value may hold: printable ASCII and spaces (quotes and backslashes are
# escaped when written); at most 4000 characters (a TXT value is split into strings of 255).
PRINTABLE = re.compile(r"[\x20-\x7e]*")
MAX_TEXT = 4000
# The services of the tiers, by tier (contracts.TIERS): how they are named in the zone.
DEFAULT_SERVICE_NAMES = {"loadbalancers": "lb", "appservers": "app", "dbservers": "db"}
# The SOA's timers: secondaries follow NOTIFY at once; these only matter when a NOTIFY is lost.
SOA_TIMERS = {"refresh": 3600, "retry": 600, "expire": 1209600, "minimum": 300}
SERIAL_MODULO = 2**32


def label_problem(label):
    return None if LABEL.fullmatch(label) else f"label {label!r} is not valid (expected {LABEL_TEXT})"


def zone_name(check, var, value):
    """The zone's name in lower case without the final dot, or None after a problem."""
    if not isinstance(value, str) or not value.strip("."):
        check.add(var, None, value, "is not a DNS name (expected a name such as internal.example)")
        return None
    name = value.lower().removesuffix(".")
    problems = [label_problem(label) for label in name.split(".")]
    problems = [problem for problem in problems if problem]
    if problems or len(name) > MAX_NAME:
        check.add(var, None, value, f"is not a DNS name ({problems[0] if problems else 'longer than 253'})")
        return None
    return name


def owner_name(check, where, key, value, zone, wildcard=True):
    """A name inside the zone, relative to it: '@' for the apex, 'www', 'a.b', '*.c' (with
    ``wildcard``). An absolute name ('www.<zone>.') is taken relative. None after a problem."""
    if not isinstance(value, str) or not value:
        check.add(
            where, key, value, "is not a name (expected '@', a name relative to the zone, or name.<zone>.)"
        )
        return None
    name = value.lower()
    if name.endswith("."):
        if name == f"{zone}.":
            return "@"
        if not name.endswith(f".{zone}."):
            check.add(where, key, value, f"is outside the zone {zone} (expected a name in it)")
            return None
        name = name[: -len(zone) - 2]
    if name == "@":
        return "@"
    labels = name.split(".")
    for index, label in enumerate(labels):
        if label == "*" and index == 0 and wildcard:
            continue
        problem = label_problem(label)
        if problem:
            check.add(where, key, value, f"is not a name in the zone ({problem})")
            return None
    if len(name) + 1 + len(zone) > MAX_NAME:
        check.add(where, key, value, f"is too long (a name may have {MAX_NAME} characters with the zone)")
        return None
    return name


def target_name(check, where, key, value, zone, root=False):
    """The absolute name a CNAME, MX or SRV record points to, with the final dot: a relative
    name is in the zone. '.' (no service, RFC 2782 and 7505) only with ``root``."""
    if root and value == ".":
        return "."
    if not isinstance(value, str) or not value or value == ".":
        check.add(where, key, value, "is not a host name (expected a name in the zone or name.example.)")
        return None
    name = value.lower()
    if not name.endswith("."):
        name = f"{name}.{zone}." if name != "@" else f"{zone}."
    labels = name[:-1].split(".")
    problems = [label_problem(label) for label in labels]
    problems = [problem for problem in problems if problem]
    if problems or len(name) - 1 > MAX_NAME:
        detail = problems[0] if problems else f"longer than {MAX_NAME} characters"
        check.add(where, key, value, f"is not a host name ({detail})")
        return None
    return name


def absolute(name, zone):
    return f"{zone}." if name == "@" else f"{name}.{zone}."


def quoted_strings(text):
    """A TXT value as the zone file's character strings: at most 255 octets each, quotes and
    backslashes escaped."""
    chunks = [text[index : index + 255] for index in range(0, len(text), 255)] or [""]
    return " ".join('"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks)


def whole(check, where, key, value, low, high):
    if not is_int(value) or not low <= int(value) <= high:
        check.add(where, key, value, f"is out of range (expected a whole number from {low} to {high})")
        return None
    return int(value)


def text_value(check, where, key, value):
    if not isinstance(value, str) or not PRINTABLE.fullmatch(value) or len(value) > MAX_TEXT:
        check.add(
            where,
            key,
            value,
            f"is not valid text (expected up to {MAX_TEXT} printable ASCII characters and spaces)",
        )
        return None
    return value


def record_data(check, where, item, kind, zone):
    """The record's data in the zone file's syntax, or None after a problem."""
    value = item.get("value")
    if kind in ("A", "AAAA"):
        version = 4 if kind == "A" else 6
        try:
            address = ipaddress.ip_address(value) if isinstance(value, str) else None
        except ValueError:
            address = None
        if address is None or address.version != version:
            check.add(where, "value", value, f"is not an IPv{version} address (a {kind} record holds one)")
            return None
        return str(address)
    if kind == "CNAME":
        return target_name(check, where, "value", value, zone)
    if kind == "MX":
        priority = whole(check, where, "priority", item.get("priority", 10), 0, 65535)
        target = target_name(check, where, "value", value, zone, root=True)
        return None if None in (priority, target) else f"{priority} {target}"
    if kind == "SRV":
        numbers = [
            whole(check, where, key, item.get(key, default), 0, 65535)
            for key, default in (("priority", 10), ("weight", 0), ("port", None))
        ]
        target = target_name(check, where, "value", value, zone, root=True)
        return None if None in (*numbers, target) else " ".join(str(n) for n in numbers) + f" {target}"
    if kind == "TXT":
        text = text_value(check, where, "value", value)
        return None if text is None else quoted_strings(text)
    # CAA (RFC 8659): flags, tag, one quoted value
    flags = item.get("flags", 0)
    if not is_int(flags) or int(flags) not in CAA_FLAGS:
        check.add(where, "flags", flags, "is not a CAA flag (expected 0, or 128 for critical)")
        flags = None
    tag = check.one_of(where, "tag", item.get("tag", "issue"), CAA_TAGS, "a CAA tag", optional=False)
    text = text_value(check, where, "value", value)
    if None in (flags, tag, text) or len(text) > 255:
        if text is not None and len(text) > 255:
            check.add(where, "value", value, "is too long (a CAA value has at most 255 characters)")
        return None
    return f"{int(flags)} {tag} {quoted_strings(text)}"


def user_records(check, var, items, zone, default_ttl):
    """The user's records: [(name, ttl, type, data, where)]."""
    if not isinstance(items, list):
        check.line(var, "must be a list of records")
        return []
    found = []
    for index, item in enumerate(items):
        at = f"{var}[{index}]"
        if not isinstance(item, dict):
            check.line(at, "must be a mapping (name, type, value, ...)")
            continue
        raw_name = item.get("name")
        where = at + (f" ({raw_name})" if isinstance(raw_name, str) else "")
        kind = item.get("type")
        kind = kind.upper() if isinstance(kind, str) else kind
        if kind not in TYPES:
            check.add(
                where, "type", item.get("type"), f"is not a record type (expected one of {', '.join(TYPES)})"
            )
            continue
        unknown = sorted(str(key) for key in item if key not in COMMON_KEYS + EXTRA_KEYS[kind])
        if unknown:
            allowed = ", ".join(COMMON_KEYS + EXTRA_KEYS[kind])
            check.line(where, f"unknown keys {', '.join(unknown)} for a {kind} record (allowed: {allowed})")
        name = owner_name(check, where, "name", raw_name, zone)
        if (
            name is not None
            and kind == "SRV"
            and not re.fullmatch(r"_[a-z0-9-]+\._(tcp|udp|tls|sctp)(\..+)?", name)
        ):
            check.add(
                where, "name", raw_name, "is not an SRV name (expected _service._proto, e.g. _ldap._tcp)"
            )
            name = None
        ttl = whole(check, where, "ttl", item.get("ttl", default_ttl), 0, MAX_TTL)
        data = record_data(check, where, item, kind, zone)
        if None not in (name, ttl, data):
            found.append((name, ttl, kind, data, where))
    return found


def host_label(check, host, variables, zone):
    """The name of an inventory host in the zone: ``dns_name`` when it sets one, else its
    inventory name (without the zone, when it ends with it)."""
    given = variables.get("dns_name")
    value = given if given is not None else host
    where = f"host {host}"
    key = "dns_name" if given is not None else "inventory name"
    if isinstance(value, str) and value.lower().endswith(f".{zone}"):
        value = value[: -len(zone) - 1]
    name = value.lower() if isinstance(value, str) else value
    if not isinstance(name, str) or name == "@" or any(label_problem(part) for part in name.split(".")):
        check.add(
            where,
            key,
            value,
            f"is not a name in the zone (expected labels of {LABEL_TEXT}; set dns_name for the host)",
        )
        return None
    return name


def address_rows(networks):
    """[(type, address)] for a host's addresses (single addresses only, no networks)."""
    rows = []
    for network in networks:
        if network.num_addresses == 1:
            rows.append(("A" if network.version == 4 else "AAAA", str(network.network_address)))
    return rows


def service_names(check, var, value):
    """{tier: label} of the tiers' service names (a tier set to '' has none)."""
    if value is None:
        return dict(DEFAULT_SERVICE_NAMES)
    if not isinstance(value, dict):
        check.add(
            var, None, value, "must be a mapping of tier to name (loadbalancers, appservers, dbservers)"
        )
        return {}
    names = {}
    for tier, label in value.items():
        if tier not in DEFAULT_SERVICE_NAMES:
            check.add(var, None, tier, f"is not a tier (expected one of {', '.join(DEFAULT_SERVICE_NAMES)})")
            continue
        if label in ("", None):
            continue
        if not isinstance(label, str) or label_problem(label.lower()):
            check.add(var, tier, label, f"is not a name (expected one label of {LABEL_TEXT})")
            continue
        names[tier] = label.lower()
    return names


def tier_members(tier, groups, group_names):
    """The hosts of a tier's group (the group renamed by the inventory, contracts.TIERS)."""
    entry = contracts.TIER_BY_NAME[tier]
    return list((groups or {}).get(group_names.get(tier) or entry["group"]) or [])


def generated_records(check, zone, hosts, labels, addresses, services, groups, group_names, ttl):
    """The records the inventory gives: an address record per host, the service names of the
    tiers. ``addresses``: host -> [(type, address)]. Returns [(name, ttl, type, data, where)]."""
    found, owners = [], {}
    for host in hosts:
        label = labels.get(host)
        if label is None:
            continue
        if label in owners:
            check.line(
                f"host {host}", f"name {label!r} is already the name of {owners[label]} (set dns_name)"
            )
            continue
        owners[label] = f"host {host}"
        found += [(label, ttl, kind, address, f"host {host}") for kind, address in addresses.get(host, [])]
    for tier, label in services.items():
        members = tier_members(tier, groups, group_names)
        if tier == "dbservers":
            members = members[:1]  # one name for the database: its first server
        where = f"dns_service_names.{tier}"
        if label in owners:
            check.line(where, f"name {label!r} is already the name of {owners[label]}")
            continue
        owners[label] = where
        for host in members:
            found += [(label, ttl, kind, address, where) for kind, address in addresses.get(host, [])]
    return found


def conflicts(check, generated, records):
    """A record of the user that gives a generated name an address or an alias, a CNAME beside
    other data or at the apex, a record declared twice."""
    generated_names = {name: where for name, _ttl, _kind, _data, where in generated}
    seen, kinds = {}, {}
    for name, _ttl, kind, _data, where in generated + records:
        kinds.setdefault(name, []).append((kind, where))
    for name, _ttl, kind, data, where in records:
        if name in generated_names and kind in ("A", "AAAA", "CNAME"):
            check.line(
                where,
                f"a {kind} record for {name!r} conflicts with the records {generated_names[name]} generates",
            )
        elif kind == "CNAME" and name == "@":
            check.line(where, "a CNAME cannot be at the zone's apex (it has the SOA and NS records)")
        elif kind == "CNAME" and len(kinds[name]) > 1:
            others = sorted({w for k, w in kinds[name] if w != where})
            check.line(where, f"a CNAME for {name!r} cannot stand beside other data ({', '.join(others)})")
        key = (name, kind, data)
        if key in seen:
            check.line(where, f"is the same record as {seen[key]}")
        seen.setdefault(key, where)


def transfer_key(check, var, value, required):
    """The TSIG secret of the transfers (HMAC-SHA256): base64 of at least 32 bytes."""
    if value in (None, ""):
        if required:
            check.line(
                var,
                "is required: the secondaries fetch the zone with it (tsig-keygen -a hmac-sha256 prints one)",
            )
        return None
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) < 32:
        # never the value itself: it is a secret
        check.line(
            var, "is not a TSIG secret (expected base64 of at least 32 random bytes, as tsig-keygen prints)"
        )
        return None
    return value


def is_dnskey(text):
    """Whether ``text`` is the data of a key-signing DNSKEY: ``257 3 <algorithm> <base64>``."""
    fields = text.split(" ")
    if len(fields) != 4 or fields[:2] != ["257", "3"] or not fields[2].isascii() or not fields[2].isdigit():
        return False
    try:
        return len(base64.b64decode(fields[3], validate=True)) > 0
    except (binascii.Error, ValueError):
        return False


def next_serial(current):
    """The serial after ``current`` (RFC 1982 arithmetic; 0 is skipped); 1 for a new zone."""
    if current is None:
        return 1
    return (int(current) + 1) % SERIAL_MODULO or 1


def zone_rows(zone, primary, hostmaster, nameservers, records, serial):
    """The zone file's rows: [owner, ttl, type, data], sorted by name (apex first) and type."""
    timers = SOA_TIMERS
    soa = (
        f"{absolute(primary, zone)} {hostmaster} {serial} "
        f"{timers['refresh']} {timers['retry']} {timers['expire']} {timers['minimum']}"
    )
    rows = [["@", str(timers["minimum"]), "SOA", soa]]
    rows += [["@", str(timers["minimum"]), "NS", absolute(name, zone)] for name in nameservers]

    def order(row):
        name, _ttl, kind, data, _where = row
        return (name != "@", list(reversed(name.split("."))), TYPES.index(kind), data)

    rows += [[name, str(ttl), kind, data] for name, ttl, kind, data, _where in sorted(records, key=order)]
    return rows


def hostmaster_name(check, var, value, zone):
    """The SOA's mailbox (RFC 1035 RNAME) from an address: hostmaster@example.org ->
    hostmaster.example.org. ('' is hostmaster@<zone>)."""
    if value in (None, ""):
        return f"hostmaster.{zone}."
    local, _at, domain = value.partition("@") if isinstance(value, str) else ("", "", "")
    if (
        not _at
        or not LABEL.fullmatch(local.lower())
        or target_name(Checker(), var, None, f"{domain}.", zone) is None
    ):
        check.add(var, None, value, "is not a mail address (expected name@domain, no dots before the @)")
        return None
    return f"{local.lower()}.{domain.lower().removesuffix('.')}."
