# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork-tls-renew: the decision (issue / renew / ok), ARI and its certID."""

from __future__ import annotations

import datetime

import pytest
from conftest import DIRECTORY, NOW

DOMAINS = ("shop.example.com", "www.shop.example.com")


def spec(renew, **overrides):
    data = {
        "name": "shop",
        "domains": list(DOMAINS),
        "key_type": "ecdsa_p256",
        "directory": DIRECTORY,
        "ca_bundle": None,
        "email": None,
        "webroot": "/var/lib/groundwork/acme",
        "renew_fraction": 3,
        "key_group": "groundwork-tls",
    }
    data.update(overrides)
    return renew.parse_spec(data)


def info(renew, *, days_left=60, lifetime=90, domains=DOMAINS, key_type="ecdsa_p256", aki="AB" * 20):
    not_after = NOW + datetime.timedelta(days=days_left)
    return renew.CertInfo(
        domains=frozenset(domains),
        key_type=key_type,
        not_before=not_after - datetime.timedelta(days=lifetime),
        not_after=not_after,
        serial="0A1B2C",
        aki=aki,
    )


def never_called(*_args):
    raise AssertionError("must not be called")


@pytest.mark.parametrize(
    ("deployed", "placeholder", "reason"),
    [
        (None, False, "no certificate deployed"),
        (None, True, "no certificate deployed"),
        ("valid", True, "placeholder certificate"),
    ],
)
def test_issue_when_missing_or_placeholder(renew, deployed, placeholder, reason):
    current = info(renew) if deployed else None
    decision = renew.decide(spec(renew), current, placeholder, NOW, ari=never_called, lineage=never_called)
    assert decision == renew.Decision("issue", reason)


def test_issue_when_domains_differ(renew):
    current = info(renew, domains=["shop.example.com"])
    decision = renew.decide(spec(renew), current, False, NOW, ari=never_called, lineage=never_called)
    assert decision.action == "issue"
    assert decision.reason == "domains differ: certificate has shop.example.com"


def test_domain_order_and_case_do_not_matter(renew):
    wanted = spec(renew, domains=["WWW.shop.example.com", "shop.example.com"])
    decision = renew.decide(wanted, info(renew), False, NOW, ari=lambda *_a: None, lineage=lambda: None)
    assert decision.action == "ok"


@pytest.mark.parametrize("key_type", ["ecdsa_p384", "rsa2048", "rsa3072", "rsa4096"])
def test_issue_when_key_type_differs(renew, key_type):
    decision = renew.decide(spec(renew, key_type=key_type), info(renew), False, NOW, ari=never_called)
    assert decision == renew.Decision(
        "issue", f"key type differs: certificate has ecdsa_p256, wanted {key_type}"
    )


def test_issue_when_not_the_acme_clients_certificate(renew):
    decision = renew.decide(
        spec(renew), info(renew), False, NOW, ari=never_called, lineage=lambda: "not certbot's"
    )
    assert decision == renew.Decision("issue", "not certbot's")


def test_force_renews_a_valid_certificate(renew):
    assert renew.decide(spec(renew), info(renew), False, NOW, force=True, ari=never_called).action == "renew"
    decision = renew.decide(spec(renew), info(renew), False, NOW, force="asked for", ari=never_called)
    assert decision == renew.Decision("renew", "asked for")


def test_force_does_not_hide_a_missing_certificate(renew):
    assert renew.decide(spec(renew), None, False, NOW, force=True).action == "issue"


@pytest.mark.parametrize(
    ("fraction", "lifetime", "days_left", "action"),
    [
        (3, 90, 31, "ok"),  # due at 30 days left
        (3, 90, 30, "renew"),  # exactly at the boundary
        (3, 90, 29, "renew"),
        (2, 90, 46, "ok"),
        (2, 90, 44, "renew"),
        (4, 1826, 457, "ok"),  # pebble's 5 years, due at 456.5 days left
        (4, 1826, 456, "renew"),
        (3, 90, -1, "renew"),  # expired
    ],
)
def test_lifetime_rule(renew, fraction, lifetime, days_left, action):
    current = info(renew, days_left=days_left, lifetime=lifetime)
    decision = renew.decide(spec(renew, renew_fraction=fraction), current, False, NOW, ari=lambda *_a: None)
    assert decision.action == action
    if action == "renew":
        assert decision.reason.startswith(f"less than 1/{fraction} of the lifetime left")


def test_lifetime_rule_comes_before_ari(renew):
    decision = renew.decide(spec(renew), info(renew, days_left=10), False, NOW, ari=never_called)
    assert decision.action == "renew"


def test_ok_reports_expiry_and_next_renewal(renew):
    decision = renew.decide(spec(renew), info(renew, days_left=60), False, NOW, ari=lambda *_a: None)
    assert decision == renew.Decision(
        "ok", "valid until 2027-01-24T12:00:00Z, renewal from 2026-12-25T12:00:00Z"
    )


def test_ari_window_started(renew):
    start = NOW - datetime.timedelta(hours=1)
    decision = renew.decide(spec(renew), info(renew), False, NOW, ari=lambda *_a: start)
    assert decision == renew.Decision("renew", "ARI suggested window started 2026-11-25T11:00:00Z")


def test_ari_window_starts_exactly_now(renew):
    assert renew.decide(spec(renew), info(renew), False, NOW, ari=lambda *_a: NOW).action == "renew"


def test_ari_window_not_started(renew):
    start = NOW + datetime.timedelta(days=5)
    decision = renew.decide(spec(renew), info(renew), False, NOW, ari=lambda *_a: start)
    assert decision.action == "ok"
    assert decision.reason.endswith("renewal from 2026-11-30T12:00:00Z (ARI window)")


def test_ari_window_later_than_the_lifetime_rule_reports_the_earlier(renew):
    start = NOW + datetime.timedelta(days=50)
    decision = renew.decide(spec(renew), info(renew), False, NOW, ari=lambda *_a: start)
    assert decision.reason == "valid until 2027-01-24T12:00:00Z, renewal from 2026-12-25T12:00:00Z"


def test_ari_not_advertised_uses_the_lifetime_rule(renew):
    decision = renew.decide(spec(renew), info(renew), False, NOW, ari=lambda *_a: None)
    assert decision.action == "ok"
    assert "ARI" not in decision.reason


def test_ari_failure_falls_back_to_the_lifetime_rule(renew):
    def failing(*_args):
        raise renew.AriError("https://acme.test/dir: HTTP 500")

    decision = renew.decide(spec(renew), info(renew), False, NOW, ari=failing)
    assert decision.action == "ok"
    assert decision.reason.endswith(
        "ARI unavailable (https://acme.test/dir: HTTP 500), lifetime rule applies"
    )


def test_without_an_ari_lookup_only_the_lifetime_rule(renew):
    assert renew.decide(spec(renew), info(renew), False, NOW).action == "ok"
    assert renew.decide(spec(renew), info(renew, days_left=1), False, NOW).action == "renew"


# --- ARI certID (RFC 9773) ---------------------------------------------------------------
def test_cert_id_rfc9773_vector(renew):
    aki = "69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4"
    assert renew.ari_cert_id(aki, "00:87:65:43:21") == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"


def test_cert_id_from_openssl_serial_notation(renew):
    # openssl prints "serial=87654321": the DER INTEGER needs the leading zero octet back.
    aki = "69885B6B87464041E1B37B847BA0AE2CDE01C8D4"
    assert renew.ari_cert_id(aki, "87654321") == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"


@pytest.mark.parametrize(
    ("serial", "der"),
    [
        ("87654321", b"\x00\x87\x65\x43\x21"),
        ("7F", b"\x7f"),
        ("80", b"\x00\x80"),
        ("0123", b"\x01\x23"),
        ("123", b"\x01\x23"),
        ("0", b"\x00"),
        ("2AEE1F2BA952AEFC", bytes.fromhex("2AEE1F2BA952AEFC")),
    ],
)
def test_serial_der_bytes(renew, serial, der):
    assert renew.serial_der_bytes(serial) == der


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-03-25T23:17:58Z", datetime.datetime(2030, 3, 25, 23, 17, 58, tzinfo=datetime.UTC)),
        (
            "2030-03-25T23:17:58.123456789Z",
            datetime.datetime(2030, 3, 25, 23, 17, 58, 123456, tzinfo=datetime.UTC),
        ),
        (
            "2030-03-26T01:17:58+02:00",
            datetime.datetime(2030, 3, 25, 23, 17, 58, tzinfo=datetime.UTC),
        ),
    ],
)
def test_parse_rfc3339(renew, text, expected):
    assert renew.parse_rfc3339(text) == expected


def test_parse_rfc3339_rejects_garbage(renew):
    with pytest.raises(renew.AriError):
        renew.parse_rfc3339("tomorrow")


# --- AriClient -----------------------------------------------------------------------------
class Fetch:
    def __init__(self, renew, answers):
        self.renew = renew
        self.answers = answers
        self.urls = []

    def __call__(self, url, ca_bundle=None):
        self.urls.append((url, ca_bundle))
        answer = self.answers[url]
        if isinstance(answer, Exception):
            raise answer
        return answer


RENEWAL_INFO = "https://acme.test/draft-ietf-acme-ari-03/renewalInfo"
CERT_ID = "q6urq6urq6urq6urq6urq6urq6s.Chss"  # AKI AB*20, serial 0A1B2C


def test_ari_client_fetches_the_window(renew):
    fetch = Fetch(
        renew,
        {
            DIRECTORY: {"renewalInfo": RENEWAL_INFO},
            f"{RENEWAL_INFO}/{CERT_ID}": {
                "suggestedWindow": {"start": "2030-03-25T23:17:58Z", "end": "2030-03-27T23:17:58Z"}
            },
        },
    )
    client = renew.AriClient(fetch)
    wanted = spec(renew, ca_bundle="/etc/groundwork/tls/acme-ca.pem")
    start = client.window_start(wanted, info(renew))
    assert start == datetime.datetime(2030, 3, 25, 23, 17, 58, tzinfo=datetime.UTC)
    client.window_start(wanted, info(renew))
    assert fetch.urls.count((DIRECTORY, "/etc/groundwork/tls/acme-ca.pem")) == 1  # directory cached
    assert fetch.urls[1] == (f"{RENEWAL_INFO}/{CERT_ID}", "/etc/groundwork/tls/acme-ca.pem")


def test_ari_client_without_renewal_info(renew):
    fetch = Fetch(renew, {DIRECTORY: {"newOrder": "https://acme.test/order"}})
    assert renew.AriClient(fetch).window_start(spec(renew), info(renew)) is None
    assert len(fetch.urls) == 1


@pytest.mark.parametrize(
    "answer",
    [{}, {"suggestedWindow": {}}, {"suggestedWindow": {"start": "soon"}}, ["not", "an", "object"]],
)
def test_ari_client_rejects_bad_answers(renew, answer):
    fetch = Fetch(renew, {DIRECTORY: {"renewalInfo": RENEWAL_INFO}, f"{RENEWAL_INFO}/{CERT_ID}": answer})
    with pytest.raises(renew.AriError):
        renew.AriClient(fetch).window_start(spec(renew), info(renew))


def test_ari_client_fetch_failure(renew):
    fetch = Fetch(renew, {DIRECTORY: renew.AriError("https://acme.test/dir: HTTP 503")})
    with pytest.raises(renew.AriError, match="HTTP 503"):
        renew.AriClient(fetch).window_start(spec(renew), info(renew))


def test_ari_client_needs_an_authority_key_identifier(renew):
    fetch = Fetch(renew, {DIRECTORY: {"renewalInfo": RENEWAL_INFO}})
    with pytest.raises(renew.AriError, match="authority key identifier"):
        renew.AriClient(fetch).window_start(spec(renew), info(renew, aki=None))


def test_fetch_json_refuses_plain_http(renew):
    with pytest.raises(renew.AriError, match="not an https URL"):
        renew.fetch_json("http://acme.test/dir")


# --- specifications ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"key_type": "dsa"}, "key_type 'dsa' is not one of"),
        ({"domains": []}, "domains must be a non-empty list"),
        ({"domains": "shop.example.com"}, "domains must be a non-empty list"),
        ({"renew_fraction": 1}, "renew_fraction 1 must be an integer of at least 2"),
        ({"renew_fraction": True}, "renew_fraction True must be"),
        ({"name": "Shop"}, "is not a valid certificate name"),
        ({"webroot": ""}, "webroot must be a non-empty string"),
    ],
)
def test_parse_spec_rejects(renew, overrides, message):
    with pytest.raises(renew.RenewError, match=message):
        spec(renew, **overrides)


def test_parse_spec_requires_every_key(renew):
    with pytest.raises(renew.RenewError, match="lacks directory, webroot"):
        renew.parse_spec({"name": "shop", "domains": ["a.test"], "key_type": "rsa2048", "ca_bundle": None,
                          "email": None, "renew_fraction": 3})  # fmt: skip


def test_parse_spec_name_must_match_the_file(renew):
    data = {**spec(renew).__dict__, "domains": list(DOMAINS)}
    with pytest.raises(renew.RenewError, match="does not match its file name"):
        renew.parse_spec(data, expected_name="other")


def test_parse_spec_normalises(renew):
    parsed = spec(renew, domains=["Shop.Example.com"], ca_bundle="", email="")
    assert parsed.domains == ("shop.example.com",)
    assert parsed.ca_bundle is None
    assert parsed.email is None
