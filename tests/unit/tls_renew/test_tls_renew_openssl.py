# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork-tls-renew: reading certificates with the openssl command."""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest

UTC = datetime.UTC

# Printed by openssl 3.0 (Debian 12) for a pebble 2.4.0 certificate.
PEBBLE_24 = "\n".join(
    [
        "serial=71CB4896DD0B66E7",
        "notBefore=Nov 25 15:16:07 2026 GMT",
        "notAfter=Nov 25 15:16:06 2031 GMT",
        "X509v3 Authority Key Identifier: ",
        "    E1:BA:56:ED:17:B2:11:7D:B7:5F:F7:46:BA:4A:55:00:6E:32:3B:8D",
        "X509v3 Subject Alternative Name: ",
        "    DNS:shop.tls.test, DNS:www.shop.tls.test",
        "",
    ]
)

# Printed by openssl 3.5 (Debian 13) for a pebble 2.6.0 certificate: empty subject,
# critical SAN extension.
PEBBLE_26 = "\n".join(
    [
        "serial=2AEE1F2BA952AEFC",
        "notBefore=Nov  5 15:16:10 2026 GMT",
        "notAfter=Nov  5 15:16:09 2031 GMT",
        "X509v3 Authority Key Identifier: ",
        "    BC:62:92:83:91:DC:29:7D:D8:A4:02:37:02:BF:7B:7D:72:0C:48:76",
        "X509v3 Subject Alternative Name: critical",
        "    DNS:shop.tls.test, DNS:www.shop.tls.test",
        "",
    ]
)

# openssl 1.1 style: "keyid:" prefix and the issuer's name and serial in the AKI.
OLD_STYLE = "\n".join(
    [
        "serial=03",
        "notBefore=Jan  1 00:00:00 2026 GMT",
        "notAfter=Apr  1 00:00:00 2026 GMT",
        "X509v3 Authority Key Identifier: ",
        "    keyid:69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4",
        "    DirName:/CN=Example CA",
        "    serial:01:02",
        "X509v3 Subject Alternative Name: ",
        "    DNS:a.test, IP Address:192.0.2.1",
        "",
    ]
)

SELF_SIGNED_WITHOUT_EXTENSIONS = "\n".join(
    [
        "serial=24FEDC044CB9663EF0E3551CBE1727FB1E55CB4E",
        "notBefore=Nov 25 15:21:29 2026 GMT",
        "notAfter=Dec  5 15:21:29 2026 GMT",
        "No extensions in certificate",
        "",
    ]
)


def test_parse_pebble_24(renew):
    fields = renew.parse_x509_fields(PEBBLE_24)
    assert fields == {
        "serial": "71CB4896DD0B66E7",
        "not_before": datetime.datetime(2026, 11, 25, 15, 16, 7, tzinfo=UTC),
        "not_after": datetime.datetime(2031, 11, 25, 15, 16, 6, tzinfo=UTC),
        "aki": "E1BA56ED17B2117DB75FF746BA4A55006E323B8D",
        "domains": frozenset({"shop.tls.test", "www.shop.tls.test"}),
    }


def test_parse_pebble_26(renew):
    fields = renew.parse_x509_fields(PEBBLE_26)
    assert fields["domains"] == frozenset({"shop.tls.test", "www.shop.tls.test"})
    assert fields["not_before"] == datetime.datetime(2026, 11, 5, 15, 16, 10, tzinfo=UTC)
    assert fields["aki"] == "BC62928391DC297DD8A4023702BF7B7D720C4876"


def test_parse_old_style_aki_and_non_dns_names(renew):
    fields = renew.parse_x509_fields(OLD_STYLE)
    assert fields["aki"] == "69885B6B87464041E1B37B847BA0AE2CDE01C8D4"
    assert fields["domains"] == frozenset({"a.test", "IP Address:192.0.2.1"})


def test_parse_without_extensions(renew):
    fields = renew.parse_x509_fields(SELF_SIGNED_WITHOUT_EXTENSIONS)
    assert fields["aki"] is None
    assert fields["domains"] == frozenset()


def test_parse_incomplete_output(renew):
    with pytest.raises(renew.RenewError, match="did not print not_before, not_after"):
        renew.parse_x509_fields("serial=01\n")


@pytest.mark.parametrize(
    ("text", "key_type"),
    [
        ("Public Key Algorithm: id-ecPublicKey\n Public-Key: (256 bit)\n ASN1 OID: prime256v1\n"
         " NIST CURVE: P-256\n", "ecdsa_p256"),
        ("Public Key Algorithm: id-ecPublicKey\n Public-Key: (384 bit)\n ASN1 OID: secp384r1\n"
         " NIST CURVE: P-384\n", "ecdsa_p384"),
        ("Public Key Algorithm: id-ecPublicKey\n Public-Key: (256 bit)\n ASN1 OID: secp256k1\n",
         "ecdsa_secp256k1"),
        ("Public Key Algorithm: rsaEncryption\n Public-Key: (2048 bit)\n Modulus:\n", "rsa2048"),
        ("Public Key Algorithm: rsaEncryption\n Public-Key: (4096 bit)\n Modulus:\n", "rsa4096"),
        ("Public Key Algorithm: ED25519\n ED25519 Public-Key:\n", "ED25519"),
        ("garbage", "unknown"),
    ],
)  # fmt: skip
def test_parse_key_type(renew, text, key_type):
    assert renew.parse_key_type(text) == key_type


def test_read_certificate_missing_file(renew, tmp_path):
    assert renew.read_certificate(str(tmp_path / "cert.pem"), runner=None) is None


def test_read_certificate_reports_openssl_errors(renew, tmp_path):
    path = tmp_path / "cert.pem"
    path.write_text("garbage\n", encoding="ascii")

    def failing(argv, env=None, timeout=None):
        return subprocess.CompletedProcess(argv, 1, "", f"Could not read certificate from {path}\n")

    with pytest.raises(renew.RenewError, match=r"openssl cannot read .*Could not read certificate"):
        renew.read_certificate(str(path), failing)


def test_read_certificate_runs_openssl_in_the_c_locale(renew, tmp_path):
    path = tmp_path / "cert.pem"
    path.write_text("x\n", encoding="ascii")
    calls = []

    def runner(argv, env=None, timeout=None):
        calls.append((argv, env))
        return subprocess.CompletedProcess(
            argv, 0, "Public Key Algorithm: x" if "-text" in argv else PEBBLE_24, ""
        )

    info = renew.read_certificate(str(path), runner)
    assert info.serial == "71CB4896DD0B66E7"
    assert info.lifetime == datetime.timedelta(days=1826) - datetime.timedelta(seconds=1)
    assert all(env["LC_ALL"] == "C" for _argv, env in calls)
    assert calls[0][0][:3] == ["/usr/bin/openssl", "x509", "-in"]


OPENSSL = shutil.which("openssl")


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")
@pytest.mark.parametrize(
    ("key_args", "key_type"),
    [
        (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "ecdsa_p256"),
        (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], "ecdsa_p384"),
        (["-newkey", "rsa:2048"], "rsa2048"),
    ],
)
def test_read_certificate_with_the_real_openssl(renew, tmp_path, monkeypatch, key_args, key_type):
    cert = tmp_path / "cert.pem"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-nodes", *key_args, "-keyout", str(tmp_path / "key.pem"),
         "-out", str(cert), "-days", "90", "-subj", "/CN=shop.example.com", "-set_serial", "0x87654321",
         "-addext", "subjectAltName=DNS:shop.example.com,DNS:www.shop.example.com"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setattr(renew, "OPENSSL", OPENSSL)
    info = renew.read_certificate(str(cert))
    assert info.domains == frozenset({"shop.example.com", "www.shop.example.com"})
    assert info.key_type == key_type
    assert info.serial == "87654321"
    assert info.lifetime == datetime.timedelta(days=90)
    assert info.aki is not None
    assert len(bytes.fromhex(info.aki)) == 20
