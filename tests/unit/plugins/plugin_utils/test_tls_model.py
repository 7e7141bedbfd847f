# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The certificate model of groundwork.server.tls (_tls_model.py) and what it does with each
certificate (_tls_plan.py)."""

from __future__ import annotations

import copy
import datetime
import os

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.plugin_utils._tls_model import (
    is_domain,
    pem_blocks,
    tls_model,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._tls_plan import tls_plan
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)


def _name(text):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _pem_key(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _certificate(subject, issuer_name, public_key, signing_key, names=(), days=90, ca=False):
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer_name))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=30))
        .not_valid_after(NOW + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def pki():
    """A CA, a leaf signed by it with its key, and an unrelated key."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _certificate("Test CA", "Test CA", ca_key.public_key(), ca_key, ca=True, days=3650)
    leaf = _certificate(
        "partner.example.com",
        "Test CA",
        leaf_key.public_key(),
        ca_key,
        names=["partner.example.com", "www.partner.example.com"],
    )
    expired = _certificate(
        "old.example.com", "Test CA", leaf_key.public_key(), ca_key, names=["old.example.com"], days=-2
    )
    return {
        "ca": ca,
        "leaf": leaf,
        "expired": expired,
        "key": _pem_key(leaf_key),
        "other_key": _pem_key(other_key),
    }


CERTIFICATES = [
    {"name": "shop", "domains": ["shop.example.com", "WWW.shop.example.com"]},
    {
        "name": "intranet",
        "domains": ["intranet.example.lan", "*.intranet.example.lan"],
        "provider": "internal_ca",
    },
    {"name": "legacy", "domains": ["legacy.example.com"], "provider": "selfsigned", "key_type": "rsa2048"},
]


def model(certificates=None, **kwargs):
    kwargs.setdefault("now", NOW.timestamp())
    return tls_model(copy.deepcopy(CERTIFICATES if certificates is None else certificates), **kwargs)


def with_cert(index, **changes):
    certificates = copy.deepcopy(CERTIFICATES)
    certificates[index].update(changes)
    return certificates


def provided(pki, **changes):
    cert = {
        "name": "partner",
        "domains": ["partner.example.com"],
        "provider": "provided",
        "certificate": pki["leaf"],
        "chain": pki["ca"],
        "private_key": pki["key"],
    }
    cert.update(changes)
    return [cert]


# --- a valid model, normalised -------------------------------------------------------------


def test_valid_input_is_normalised():
    result = model()
    assert result["errors"] == []
    shop, intranet, legacy = result["certificates"]
    assert shop == {
        "name": "shop",
        "domains": ["shop.example.com", "www.shop.example.com"],
        "provider": "acme",
        "key_type": "ecdsa_p256",
        "days": None,
    }
    assert intranet["days"] == 90
    assert legacy["days"] == 365
    assert legacy["key_type"] == "rsa2048"
    assert result["acme"] == {
        "directory": "https://acme-v02.api.letsencrypt.org/directory",
        "ca_bundle": None,
        "email": None,
        "webroot": "/var/lib/groundwork/acme",
        "renew_fraction": 3,
    }


def test_acme_settings(pki):
    result = model(
        acme_directory="https://pebble:14000/dir",
        acme_ca_bundle="garbage\n" + pki["ca"],
        acme_email="ops@example.com",
    )
    assert result["errors"] == []
    assert result["acme"]["directory"] == "https://pebble:14000/dir"
    assert result["acme"]["ca_bundle"] == pki["ca"].strip() + "\n"
    assert result["acme"]["email"] == "ops@example.com"
    assert model(acme_directory="letsencrypt_staging")["acme"]["directory"].startswith("https://acme-staging")


def test_provided_certificate_is_split_and_checked(pki):
    result = model(provided(pki, chain=None, certificate=pki["leaf"] + pki["ca"]))
    assert result["errors"] == []
    cert = result["certificates"][0]
    assert cert["certificate"] == pki["leaf"]
    assert cert["chain"] == pki["ca"]
    assert cert["key_type"] == "ecdsa_p256"
    assert cert["days"] is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com", True),
        ("*.example.com", True),
        ("a-b.c1.example", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("*.*.example.com", False),
        ("-a.example.com", False),
        ("a..example.com", False),
        ("exa mple.com", False),
        ("a" * 64 + ".com", False),
        ("", False),
        (None, False),
    ],
)
def test_is_domain(value, expected):
    assert is_domain(value) is expected


def test_pem_blocks_finds_only_the_asked_kind(pki):
    text = f"junk\n{pki['leaf']}{pki['key']}\n{pki['ca']}"
    assert pem_blocks(text, "CERTIFICATE") == [pki["leaf"], pki["ca"]]
    assert pem_blocks(None, "CERTIFICATE") == []


# --- problems, each named with the certificate ------------------------------------------------

C0 = "tls_certificates[0] (shop): "
C1 = "tls_certificates[1] (intranet): "


@pytest.mark.parametrize(
    ("certificates", "expected"),
    [
        (
            with_cert(0, provider="acmee"),
            C0
            + "provider 'acmee' is not a provider (expected one of acme, internal_ca, selfsigned, provided)",
        ),
        (
            with_cert(0, key_type="ecdsa_p521"),
            C0 + "key_type 'ecdsa_p521' is not a key type (expected one of ecdsa_p256, ecdsa_p384,",
        ),
        (
            with_cert(0, domains=["shop_example.com"]),
            C0 + "domains[0] 'shop_example.com' is not a valid domain",
        ),
        (with_cert(0, domains=["192.0.2.1"]), C0 + "domains[0] '192.0.2.1' is not a valid domain"),
        (with_cert(0, domains=[]), C0 + "domains [] must be a non-empty list"),
        (
            with_cert(0, domains=["a.example.com", "A.example.com"]),
            C0 + "domains[1] 'A.example.com' is listed twice (also domains[0])",
        ),
        (
            with_cert(0, domains=["shop.example.com", "*.shop.example.com"]),
            C0 + "domains[1] '*.shop.example.com' is a wildcard, which HTTP-01 cannot validate",
        ),
        (
            with_cert(1, name="shop"),
            "tls_certificates[1] (shop): name 'shop' is already used by tls_certificates[0]",
        ),
        (with_cert(1, name="Intranet"), "tls_certificates[1] (Intranet): name 'Intranet' is not valid"),
        (with_cert(1, days=0), C1 + "days 0 is out of range"),
        (with_cert(1, days=True), C1 + "days True is out of range"),
        (with_cert(0, days=30), C0 + "days 30 applies only to providers selfsigned and internal_ca"),
        (with_cert(0, certificate="x"), C0 + "certificate applies only to provider 'provided'"),
        (["shop"], "tls_certificates[0]: must be a mapping"),
    ],
)
def test_problems_name_the_certificate(certificates, expected):
    errors = model(certificates)["errors"]
    assert any(e.startswith(expected) for e in errors), errors


P = "tls_certificates[0] (partner): "


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"private_key": None}, P + "private_key is required with provider 'provided'"),
        ({"certificate": None, "private_key": None}, P + "certificate and private_key are required"),
        (
            {"certificate": "not a certificate"},
            P + "certificate 'not a certificate...' is not a PEM certificate",
        ),
        ({"chain": "nothing"}, P + "chain 'nothing...' is not a list of PEM certificates"),
        ("other_key", P + "private_key (not shown) does not match the certificate"),
        (
            {"private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
            P + "private_key (not",
        ),
        (
            {"domains": ["other.example.com"]},
            P + "domains[0] 'other.example.com' is not a name of the provided",
        ),
        ({"key_type": "rsa2048"}, P + "key_type 'rsa2048' does not match the provided key (ecdsa_p256)"),
        ("expired", P + "certificate expired on"),
    ],
)
def test_provided_problems(pki, changes, expected):
    if changes == "other_key":
        changes = {"private_key": pki["other_key"]}
    elif changes == "expired":
        changes = {"certificate": pki["expired"], "domains": ["old.example.com"]}
    errors = model(provided(pki, **changes))["errors"]
    assert any(e.startswith(expected) for e in errors), errors
    for error in errors:
        assert "PRIVATE KEY" not in error
        assert pki["key"].splitlines()[1] not in error


def test_a_chain_that_does_not_link_up_is_refused(pki):
    errors = model(provided(pki, chain=pki["leaf"]))["errors"]
    assert errors == [
        P + "chain certificate 1 (CN=partner.example.com) did not issue the certificate before it"
        " (issued by CN=Test CA)"
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"acme_directory": "http://acme.example/dir"},
            "tls_acme_directory: 'http://acme.example/dir' is not valid",
        ),
        ({"acme_ca_bundle": "no pem"}, "tls_acme_ca_bundle: is not empty but holds no PEM certificate"),
        ({"acme_email": "ops"}, "tls_acme_email: 'ops' is not an e-mail address"),
        ({"acme_webroot": "var/www"}, "tls_acme_webroot: 'var/www' is not a normalised absolute path"),
        ({"renew_fraction": 1}, "tls_renew_fraction: 1 is out of range"),
        ({"internal_ca_name": "My CA"}, "tls_internal_ca_name: 'My CA' is not valid"),
        ({"internal_ca_dir": "ca"}, "tls_internal_ca_dir: 'ca' is not valid"),
        ({"key_group": "Bad Group"}, "tls_key_group: 'Bad Group' is not a valid group name"),
        ({"key_group_members": ["root"]}, "tls_key_group_members[0]: 'root' is not a valid user name"),
    ],
)
def test_setting_problems(kwargs, expected):
    errors = model(**kwargs)["errors"]
    assert any(e.startswith(expected) for e in errors), errors


def test_the_ca_must_not_live_in_the_repository(tmp_path):
    (tmp_path / ".git").mkdir()
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    errors = model(internal_ca_dir=str(tmp_path / "ca"), protected_dirs=[str(playbooks), ""])["errors"]
    assert errors and errors[0].startswith(f"tls_internal_ca_dir: '{tmp_path}/ca' lies inside {tmp_path}")
    assert (
        model(internal_ca_dir=str(tmp_path / "ca"), internal_ca_host="ca1", protected_dirs=[str(playbooks)])[
            "errors"
        ]
        == []
    )
    outside = os.path.join(os.path.dirname(str(tmp_path)), "elsewhere")
    assert model(internal_ca_dir=outside, protected_dirs=[str(playbooks)])["errors"] == []


def test_not_a_list_raises():
    with pytest.raises(AnsibleFilterError):
        tls_model({"name": "shop"})


# --- tls_plan ------------------------------------------------------------------------------------

DAY = 86400
T = NOW.timestamp()
DIR = {"kind": "directory", "owner": "root", "group": "root", "mode": "0755"}
KEY = {
    "kind": "file",
    "owner": "root",
    "group": "groundwork-tls",
    "mode": "0640",
    "type": "ecdsa_p256",
    "matches": True,
}


def found(sans, key_type="ecdsa_p256", issued_days_ago=10, days=90, **changes):
    info = {
        "sans": sans,
        "key_type": key_type,
        "not_before": T - issued_days_ago * DAY,
        "not_after": T - issued_days_ago * DAY + days * DAY,
        "serial": "01",
        "issuer": "CN=groundwork internal CA",
        "subject": "CN=x",
        "self_signed": False,
        "issued_by_ca": True,
        "fingerprint": "ab",
        "sha256": "cd",
    }
    current = {
        "dir": dict(DIR),
        "cert": "CERT\n",
        "chain": "CA\n",
        "fullchain": True,
        "placeholder": False,
        "key": dict(KEY, type=key_type),
        "info": info,
        "acme_issued": False,
    }
    for key, value in changes.items():
        if key in info:
            info[key] = value
        else:
            current[key] = value
    return current


def plan(certificates, current, ca="CA\n", **kwargs):
    host = {"cryptography": True, "certificates": current}
    return tls_plan(model(certificates)["certificates"], host, ca_certificate=ca, now=T, **kwargs)


def entry(result, name):
    return next(c for c in result["certificates"] if c["name"] == name)


INTRANET = [{"name": "intranet", "domains": ["intranet.example.lan"], "provider": "internal_ca"}]
LEGACY = [{"name": "legacy", "domains": ["legacy.example.com"], "provider": "selfsigned"}]
SHOP = [{"name": "shop", "domains": ["shop.example.com", "www.shop.example.com"]}]


def test_a_current_certificate_is_kept():
    result = plan(INTRANET, {"intranet": found(["intranet.example.lan"])})
    assert entry(result, "intranet")["action"] == "keep"
    assert entry(result, "intranet")["cert"] == "CERT\n"
    assert (
        result["issue"]
        == result["dirs"]
        == result["key_attributes"]
        == result["summary"]
        == result["pending"]
        == []
    )


@pytest.mark.parametrize(
    ("current", "ca", "reason"),
    [
        ({}, "CA\n", "no certificate yet"),
        (found(["intranet.example.lan"], info=None), "CA\n", "cert.pem is not a readable certificate"),
        (found(["intranet.example.lan"], key=None), "CA\n", "privkey.pem is missing"),
        (
            found(["intranet.example.lan"], key=dict(KEY, matches=False)),
            "CA\n",
            "privkey.pem does not belong",
        ),
        (found(["other.example.lan"]), "CA\n", "names differ (other.example.lan -> intranet.example.lan)"),
        (
            found(["intranet.example.lan"], key_type="rsa2048"),
            "CA\n",
            "key type differs (rsa2048 -> ecdsa_p256)",
        ),
        (found(["intranet.example.lan"], issued_by_ca=False), "CA\n", "the internal CA did not issue it"),
        (found(["intranet.example.lan"]), None, "the internal CA is new"),
        (found(["intranet.example.lan"], issued_days_ago=61), "CA\n", "expires on"),
        (found(["intranet.example.lan"], issued_days_ago=91), "CA\n", "expired on"),
        (found(["intranet.example.lan"], placeholder=True), "CA\n", "it is an ACME placeholder"),
    ],
)
def test_internal_ca_certificates_are_issued_again_when(current, ca, reason):
    result = plan(INTRANET, {"intranet": current} if current else {}, ca=ca)
    cert = entry(result, "intranet")
    assert cert["action"] == "issue"
    assert any(r.startswith(reason) for r in cert["reasons"]), cert["reasons"]
    assert result["issue"] == [
        {
            "name": "intranet",
            "provider": "internal_ca",
            "domains": ["intranet.example.lan"],
            "key_type": "ecdsa_p256",
            "days": 90,
            "signer": "ca",
            "placeholder": False,
        }
    ]
    assert result["summary"][0].startswith("intranet (internal_ca): issue: ")


def test_the_renewal_window_follows_the_fraction():
    current = {"intranet": found(["intranet.example.lan"], issued_days_ago=50)}
    assert entry(plan(INTRANET, current), "intranet")["action"] == "keep"
    assert entry(plan(INTRANET, current, renew_fraction=2), "intranet")["action"] == "issue"


def test_self_signed_certificates_must_be_self_signed():
    current = {"legacy": found(["legacy.example.com"], self_signed=True)}
    assert entry(plan(LEGACY, current), "legacy")["action"] == "keep"
    current = {"legacy": found(["legacy.example.com"])}
    result = plan(LEGACY, current)
    assert entry(result, "legacy")["reasons"] == ["it is not self-signed (issuer CN=groundwork internal CA)"]
    assert result["issue"][0]["signer"] == "self"
    assert result["issue"][0]["days"] == 365


def test_without_cryptography_on_the_host_every_existing_certificate_is_predicted_as_new():
    host = {
        "cryptography": False,
        "certificates": {"legacy": found(["legacy.example.com"], self_signed=True)},
    }
    result = tls_plan(model(LEGACY)["certificates"], host, now=T)
    assert entry(result, "legacy")["reasons"][0].startswith("the certificate cannot be inspected")


@pytest.mark.parametrize(
    ("current", "action", "pending", "reasons"),
    [
        ({}, "placeholder", True, ["no certificate yet"]),
        (found(["shop.example.com", "www.shop.example.com"], placeholder=True), "acme", True, []),
        (
            found(["shop.example.com", "www.shop.example.com"], placeholder=True, issued_days_ago=70),
            "placeholder",
            True,
            None,
        ),
        (found(["shop.example.com", "www.shop.example.com"]), "mark", True, None),
        (found(["www.shop.example.com", "shop.example.com"], acme_issued=True), "acme", False, []),
        (found(["shop.example.com"], acme_issued=True), "acme", True, None),
        (
            found(["shop.example.com", "www.shop.example.com"], acme_issued=True, key_type="rsa2048"),
            "acme",
            True,
            None,
        ),
        # the renewal program renews an expiring certificate from its timer, not the role
        (
            found(["shop.example.com", "www.shop.example.com"], acme_issued=True, issued_days_ago=80),
            "acme",
            False,
            [],
        ),
    ],
)
def test_acme_certificates(current, action, pending, reasons):
    result = plan(SHOP, {"shop": current} if current else {})
    cert = entry(result, "shop")
    assert (cert["action"], cert["pending"]) == (action, pending)
    if reasons is not None:
        assert cert["reasons"] == reasons
    assert result["pending"] == (["shop"] if pending else [])
    assert [i["placeholder"] for i in result["issue"]] == ([True] if action == "placeholder" else [])
    if action == "placeholder":
        assert result["issue"][0]["days"] == 90


def test_provided_certificates_are_written(pki):
    host = {"cryptography": True, "certificates": {}}
    result = tls_plan(model(provided(pki))["certificates"], host, now=T)
    cert = entry(result, "partner")
    assert cert["action"] == "write"
    assert "private_key" not in cert
    assert result["issue"] == []
    assert result["dirs"] == ["partner"]


def test_directories_and_key_attributes_are_repaired():
    current = found(["intranet.example.lan"], dir=dict(DIR, mode="0700"), key=dict(KEY, mode="0644"))
    result = plan(INTRANET, {"intranet": current})
    assert entry(result, "intranet")["action"] == "keep"
    assert result["dirs"] == ["intranet"]
    assert result["key_attributes"] == ["intranet"]
    assert plan(INTRANET, {"intranet": found(["intranet.example.lan"])}, key_group="ssl-cert")[
        "key_attributes"
    ] == ["intranet"]


def test_plan_input_must_be_a_list_and_an_inspection():
    with pytest.raises(AnsibleFilterError):
        tls_plan({}, {})
