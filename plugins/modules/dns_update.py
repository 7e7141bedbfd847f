#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: dns_update
short_description: Publish records to an existing DNS server with RFC 2136 updates signed with TSIG
version_added: 0.1.0
description:
  - Makes the record sets O(records) names on an existing authoritative server exactly what they declare,
    with one dynamic update (RFC 2136) signed with a TSIG key, sent over TCP to the zone's primary.
  - The module reads each record set it manages with a query to the server, compares it (data and TTL)
    and sends one update that replaces the sets that differ and deletes the sets it published before and
    no longer declares. What it published is recorded in the TXT record set O(inventory_name) of the zone,
    so records of other owners in the same zone are never touched.
  - An update the server refuses (C(REFUSED), C(NOTAUTH), a bad signature or an unknown key) fails with
    the server's answer; the zone is then as it was (an update is applied whole or not at all).
  - The TSIG secret never appears in the output, the diff or the returned values.
author: groundwork developers (@groundwork)
requirements:
  - dnspython (Debian's C(python3-dnspython)) on the host that runs the module
attributes:
  check_mode:
    support: full
    description: Reads the server and reports exactly what a real run would change, sending no update.
  diff_mode:
    support: full
    description: The managed record sets before and after, one record a line.
  idempotent:
    support: full
    description: A second run with the same input sends no update.
options:
  server:
    description: The address of the zone's primary server.
    type: str
    required: true
  port:
    description: Its port.
    type: int
    default: 53
  zone:
    description: The zone, without the final dot.
    type: str
    required: true
  key_name:
    description: The name of the TSIG key, as the server knows it.
    type: str
    required: true
  key_secret:
    description: The TSIG secret (base64).
    type: str
    required: true
  key_algorithm:
    description: The TSIG algorithm.
    type: str
    choices: [hmac-sha256, hmac-sha384, hmac-sha512]
    default: hmac-sha256
  records:
    description:
      - The records to publish; the records of one name and type form a set, replaced as a whole.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The owner, relative to the zone; V(@) is the zone's apex.
        type: str
        required: true
      type:
        description: The record type.
        type: str
        required: true
        choices: [A, AAAA, CNAME, MX, TXT, SRV, CAA]
      ttl:
        description: The TTL in seconds.
        type: int
        required: true
      data:
        description: The record's data in zone-file format (names relative to the zone or with a final dot).
        type: str
        required: true
  inventory_name:
    description: The TXT record set (relative to the zone) in which the module records what it published.
    type: str
    default: _groundwork-records
  timeout:
    description: Seconds to wait for each answer of the server.
    type: float
    default: 10
"""

EXAMPLES = r"""
- name: Publish the hosts' records to the company's DNS server
  groundwork.server.dns_update:
    server: 192.0.2.53
    zone: shop.example.com
    key_name: groundwork-update
    key_secret: "{{ vault_dns_update_key }}"
    records:
      - {name: app, type: A, ttl: 300, data: 10.0.1.11}
      - {name: app, type: A, ttl: 300, data: 10.0.1.12}
      - {name: www, type: CNAME, ttl: 300, data: app}
"""

RETURN = r"""
added:
  description: The record sets the update replaced or added, as C(name type) (relative names).
  returned: always
  type: list
  elements: str
removed:
  description: The record sets the update deleted, published before and no longer declared.
  returned: always
  type: list
  elements: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import dns.exception
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.rrset
    import dns.tsig
    import dns.tsigkeyring
    import dns.update
except ImportError:
    HAS_DNSPYTHON = False
    DNSPYTHON_ERROR = traceback.format_exc()
else:
    HAS_DNSPYTHON = True
    DNSPYTHON_ERROR = None

TYPES = ["A", "AAAA", "CNAME", "MX", "TXT", "SRV", "CAA"]
ARGUMENTS = {
    "server": {"type": "str", "required": True},
    "port": {"type": "int", "default": 53},
    "zone": {"type": "str", "required": True},
    "key_name": {"type": "str", "required": True},
    "key_secret": {"type": "str", "required": True, "no_log": True},
    "key_algorithm": {
        "type": "str",
        "choices": ["hmac-sha256", "hmac-sha384", "hmac-sha512"],
        "default": "hmac-sha256",
    },
    "records": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "name": {"type": "str", "required": True},
            "type": {"type": "str", "required": True, "choices": TYPES},
            "ttl": {"type": "int", "required": True},
            "data": {"type": "str", "required": True},
        },
    },
    "inventory_name": {"type": "str", "default": "_groundwork-records"},
    "timeout": {"type": "float", "default": 10},
}


class UpdateError(Exception):
    pass


def wanted_sets(zone, records):
    """{(name, type): (ttl, frozenset of rdata)}: the declared record sets, parsed as the server
    will hold them."""
    sets = {}
    for index, record in enumerate(records):
        try:
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN,
                dns.rdatatype.from_text(record["type"]),
                record["data"],
                origin=zone,
                relativize=False,
            )
        except Exception as exc:  # dnspython raises several kinds for bad text
            raise UpdateError(f"records[{index}] ({record['name']} {record['type']}): {exc}") from None
        key = (record["name"], record["type"])
        ttl, found = sets.get(key, (record["ttl"], frozenset()))
        sets[key] = (min(ttl, record["ttl"]), found | {rdata})
    return sets


def owner(zone, name):
    return zone if name == "@" else dns.name.from_text(name, origin=zone)


def read_set(ask, zone, name, kind):
    """(ttl, frozenset of rdata) of one record set on the server, or None when there is none."""
    answer = ask(dns.message.make_query(owner(zone, name), kind))
    rcode = answer.rcode()
    if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        raise UpdateError(f"the server answered {dns.rcode.to_text(rcode)} to a query for {name} {kind}")
    wanted = (owner(zone, name), dns.rdataclass.IN, dns.rdatatype.from_text(kind))
    for found in answer.answer:
        if (found.name, found.rdclass, found.rdtype) == wanted:
            return found.ttl, frozenset(found)
    return None


def published(current):
    """The record sets recorded as ours, from the inventory TXT set as read: {(name, type)}."""
    keys = set()
    for rdata in (current or (0, frozenset()))[1]:
        text = b"".join(rdata.strings).decode("ascii", "replace").split(" ")
        if len(text) == 2 and text[1] in TYPES:
            keys.add((text[0], text[1]))
    return keys


def inventory_set(keys, ttl):
    return ttl, frozenset(
        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, f'"{name} {kind}"')
        for name, kind in sorted(keys)
    )


def plan(zone, records, inventory_name, ask):
    """(replace {(name, type): (ttl, rdatas)}, delete [(name, type)], before, after): what differs."""
    wanted = wanted_sets(zone, records)
    recorded = read_set(ask, zone, inventory_name, "TXT")
    ours = published(recorded)
    keys = sorted(set(wanted) | ours)
    before = {key: read_set(ask, zone, *key) for key in keys}
    replace = {key: value for key, value in wanted.items() if before.get(key) != value}
    delete = [key for key in sorted(ours - set(wanted)) if before.get(key) is not None]
    ttl = min((ttl for ttl, _data in wanted.values()), default=300)
    inventory = inventory_set(set(wanted), ttl)
    if recorded != inventory:
        replace[(inventory_name, "TXT")] = inventory
    return replace, delete, before, wanted


def lines(sets):
    found = []
    for (name, kind), value in sorted(sets.items()):
        if value is None:
            continue
        ttl, rdatas = value
        found += sorted(f"{name} {ttl} {kind} {rdata.to_text()}" for rdata in rdatas)
    return "\n".join(found) + ("\n" if found else "")


def update_message(zone, key, replace, delete):
    keyring = dns.tsigkeyring.from_text({key["name"]: key["secret"]})
    message = dns.update.UpdateMessage(
        zone, keyring=keyring, keyname=key["name"], keyalgorithm=dns.name.from_text(key["algorithm"])
    )
    for (name, _kind), (ttl, rdatas) in sorted(replace.items()):
        message.replace(owner(zone, name), dns.rrset.from_rdata_list(owner(zone, name), ttl, list(rdatas)))
    for name, kind in delete:
        message.delete(owner(zone, name), kind)
    return message


def send(message, server, port, timeout):
    try:
        answer = dns.query.tcp(message, server, port=port, timeout=timeout)
    except dns.tsig.PeerError as exc:
        raise UpdateError(f"the server refused the key: {exc.__class__.__name__} ({exc})") from None
    except (OSError, EOFError, dns.exception.DNSException) as exc:
        raise UpdateError(f"no answer from {server}:{port}: {exc}") from None
    if answer.rcode() != dns.rcode.NOERROR:
        raise UpdateError(
            f"the server refused the update: {dns.rcode.to_text(answer.rcode())}"
            " (is the key allowed to update the zone, and is the server its primary?)"
        )


def run(params, check_mode):
    zone = dns.name.from_text(params["zone"])
    server, port, timeout = params["server"], params["port"], params["timeout"]

    def ask(query):
        try:
            return dns.query.tcp(query, server, port=port, timeout=timeout)
        except (OSError, EOFError, dns.exception.DNSException) as exc:
            raise UpdateError(f"no answer from {server}:{port}: {exc}") from None

    replace, delete, before, wanted = plan(zone, params["records"], params["inventory_name"], ask)
    changed = bool(replace or delete)
    if changed and not check_mode:
        key = {
            "name": params["key_name"],
            "secret": params["key_secret"],
            "algorithm": params["key_algorithm"],
        }
        send(update_message(zone, key, replace, delete), server, port, timeout)
    managed = {key: value for key, value in before.items() if key in wanted or key in delete}
    return {
        "changed": changed,
        "added": [f"{name} {kind}" for name, kind in sorted(replace) if name != params["inventory_name"]],
        "removed": [f"{name} {kind}" for name, kind in delete],
        "diff": {"before": lines(managed), "after": lines(wanted)},
    }


def main():
    module = AnsibleModule(argument_spec=ARGUMENTS, supports_check_mode=True)
    if not HAS_DNSPYTHON:
        module.fail_json(msg=missing_required_lib("dnspython (python3-dnspython)"), exception=DNSPYTHON_ERROR)
    try:
        result = run(module.params, module.check_mode)
    except UpdateError as exc:
        module.fail_json(msg=str(exc))
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
