# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dns_mode update: the same records published to a DNS server run elsewhere (the stand-in
dns-legacy, BIND with dynamic updates for one key) with RFC 2136 updates signed with TSIG -
predicted by check mode, sent once, never again without a change, refused with a wrong key,
and never touching another owner's records.

The tests run in the order of this file."""

from __future__ import annotations

import pytest
import yaml
from conftest import INVENTORY, SCENARIO, dig, get_host, own_address, testlib

VARIABLES = yaml.safe_load((SCENARIO / "vars" / "update.yml").read_text())
ZONE = VARIABLES["dns_zone"]
KEY = VARIABLES["dns_update_key"]
OTHER_KEY = "Zm9yLXRlc3RzLW9ubHktYS1rZXktdGhlLXNlcnZlci1kb2VzLW5vdC1rbm93"
HOSTS = ("dns-ns1", "dns-ns2", "dns-app", "dns-db")


@pytest.fixture(scope="module")
def legacy():
    return get_host("dns-legacy")


def update_variables(legacy, **changes):
    return {**VARIABLES, "dns_update_server": own_address(legacy), **changes}


def run(variables, tmp_path, *options):
    return testlib.run_playbook(SCENARIO, INVENTORY, "update.yml", variables, tmp_path, *options)


def answer(host, legacy, name, kind="A"):
    return dig(host, f"@{own_address(legacy)}", f"{name}.{ZONE}" if name != "@" else ZONE, kind)


def soa_serial(host, legacy):
    return int(answer(host, legacy, "@", "SOA")[0].split()[2])


def changed(output):
    return {host: testlib.recap_changed(output, host) for host in HOSTS}


def test_check_mode_predicts_the_update_and_sends_none(app, legacy, tmp_path):
    before = soa_serial(app, legacy)
    rc, output = run(update_variables(legacy), tmp_path, "--check", "--diff")
    assert rc == 0, output
    assert sum(changed(output).values()) >= 1, output
    assert soa_serial(app, legacy) == before
    assert answer(app, legacy, "db") == []
    assert KEY not in output


def test_the_records_reach_the_existing_server(app, db, ns1, legacy, tmp_path):
    rc, output = run(update_variables(legacy), tmp_path, "--diff", "-v")
    assert rc == 0, output
    assert KEY not in output
    assert answer(app, legacy, "db") == [own_address(db)]
    assert answer(app, legacy, "app") == [own_address(app)]
    assert answer(app, legacy, "dns-ns1") == [own_address(ns1)]
    assert answer(app, legacy, "www", "CNAME") == [f"app.{ZONE}."]
    assert answer(app, legacy, "@", "MX") == ["10 mail.example.org."]
    # another owner's record and the zone's own are untouched
    assert answer(app, legacy, "other") == ["192.0.2.99"]
    assert answer(app, legacy, "@", "NS") == [f"ns.{ZONE}."]


def test_a_second_run_sends_nothing(app, legacy, tmp_path):
    before = soa_serial(app, legacy)
    rc, output = run(update_variables(legacy), tmp_path)
    assert rc == 0, output
    assert changed(output) == dict.fromkeys(HOSTS, 0), output
    assert soa_serial(app, legacy) == before


def test_an_update_with_a_key_the_server_does_not_accept_is_refused(app, legacy, tmp_path):
    before = soa_serial(app, legacy)
    variables = update_variables(legacy, dns_update_key=OTHER_KEY, dns_records=[])
    rc, output = run(variables, tmp_path)
    assert rc != 0, output
    assert "the server refused the key" in output, output
    assert OTHER_KEY not in output
    assert soa_serial(app, legacy) == before
    assert answer(app, legacy, "@", "MX") == ["10 mail.example.org."]


def test_a_record_no_longer_declared_is_removed_and_only_that(app, legacy, tmp_path):
    variables = update_variables(legacy, dns_records=[{"name": "www", "type": "CNAME", "value": "app"}])
    rc, output = run(variables, tmp_path)
    assert rc == 0, output
    assert answer(app, legacy, "@", "MX") == []
    assert answer(app, legacy, "www", "CNAME") == [f"app.{ZONE}."]
    assert answer(app, legacy, "other") == ["192.0.2.99"]
    rc, output = run(variables, tmp_path)
    assert rc == 0, output
    assert changed(output) == dict.fromkeys(HOSTS, 0), output
