# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork.server.dns_update against a zone held in memory: the record sets it manages are
compared as the server holds them, only what differs is replaced, what it published before and
no longer declares is deleted, other owners' records are never named, and the TSIG-signed
update carries the changes (the end-to-end test against BIND is molecule/dns)."""

from __future__ import annotations

import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.update
import pytest
from ansible_collections.groundwork.server.plugins.modules import dns_update as module

ZONE = dns.name.from_text("legacy.internal")
KEY = {
    "name": "groundwork-update",
    "secret": "3K8jXKcPL8bUnhEiPt0pcUKgFtfBOfyp0hKwr9y7WZo=",
    "algorithm": "hmac-sha256",
}


class Zone:
    """Answers queries from {(name, type): (ttl, [data])} like an authoritative server."""

    def __init__(self, sets):
        self.sets = dict(sets)
        self.queries = 0

    def ask(self, query):
        self.queries += 1
        question = query.question[0]
        answer = dns.message.make_response(query)
        relative = question.name.relativize(ZONE).to_text()
        key = (relative, dns.rdatatype.to_text(question.rdtype))
        if key in self.sets:
            ttl, data = self.sets[key]
            answer.answer.append(dns.rrset.from_text_list(question.name, ttl, "IN", key[1], data))
        elif not any(name == relative for name, _kind in self.sets):
            answer.set_rcode(dns.rcode.NXDOMAIN)
        return answer


RECORDS = [
    {"name": "app", "type": "A", "ttl": 300, "data": "10.0.1.11"},
    {"name": "app", "type": "A", "ttl": 300, "data": "10.0.1.12"},
    {"name": "www", "type": "CNAME", "ttl": 300, "data": "app"},
    {"name": "@", "type": "MX", "ttl": 300, "data": "10 mail.example.org."},
]
INVENTORY = "_groundwork-records"
LIST = ['"@ MX"', '"app A"', '"www CNAME"']


def test_a_new_zone_gets_every_set_and_the_list_of_what_is_ours():
    zone = Zone({("@", "SOA"): (300, ["ns root 1 3600 600 86400 300"])})
    replace, delete, before, _wanted = module.plan(ZONE, RECORDS, INVENTORY, zone.ask)
    assert sorted(replace) == [("@", "MX"), (INVENTORY, "TXT"), ("app", "A"), ("www", "CNAME")]
    assert delete == []
    assert all(value is None for value in before.values())


def test_sets_as_the_server_holds_them_are_not_replaced():
    """The comparison is of parsed data: a relative name, another spelling, another order."""
    zone = Zone(
        {
            ("app", "A"): (300, ["10.0.1.12", "10.0.1.11"]),
            ("www", "CNAME"): (300, ["app.legacy.internal."]),
            ("@", "MX"): (300, ["10 MAIL.example.org."]),
            (INVENTORY, "TXT"): (300, LIST),
        }
    )
    assert module.plan(ZONE, RECORDS, INVENTORY, zone.ask)[:2] == ({}, [])
    assert zone.queries == 4  # each managed set once, the list of ours once


def test_only_what_differs_is_replaced_and_what_is_no_longer_declared_is_deleted():
    zone = Zone(
        {
            ("app", "A"): (300, ["10.0.1.11"]),  # one address missing
            ("www", "CNAME"): (60, ["app"]),  # another TTL
            ("@", "MX"): (300, ["10 mail.example.org."]),
            ("old", "A"): (300, ["10.0.9.9"]),  # ours before
            ("other", "A"): (300, ["10.0.8.8"]),  # someone else's: never named
            (INVENTORY, "TXT"): (300, [*LIST, '"old A"']),
        }
    )
    replace, delete, _before, _wanted = module.plan(ZONE, RECORDS, INVENTORY, zone.ask)
    assert sorted(replace) == [(INVENTORY, "TXT"), ("app", "A"), ("www", "CNAME")]
    assert delete == [("old", "A")]
    message = module.update_message(ZONE, KEY, replace, delete)
    text = message.to_text()
    assert "other" not in text
    assert "old.legacy.internal. ANY A" in text
    assert "app.legacy.internal. 300 IN A 10.0.1.12" in text
    assert message.keyname == dns.name.from_text("groundwork-update")
    assert KEY["secret"] not in text


def test_bad_record_data_is_refused_naming_the_record():
    zone = Zone({})
    records = [{"name": "app", "type": "A", "ttl": 300, "data": "10.0.1.300"}]
    with pytest.raises(module.UpdateError, match=r"records\[0\] \(app A\)"):
        module.plan(ZONE, records, INVENTORY, zone.ask)


def test_a_refused_query_stops_before_any_update():
    def refuse(query):
        answer = dns.message.make_response(query)
        answer.set_rcode(dns.rcode.REFUSED)
        return answer

    with pytest.raises(module.UpdateError, match="REFUSED"):
        module.plan(ZONE, RECORDS, INVENTORY, refuse)
