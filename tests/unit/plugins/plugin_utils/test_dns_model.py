# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The zone of groundwork.server.dns (plugin_utils/_dns_model.py and the decision in
_dns_role.py): names, records, conflicts, the serial, and every class of bad input refused
naming the record."""

from __future__ import annotations

import ipaddress
import types
from pathlib import Path

import pytest
import yaml
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import digest
from ansible_collections.groundwork.server.plugins.plugin_utils import _dns_model as dns
from ansible_collections.groundwork.server.plugins.plugin_utils import _dns_role as role
from ansible_collections.groundwork.server.plugins.plugin_utils._model_check import Checker

ROOT = Path(__file__).resolve().parents[4]
DEFAULTS = yaml.safe_load((ROOT / "roles" / "dns" / "defaults" / "main.yml").read_text())
KEY = "a2V5LWZvci10ZXN0cy1vbmx5LWtleS1mb3ItdGVzdHMtb25seQ=="  # 36 bytes
GROUPS = {
    "all": ["ns1", "ns2", "lb1", "app1", "app2", "db1", "db2"],
    "dnsservers": ["ns1", "ns2"],
    "loadbalancers": ["lb1"],
    "appservers": ["app1", "app2"],
    "dbservers": ["db1", "db2"],
}
ADDRESSES = {
    "ns1": "10.0.0.1",
    "ns2": "10.0.0.2",
    "lb1": "10.0.1.1",
    "app1": "10.0.2.1",
    "app2": "10.0.2.2",
    "db1": "10.0.3.1",
    "db2": "10.0.3.2",
}
HOSTVARS = {host: {"firewall_addresses": [address]} for host, address in ADDRESSES.items()}


def inputs(**overrides):
    values = {**DEFAULTS, "dns_transfer_key": KEY, **overrides}
    return values


def context(host="app1", groups=None, hostvars=None):
    return types.SimpleNamespace(
        host=host, groups=groups or GROUPS, hostvars=hostvars or HOSTVARS, check_mode=False
    )


def validate(host="app1", **overrides):
    return role.validate(inputs(**overrides), context(host))


def records(model):
    return {(name, kind, data) for name, _ttl, kind, data, _where in model["model"]["generated"]} | {
        (name, kind, data) for name, _ttl, kind, data, _where in model["settings"]["records"]
    }


def test_zone_from_the_inventory():
    model, problems = validate()
    assert problems == []
    found = records(model)
    assert ("app1", "A", "10.0.2.1") in found
    assert ("app", "A", "10.0.2.1") in found and ("app", "A", "10.0.2.2") in found
    # one name for the database: its first server
    assert ("db", "A", "10.0.3.1") in found and ("db", "A", "10.0.3.2") not in found
    assert ("lb", "A", "10.0.1.1") in found
    assert model["settings"]["primary"] == "ns1" and model["settings"]["secondaries"] == ["ns2"]


def test_user_records_rendered_in_zone_syntax():
    model, problems = validate(
        dns_records=[
            {"name": "www", "type": "CNAME", "value": "lb"},
            {"name": "@", "type": "MX", "priority": 5, "value": "mail.example.org."},
            {"name": "@", "type": "TXT", "value": 'v=spf1 "quoted" \\ ' + "x" * 300},
            {"name": "_ldap._tcp", "type": "SRV", "port": 389, "value": "db1"},
            {"name": "@", "type": "CAA", "value": "letsencrypt.org"},
            {"name": "v6", "type": "AAAA", "value": "2001:db8::1", "ttl": 60},
        ]
    )
    assert problems == []
    rows = dns.zone_rows(
        "groundwork.internal",
        "ns1",
        "hostmaster.groundwork.internal.",
        ["ns1", "ns2"],
        model["model"]["generated"] + model["settings"]["records"],
        7,
    )
    text = "\n".join("\t".join(row) for row in rows)
    assert rows[0][:3] == ["@", "300", "SOA"] and " 7 " in rows[0][3]
    assert "www\t300\tCNAME\tlb.groundwork.internal." in text
    assert "@\t300\tMX\t5 mail.example.org." in text
    assert '"v=spf1 \\"quoted\\" \\\\ ' in text  # quotes and backslashes escaped
    assert "_ldap._tcp\t300\tSRV\t10 0 389 db1.groundwork.internal." in text
    assert '@\t300\tCAA\t0 issue "letsencrypt.org"' in text
    assert "v6\t60\tAAAA\t2001:db8::1" in text
    txt = next(row for row in rows if row[2] == "TXT")[3]
    # 315 characters: two character strings of at most 255 (RFC 1035)
    assert txt.count('" "') == 1 and txt.startswith('"v=spf1') and txt.endswith('x"')


BAD = [
    ("dns_zone", "bad_zone-.", "dns_zone"),
    ("dns_zone", "", "dns_zone"),
    ("dns_ttl", -1, "dns_ttl"),
    ("dns_ttl", 2**31, "dns_ttl"),
    ("dns_primary", "nohost", "dns_primary: 'nohost' is not a host of the inventory"),
    ("dns_secondaries", ["ns1"], "dns_secondaries[0]: 'ns1' is the primary"),
    ("dns_secondaries", ["ghost"], "dns_secondaries[0]: 'ghost' is not a host of the inventory"),
    ("dns_transfer_key", "short", "dns_transfer_key: is not a TSIG secret"),
    ("dns_transfer_key", "", "dns_transfer_key: is required"),
    ("dns_resolver_upstreams", ["9.9.9.9@0"], "dns_resolver_upstreams[0]"),
    ("dns_resolver_upstreams", ["resolver.example"], "dns_resolver_upstreams[0]"),
    ("dns_resolver_insecure_domains", ["a..b"], "dns_resolver_insecure_domains[0]"),
    ("dns_service_names", {"appservers": "a b"}, "dns_service_names: appservers 'a b'"),
    ("dns_service_names", {"webservers": "w"}, "dns_service_names: 'webservers' is not a tier"),
    ("dns_hostmaster", "root.admin@example.org", "dns_hostmaster"),
    ("dns_resolver", "yes", "dns_resolver: 'yes' must be true or false"),
    ("dns_hosts_group", "nogroup", "dns_hosts_group"),
]


@pytest.mark.parametrize(("var", "value", "expected"), BAD)
def test_bad_settings_are_refused_naming_the_variable(var, value, expected):
    model, problems = validate(**{var: value})
    assert model is None
    assert any(expected in problem for problem in problems), problems
    assert all(KEY not in problem for problem in problems)


BAD_RECORDS = [
    ({"name": "bad name", "type": "A", "value": "10.9.9.9"}, "dns_records[0] (bad name): name 'bad name'"),
    ({"name": "-x", "type": "A", "value": "10.9.9.9"}, "name '-x'"),
    ({"name": "x", "type": "A", "value": "2001:db8::1"}, "is not an IPv4 address"),
    ({"name": "x", "type": "AAAA", "value": "10.0.0.1"}, "is not an IPv6 address"),
    ({"name": "x", "type": "NS", "value": "ns1"}, "type 'NS' is not a record type"),
    (
        {"name": "x", "type": "A", "value": "10.9.9.9", "ttl": -5},
        "dns_records[0] (x): ttl -5 is out of range",
    ),
    ({"name": "x", "type": "A", "value": "10.9.9.9", "ttl": 2**31}, "ttl 2147483648 is out of range"),
    ({"name": "x", "type": "A", "value": "10.9.9.9", "ttl": True}, "ttl True is out of range"),
    ({"name": "x", "type": "TXT", "value": "line\nbreak"}, "is not valid text"),
    ({"name": "x", "type": "TXT", "value": "é"}, "is not valid text"),
    ({"name": "x", "type": "MX", "value": "mail", "priority": 70000}, "priority 70000 is out of range"),
    ({"name": "x", "type": "SRV", "value": "db1", "port": 389}, "is not an SRV name"),
    ({"name": "_x._tcp", "type": "SRV", "value": "db1"}, "port None is out of range"),
    ({"name": "x", "type": "CAA", "value": "ca.example", "tag": "bogus"}, "tag 'bogus' is not a CAA tag"),
    ({"name": "x", "type": "CAA", "value": "ca.example", "flags": 1}, "flags 1 is not a CAA flag"),
    ({"name": "x", "type": "CNAME", "value": "bad..name"}, "is not a host name"),
    ({"name": "x.other.example.", "type": "A", "value": "10.9.9.9"}, "is outside the zone"),
    ({"name": "x", "type": "A", "value": "10.9.9.9", "weight": 3}, "unknown keys weight"),
    ({"name": "app1", "type": "A", "value": "10.9.9.9"}, "conflicts with the records host app1 generates"),
    (
        {"name": "db", "type": "CNAME", "value": "db1"},
        "conflicts with the records dns_service_names.dbservers",
    ),
    ({"name": "@", "type": "CNAME", "value": "lb"}, "cannot be at the zone's apex"),
    ("not a mapping", "dns_records[0]: must be a mapping"),
    ({"name": "x" * 64, "type": "A", "value": "10.9.9.9"}, "is not a name in the zone"),
    ({"name": ".".join(["a" * 63] * 4), "type": "A", "value": "10.9.9.9"}, "is too long"),
]


@pytest.mark.parametrize(("record", "expected"), BAD_RECORDS)
def test_bad_records_are_refused_naming_the_record(record, expected):
    model, problems = validate(dns_records=[record])
    assert model is None
    assert any(expected in problem for problem in problems), problems


def test_cname_beside_other_data_and_duplicates():
    _model, problems = validate(
        dns_records=[
            {"name": "www", "type": "CNAME", "value": "lb"},
            {"name": "www", "type": "TXT", "value": "hello"},
            {"name": "x", "type": "A", "value": "10.9.9.9"},
            {"name": "X", "type": "A", "value": "10.9.9.9"},
        ]
    )
    assert any(
        "dns_records[0] (www): a CNAME for 'www' cannot stand beside other data" in p for p in problems
    )
    assert any("dns_records[3] (X): is the same record as dns_records[2] (x)" in p for p in problems)


def test_host_names_that_clash_or_are_not_names():
    hostvars = {**HOSTVARS, "app2": {"firewall_addresses": ["10.0.2.2"], "dns_name": "app1"}}
    _model, problems = role.validate(inputs(), context(hostvars=hostvars))
    assert any("host app2: name 'app1' is already the name of host app1" in p for p in problems)
    groups = {**GROUPS, "all": [*GROUPS["all"], "web_1.example.com"]}
    hostvars = {**HOSTVARS, "web_1.example.com": {"firewall_addresses": ["10.0.9.1"]}}
    model, problems = role.validate(inputs(), context(groups=groups, hostvars=hostvars))
    assert model is not None and ("web_1.example.com", "A", "10.0.9.1") in records(model)
    hostvars["web_1.example.com"]["dns_name"] = "web 1"
    _model, problems = role.validate(inputs(), context(groups=groups, hostvars=hostvars))
    assert any("host web_1.example.com: dns_name 'web 1' is not a name in the zone" in p for p in problems)


def test_hosts_without_addresses_are_read():
    hostvars = {**HOSTVARS, "db2": {}}
    model, problems = role.validate(inputs(), context(hostvars=hostvars))
    assert problems == []
    assert model["model"]["clients"] == ["db2"] and not model["model"]["complete"]
    sources = {"results": [{"item": "db2", "info": {"report": "route4=src 10.0.3.2\nroute6=\n"}}]}
    model, problems = role.validate({**inputs(), "__dns_sources": sources}, context(hostvars=hostvars))
    assert problems == [] and model["model"]["complete"]
    assert ("db2", "A", "10.0.3.2") in records(model)


@pytest.mark.parametrize(
    ("current", "expected"),
    [(None, 1), (1, 2), (2**32 - 1, 1), (2019010101, 2019010102)],
)
def test_next_serial(current, expected):
    assert dns.next_serial(current) == expected


def test_serial_changes_once_per_real_change():
    def render(serial):
        return f"zone with serial {serial}\n"

    # the file as the role wrote it with serial 5: unchanged
    assert role.choose_serial(render, 5, {"sha256": digest(render(5))}) == (5, render(5))
    # the content differs (a record changed): the next serial
    assert role.choose_serial(lambda s: f"other {s}\n", 5, {"sha256": digest(render(5))}) == (6, "other 6\n")
    # a new zone
    assert role.choose_serial(render, None, None) == (1, render(1))


def test_transfer_key_never_in_messages():
    check = Checker()
    dns.transfer_key(check, "dns_transfer_key", "c2VjcmV0", True)
    assert check.errors and "c2VjcmV0" not in check.errors[0]


def test_address_rows():
    networks = [
        ipaddress.ip_network("10.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/24"),
        ipaddress.ip_network("2001:db8::1/128"),
    ]
    assert dns.address_rows(networks) == [("A", "10.0.0.1"), ("AAAA", "2001:db8::1")]


# --- DNSSEC: the zone's keys and the resolvers' trust anchor ---------------------------------

KSK = "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        (KSK, True),
        ("256 3 13 " + KSK.split()[3], False),  # a zone-signing key
        ("257 3 x13 AAAA", False),
        ("257 3 13 not base64!", False),
        ("257 3 13 AAAA\n", False),
        ('257 3 13 AAAA"; include: "/etc/x', False),
        ("257 3 13", False),
    ],
)
def test_only_the_data_of_a_key_signing_key_is_an_anchor(text, valid):
    assert dns.is_dnskey(text) is valid


def test_the_key_files_give_their_key_signing_keys_only():
    from ansible_collections.groundwork.server.plugins.plugin_utils._probes import zone_keys

    key = KSK.split()[3]
    ksk = (
        "; This is a key-signing key, keyid 1234, for shop.internal.\n"
        f"shop.internal. 3600 IN DNSKEY 257 3 13 {key[:40]} {key[40:]}\n"
    )
    zsk = f"shop.internal. IN DNSKEY 256 3 13 {key}\n"
    assert zone_keys.key_data(ksk) == [KSK]
    assert zone_keys.key_data(zsk) == []


def test_the_anchors_come_from_the_primarys_read_and_nothing_else():
    assert role.zone_anchors(None) is None  # the validate step: nothing read yet
    assert role.zone_anchors({"skipped": True}) is None
    assert role.zone_anchors({"failed": True, "info": {"keys": [KSK]}}) == []
    assert role.zone_anchors({"info": {"keys": []}}) == []
    assert role.zone_anchors({"info": {"keys": [KSK, "257 3 13 bad data", 7]}}) == [KSK]


# --- dns_mode update: the same records published to an existing server ---------------------

UPDATE_KEY = "kA4jw8n0Lq2xQm1VdZf3bR5tYc7uEo9iWs6pHg8KjN0="
UPDATE = {"dns_mode": "update", "dns_update_server": "192.0.2.53", "dns_update_key": UPDATE_KEY}


def test_update_mode_publishes_the_same_records_from_one_host_and_serves_nothing():
    model, problems = validate(**UPDATE)
    assert problems == []
    settings = model["settings"]
    assert settings["primary"] is None and settings["secondaries"] == []
    assert settings["update"]["host"] == "ns1"  # the first host of dns_hosts_group
    published = role.publish(settings, model["model"])
    assert published["server"] == "192.0.2.53" and published["port"] == 53
    assert {"name": "db", "type": "A", "ttl": 300, "data": "10.0.3.1"} in published["records"]
    assert UPDATE_KEY not in repr(published)
    assert role.packages(settings, "ns1") == ["python3-dnspython", *role.UNBOUND_PACKAGES]
    assert role.packages(settings, "app1") == list(role.UNBOUND_PACKAGES)
    # the resolvers ask the existing server for the zone
    assert role.derived(settings, model["model"], "app1", {})["stubs"] == ["192.0.2.53"]
    model, problems = validate(
        **{**UPDATE, "dns_update_server": "192.0.2.53@5353", "dns_update_host": "app2"}
    )
    assert role.derived(model["settings"], model["model"], "app1", {})["stubs"] == ["192.0.2.53@5353"]
    assert role.publish(model["settings"], model["model"])["host"] == "app2"


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("dns_mode", "primary", "dns_mode: 'primary' is not a mode (expected one of serve, update)"),
        ("dns_update_server", "", "dns_update_server: '' is not a server"),
        ("dns_update_server", "dns.example.com", "dns_update_server: 'dns.example.com' is not a server"),
        ("dns_update_key", "", "dns_update_key: is required"),
        ("dns_update_key", "c2hvcnQ=", "dns_update_key: is not a TSIG secret"),
        ("dns_update_key_name", "bad key", "dns_update_key_name"),
        ("dns_update_algorithm", "hmac-md5", "dns_update_algorithm: 'hmac-md5' is not a TSIG algorithm"),
        ("dns_update_host", "ghost", "dns_update_host: 'ghost' is not a host of the inventory"),
        ("dns_dnssec", True, "dns_dnssec: signs a zone this collection serves"),
    ],
)
def test_bad_update_settings_are_refused_naming_the_variable(var, value, expected):
    model, problems = validate(**{**UPDATE, var: value})
    assert model is None
    assert any(expected in problem for problem in problems), problems
    assert all(UPDATE_KEY not in problem and "c2hvcnQ=" not in problem for problem in problems)


@pytest.mark.parametrize(
    ("resolver", "state", "expected"),
    [
        (True, {"active": "active", "enabled": "enabled"}, False),
        (True, {"active": "activating", "enabled": "enabled"}, True),  # the package's restart loop
        (True, {"active": "failed", "enabled": "enabled"}, True),
        (True, {"active": "inactive", "enabled": "disabled"}, True),
        (True, None, True),  # not installed yet
        (False, {"active": "failed"}, False),  # no resolver: unbound is left alone
    ],
)
def test_an_unbound_that_does_not_run_is_reset_before_our_configuration_starts_it(resolver, state, expected):
    assert role.resolver_reset({"resolver": resolver}, state) is expected
