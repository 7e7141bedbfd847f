# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The converged zone and resolvers, seen from the application and database servers: names
resolve through the local resolver, the platform's names still do, transfers only to the
secondary with the key."""

from __future__ import annotations

import time

import pytest
from conftest import KEY, ZONE, dig, own_address, serial, transfer


def test_the_database_name_resolves_through_the_local_resolver_to_the_database_server(app, db):
    assert app.file("/etc/resolv.conf").content_string.splitlines()[-3:] == [
        "nameserver 127.0.0.1",
        f"search {ZONE}",
        "options edns0 trust-ad",
    ]
    expected = own_address(db)
    # getent asks the system's resolver (glibc, /etc/resolv.conf): the local unbound
    assert app.check_output(f"getent ahostsv4 db.{ZONE}").split()[0] == expected
    assert dig(app, "@127.0.0.1", f"db.{ZONE}", "A") == [expected]
    # a short name through the search domain
    assert app.check_output("getent ahostsv4 db").split()[0] == expected


def test_the_tiers_and_hosts_have_their_names(app, db, ns1, ns2):
    assert dig(db, "@127.0.0.1", f"app.{ZONE}", "A") == [own_address(app)]
    for host, name in ((app, "dns-app"), (db, "dns-db"), (ns1, "dns-ns1"), (ns2, "dns-ns2")):
        assert dig(db, "@127.0.0.1", f"{name}.{ZONE}", "A") == [own_address(host)]
    # the user's records beside the generated ones
    assert dig(app, f"www.{ZONE}", "CNAME") == [f"app.{ZONE}."]
    assert dig(app, ZONE, "MX") == ["10 mail.example.org."]
    assert dig(app, ZONE, "CAA") == ['0 issue "letsencrypt.org"']
    assert dig(app, f"_postgresql._tcp.{ZONE}", "SRV") == [f"10 0 5432 db.{ZONE}."]
    assert dig(app, ZONE, "NS") == [f"dns-ns1.{ZONE}.", f"dns-ns2.{ZONE}."]


def test_the_platforms_names_keep_resolving(app, db):
    """Docker's embedded DNS answers the containers' names, through unbound's upstream."""
    assert app.check_output("getent ahostsv4 dns-db").split()[0] == own_address(db)


def test_names_outside_the_zone_are_answered_from_the_upstream(app):
    assert app.run("getent ahostsv4 deb.debian.org").rc == 0


def test_the_resolver_answers_this_host_only(app, db):
    assert app.socket("udp://127.0.0.1:53").is_listening
    assert db.run(f"dig +time=2 +tries=1 @{own_address(app)} db.{ZONE}").rc != 0


def test_both_authoritative_servers_answer_the_same_zone(app, ns1, ns2):
    assert serial(app, own_address(ns1)) == serial(app, own_address(ns2))
    assert dig(app, f"@{own_address(ns2)}", f"db.{ZONE}", "A") == dig(
        app, f"@{own_address(ns1)}", f"db.{ZONE}"
    )


def test_the_authoritative_servers_do_not_recurse(app, ns1):
    answer = app.check_output(f"dig +time=2 +tries=1 @{own_address(ns1)} deb.debian.org A")
    assert "status: REFUSED" in answer


@pytest.mark.parametrize("client", ["app", "db"])
def test_a_transfer_from_a_host_that_is_not_a_secondary_is_refused(request, client, ns1):
    host = request.getfixturevalue(client)
    assert "Transfer failed." in transfer(host, own_address(ns1))
    # the key alone is not enough: the address is not a secondary's
    assert "Transfer failed." in transfer(host, own_address(ns1), KEY)


def test_a_secondary_transfers_the_zone_with_the_key_only(ns1, ns2):
    assert "Transfer failed." in transfer(ns2, own_address(ns1))
    signed = transfer(ns2, own_address(ns1), KEY)
    assert "Transfer failed." not in signed
    assert f"db.{ZONE}." in signed
    assert signed.count("\tSOA\t") == 2  # a complete transfer begins and ends with the SOA


def test_the_transfer_key_is_readable_by_bind_only(ns1, ns2):
    for host in (ns1, ns2):
        key = host.file("/etc/bind/groundwork-transfer.key")
        assert (key.user, key.group, key.mode) == ("root", "bind", 0o640)


def test_the_resolver_asks_the_secondary_while_the_primary_is_down(app, ns1):
    ns1.check_output("systemctl stop named")
    try:
        # a name no cache holds: only an authoritative server can say it does not exist
        answer = app.check_output(f"dig +time=2 +tries=3 @127.0.0.1 missing-{time.time_ns()}.{ZONE} A")
        assert "status: NXDOMAIN" in answer
    finally:
        ns1.check_output("systemctl start named")
