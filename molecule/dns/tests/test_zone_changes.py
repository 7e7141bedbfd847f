# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changed input: the serial moves once per real change and never on a run that changes
nothing, the secondary follows within seconds of the primary's NOTIFY; bad input is refused
naming the record before anything changes; a zone BIND refuses leaves the old one answering.

The tests run in the order of this file and end with the scenario's variables (and a zone
that was signed once)."""

from __future__ import annotations

import re

import pytest
from conftest import (
    INVENTORY,
    KEY,
    SCENARIO,
    ZONE,
    ZONE_FILE,
    dig,
    own_address,
    run_playbook,
    scenario_variables,
    serial,
    testlib,
    wait_for,
)

HOSTS = ("dns-ns1", "dns-ns2", "dns-app", "dns-db")


def with_record(**record):
    variables = scenario_variables()
    variables["dns_records"].append(record)
    return variables


def changed(output):
    return {host: testlib.recap_changed(output, host) for host in HOSTS}


def test_a_second_run_changes_nothing_and_keeps_the_serial(app, ns1, tmp_path):
    before = serial(app, own_address(ns1))
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    assert changed(output) == dict.fromkeys(HOSTS, 0), output
    assert serial(app, own_address(ns1)) == before


def test_a_change_moves_the_serial_once_and_the_secondary_follows_within_seconds(app, ns1, ns2, tmp_path):
    primary, secondary = own_address(ns1), own_address(ns2)
    before = serial(app, primary)
    variables = with_record(name="release", type="TXT", value="two")

    # check mode predicts the change and makes none; the diff never shows the transfer key
    rc, output = run_playbook(variables, tmp_path, "--check", "--diff")
    assert rc == 0, output
    assert changed(output)["dns-ns1"] == 1, output
    assert changed(output)["dns-ns2"] == 0, output
    assert KEY not in output
    assert serial(app, primary) == before

    rc, output = run_playbook(variables, tmp_path, "-v")
    assert rc == 0, output
    assert KEY not in output
    assert changed(output) == {"dns-ns1": 1, "dns-ns2": 0, "dns-app": 0, "dns-db": 0}, output
    assert serial(app, primary) == before + 1
    # the secondary learns of it by NOTIFY, not at its next refresh (an hour away)
    followed, waited = wait_for(lambda: serial(app, secondary), before + 1, 10)
    assert followed == before + 1
    assert waited < 5, f"the secondary followed after {waited:.1f} s"
    assert dig(app, f"@{secondary}", f"release.{ZONE}", "TXT") == ['"two"']

    # the same input again: nothing changes, the serial stays
    rc, output = run_playbook(variables, tmp_path)
    assert rc == 0, output
    assert changed(output) == dict.fromkeys(HOSTS, 0), output
    assert serial(app, primary) == before + 1


def zone_state(ns1, ns2):
    return (
        ns1.check_output(f"sha256sum {ZONE_FILE} /etc/bind/named.conf.local"),
        ns2.check_output("sha256sum /etc/bind/named.conf.local"),
        serial(ns1, "127.0.0.1"),
    )


def set_var(var, value):
    def change(variables):
        variables[var] = value

    return change


def add_records(*records):
    def change(variables):
        variables["dns_records"].extend(records)

    return change


# Bad input, with the refusal that must name it.
BAD_INPUT = {
    "malformed name": (
        add_records({"name": "bad_name!", "type": "TXT", "value": "x"}),
        "dns_records[5] (bad_name!): name 'bad_name!' is not a name in the zone",
    ),
    "record that conflicts with a generated one": (
        add_records({"name": "db", "type": "A", "value": "192.0.2.7"}),
        "dns_records[5] (db): a A record for 'db' conflicts with the records dns_service_names.dbservers"
        " generates",
    ),
    "CNAME beside other data": (
        add_records(
            {"name": "mail", "type": "CNAME", "value": "app"}, {"name": "mail", "type": "TXT", "value": "x"}
        ),
        "dns_records[5] (mail): a CNAME for 'mail' cannot stand beside other data (dns_records[6] (mail))",
    ),
    "TTL out of range": (
        set_var("dns_ttl", 2**31),
        "dns_ttl: 2147483648 is out of range (expected a whole number from 0 to 2147483647)",
    ),
    "record TTL out of range": (
        add_records({"name": "short", "type": "TXT", "value": "x", "ttl": -1}),
        "dns_records[5] (short): ttl -1 is out of range",
    ),
    "secondary not in the inventory": (
        set_var("dns_secondaries", ["dns-ns3"]),
        "dns_secondaries[0]: 'dns-ns3' is not a host of the inventory",
    ),
    "malformed zone": (
        set_var("dns_zone", "shop..internal"),
        "dns_zone: 'shop..internal' is not a DNS name",
    ),
    "transfer key that is not one": (
        set_var("dns_transfer_key", "not-a-key"),
        "dns_transfer_key: is not a TSIG secret",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_is_refused_naming_it_before_anything_changes(case, ns1, ns2, tmp_path):
    change, expected = BAD_INPUT[case]
    variables = scenario_variables()
    change(variables)
    output = testlib.assert_refused_unchanged(
        lambda: run_playbook(variables, tmp_path), lambda: zone_state(ns1, ns2), expected
    )
    if case == "transfer key that is not one":
        assert "not-a-key" not in output


def test_a_zone_bind_refuses_leaves_the_old_one_answering(app, ns1, tmp_path):
    primary = own_address(ns1)
    before = (ns1.check_output(f"sha256sum {ZONE_FILE}"), serial(app, primary))
    rc, output = testlib.run_playbook(SCENARIO, INVENTORY, "broken_zone.yml", {}, tmp_path)
    assert rc != 0, output
    assert "300.1.1.1" in output  # named-checkconf's reason reaches the user
    assert (ns1.check_output(f"sha256sum {ZONE_FILE}"), serial(app, primary)) == before
    assert dig(app, f"@{primary}", f"db.{ZONE}", "A")


def test_the_scenarios_zone_is_back(app, ns1, ns2, tmp_path):
    """The scenario's variables again (one more real change)."""
    before = serial(app, own_address(ns1))
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    assert serial(app, own_address(ns1)) == before + 1
    assert wait_for(lambda: serial(app, own_address(ns2)), before + 1, 10)[0] == before + 1
    assert dig(app, f"@{own_address(ns1)}", f"release.{ZONE}", "TXT") == []


def flags(answer):
    """The header flags of dig's answer."""
    return re.search(r";; flags: ([a-z ]+);", answer).group(1).split()


def signed_variables():
    variables = scenario_variables()
    variables["dns_dnssec"] = True
    return variables


def test_a_signed_zone_validates_with_the_zones_trust_anchor(app, db, ns1, ns2, tmp_path):
    assert "ad" not in flags(app.check_output(f"dig @127.0.0.1 db.{ZONE} A"))

    rc, output = run_playbook(signed_variables(), tmp_path)
    assert rc == 0, output
    # both authoritative servers serve the signatures (the secondary by transfer)
    for server in (ns1, ns2):
        query = f"dig +dnssec +norecurse @{own_address(server)} db.{ZONE} A"
        assert wait_for(lambda query=query: "RRSIG" in app.check_output(query), True, 10)[0], query
    # the resolvers validate the zone's answers against its key: the authenticated-data flag
    for host in (app, db):
        answer = host.check_output(f"dig @127.0.0.1 db.{ZONE} A")
        assert "ad" in flags(answer), answer
        assert "NOERROR" in answer
    # the anchor is the key-signing key the primary serves
    served = dig(app, f"@{own_address(ns1)}", ZONE, "DNSKEY")
    anchor = app.file("/etc/unbound/unbound.conf.d/groundwork-anchor.conf").content_string
    ksk = [key for key in served if key.startswith("257 ")]
    assert len(ksk) == 1
    assert "".join(ksk[0].split()[3:]) in anchor

    # a run that changes nothing reads the same key and keeps everything as it is
    rc, output = run_playbook(signed_variables(), tmp_path)
    assert rc == 0, output
    assert changed(output) == dict.fromkeys(HOSTS, 0), output


def test_a_zone_signed_once_is_served_unsigned_again_without_a_step_back(app, ns1, ns2, tmp_path):
    primary, secondary = own_address(ns1), own_address(ns2)
    before = serial(app, primary)
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    assert not app.file("/etc/unbound/unbound.conf.d/groundwork-anchor.conf").exists
    answer = app.check_output(f"dig @127.0.0.1 db.{ZONE} A")
    assert "NOERROR" in answer
    assert "ad" not in flags(answer)
    # the served serial never goes back (the secondary would stop following)
    after = serial(app, primary)
    assert after >= before
    assert wait_for(lambda: serial(app, secondary), after, 10)[0] == after

    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    assert changed(output) == dict.fromkeys(HOSTS, 0), output
