# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The probe of groundwork.server.tls (_probes/tls.py), run by the shared probe library as the
host runs it, on certificates made here."""

from __future__ import annotations

import datetime
import grp
import os
import pwd

import pytest
from ansible_collections.groundwork.server.tests.unit.probe_runner import run_role_probe
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(tz=datetime.UTC)


def _name(text):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _certificate(subject, issuer, public_key, signing_key, names=()):
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=30))
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    return builder.sign(signing_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def _key(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def pki():
    ca_key = ec.generate_private_key(ec.SECP384R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    self_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "ca": _certificate("demo internal CA", "demo internal CA", ca_key.public_key(), ca_key),
        "leaf": _certificate("web", "demo internal CA", leaf_key.public_key(), ca_key, ["Web.example.lan"]),
        "leaf_key": _key(leaf_key),
        "self": _certificate("legacy", "legacy", self_key.public_key(), self_key, ["legacy.example.com"]),
        "self_key": _key(self_key),
    }


def run(args):
    return run_role_probe("tls", args)


def args(tmp_path, names, ca=None, members=()):
    return {
        "dir": str(tmp_path / "certs"),
        "names": names,
        "ca": ca,
        "certbot_live": str(tmp_path / "live"),
        "placeholder": ".placeholder",
        "trust_dir": str(tmp_path / "trust"),
        "trust_prefix": "groundwork-",
        "group": grp.getgrgid(os.getgid()).gr_name,
        "members": list(members),
        "hook_dir": str(tmp_path / "hooks"),
    }


def write(directory, name, text, mode=0o644):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    path.chmod(mode)
    return path


def test_certificates_keys_and_their_issuers(tmp_path, pki):
    web = tmp_path / "certs" / "web"
    write(web, "cert.pem", pki["leaf"])
    write(web, "chain.pem", pki["ca"])
    write(web, "privkey.pem", pki["leaf_key"], 0o640)
    legacy = tmp_path / "certs" / "legacy"
    write(legacy, "cert.pem", pki["self"])
    write(legacy, "privkey.pem", pki["leaf_key"], 0o600)  # not its key
    write(legacy, ".placeholder", "x")
    write(tmp_path / "live" / "legacy", "cert.pem", pki["self"] + "\n")
    found = run(args(tmp_path, ["web", "legacy", "none"], ca=pki["ca"]))
    assert found["cryptography"] is True
    web_found = found["certificates"]["web"]
    assert web_found["dir"]["kind"] == "directory"
    assert web_found["info"]["sans"] == ["web.example.lan"]
    assert web_found["info"]["key_type"] == "ecdsa_p256"
    assert web_found["info"]["issued_by_ca"] is True and web_found["info"]["self_signed"] is False
    assert web_found["key"]["matches"] is True and web_found["key"]["mode"] == "0640"
    assert web_found["chain"] == pki["ca"] and web_found["fullchain"] is False
    assert web_found["placeholder"] is False and web_found["acme_issued"] is False
    legacy_found = found["certificates"]["legacy"]
    assert legacy_found["info"]["self_signed"] is True and legacy_found["info"]["issued_by_ca"] is False
    assert legacy_found["info"]["key_type"] == "rsa2048"
    assert legacy_found["key"]["matches"] is False and legacy_found["key"]["type"] == "ecdsa_p256"
    assert legacy_found["placeholder"] is True and legacy_found["acme_issued"] is True
    assert found["certificates"]["none"] == {
        "dir": None,
        "cert": None,
        "chain": None,
        "fullchain": False,
        "placeholder": False,
        "key": None,
        "info": None,
        "acme_issued": False,
    }
    # nothing secret comes back
    assert "PRIVATE KEY" not in str(found)


def test_key_group_members_and_trust_files(tmp_path):
    write(tmp_path / "trust", "groundwork-demo.crt", "CA\n")
    write(tmp_path / "trust", "other.crt", "CA\n")
    me = pwd.getpwuid(os.getuid()).pw_name
    found = run(args(tmp_path, [], members=[me, "no-such-user-x"]))
    assert found["group"]["exists"] is True
    assert found["users"] == {me: True, "no-such-user-x": False}
    trust = str(tmp_path / "trust" / "groundwork-demo.crt")
    assert list(found["trust_files"]) == [trust]
    assert found["trust_files"][trust]["state"] == "file"


def test_a_missing_group(tmp_path):
    found = run({**args(tmp_path, []), "group": "no-such-group-x"})
    assert found["group"] == {"exists": False, "members": []}
    assert found["trust_files"] == {}


def test_the_certificates_with_registered_hooks(tmp_path):
    write(tmp_path / "hooks" / "web.d", "nginx", "#!/bin/sh\n", 0o755)
    (tmp_path / "hooks" / "db.d").mkdir(parents=True)  # a directory without hooks
    found = run(args(tmp_path, ["web", "db", "none"]))
    assert found["hooked"] == ["web"]
