# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork.server.internal_ca in a temporary directory: the CA it makes, the files' modes,
that an existing CA is never touched, check mode, and the protocol that lets concurrent runs
agree on one CA (the end-to-end use is molecule/tls and every stack scenario)."""

from __future__ import annotations

import datetime
import os
import stat
import threading
import time

import pytest
from ansible_collections.groundwork.server.plugins.modules import internal_ca as module
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

PARAMS = {"common_name": "groundwork test CA", "days": 30}


def params(tmp_path, **changes):
    return {**PARAMS, "path": str(tmp_path / "ca"), **changes}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_ca_is_a_p384_key_and_a_self_signed_ca_certificate_for_servers(tmp_path):
    result = module.run(params(tmp_path), check_mode=False)
    assert result["changed"] and result["state"] == "created"
    directory = tmp_path / "ca"
    assert result["certificate"] == (directory / "ca.crt").read_text()
    key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate((directory / "ca.crt").read_bytes())
    assert isinstance(key.curve, ec.SECP384R1)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert cert.subject == cert.issuer
    assert cert.subject.rfc4514_string() == "CN=groundwork test CA"
    cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA384()))
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature and not usage.value.key_encipherment
    assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value == (
        x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    )
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime == datetime.timedelta(days=30)
    assert abs(cert.not_valid_before_utc - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(
        minutes=1
    )


def test_the_key_is_readable_by_its_owner_only_and_no_candidate_is_left(tmp_path):
    module.run(params(tmp_path), check_mode=False)
    directory = tmp_path / "ca"
    assert (mode(directory), mode(directory / "ca.key"), mode(directory / "ca.crt")) == (0o700, 0o600, 0o644)
    assert sorted(os.listdir(directory)) == ["ca.crt", "ca.key"]


def test_an_existing_ca_is_never_touched(tmp_path):
    module.run(params(tmp_path), check_mode=False)
    directory = tmp_path / "ca"
    before = {name: (directory / name).read_bytes() for name in ("ca.key", "ca.crt")}
    for check_mode in (False, True):
        result = module.run(params(tmp_path, common_name="another", days=1), check_mode=check_mode)
        assert not result["changed"] and result["state"] == "present"
        assert result["certificate"] == before["ca.crt"].decode()
    assert {name: (directory / name).read_bytes() for name in before} == before


def test_check_mode_reports_the_creation_and_writes_nothing(tmp_path):
    result = module.run(params(tmp_path), check_mode=True)
    assert result["changed"] and "would create" in result["msg"] and "certificate" not in result
    assert not (tmp_path / "ca").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"common_name": ""}, "must have 1 to 64 printable characters"),
        ({"common_name": "x" * 65}, "must have 1 to 64 printable characters"),
        ({"common_name": "ok\nCN=forged"}, "must have 1 to 64 printable characters"),
        ({"common_name": "nul\x00"}, "must have 1 to 64 printable characters"),
        ({"days": 0}, "days 0: must be at least 1 and at most 36500"),
        ({"days": -5}, "days -5: must be at least 1 and at most 36500"),
        ({"days": 36501}, "days 36501: must be at least 1 and at most 36500"),
        ({"days": 10**12}, "must be at least 1 and at most 36500"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(tmp_path, changes, message):
    for check_mode in (True, False):
        with pytest.raises(module.CAError, match=message):
            module.run(params(tmp_path, **changes), check_mode=check_mode)
    assert not (tmp_path / "ca").exists()


def test_a_run_that_finds_another_runs_key_keeps_that_runs_certificate(tmp_path):
    directory = tmp_path / "ca"
    directory.mkdir()
    (directory / "ca.key").write_bytes(b"the other run's key")

    def other_run_finishes():
        time.sleep(0.3)
        (directory / "ca.crt").write_bytes(b"the other run's certificate")

    threading.Thread(target=other_run_finishes).start()
    result = module.run(params(tmp_path), check_mode=False, wait=5)
    assert not result["changed"] and result["state"] == "kept"
    assert result["certificate"] == "the other run's certificate"
    assert (directory / "ca.key").read_bytes() == b"the other run's key"
    assert (directory / "ca.crt").read_bytes() == b"the other run's certificate"
    assert sorted(os.listdir(directory)) == ["ca.crt", "ca.key"]


def test_a_key_left_without_a_certificate_is_replaced(tmp_path):
    directory = tmp_path / "ca"
    directory.mkdir()
    (directory / "ca.key").write_bytes(b"a key a killed run left")
    result = module.run(params(tmp_path), check_mode=False, wait=0.2)
    assert result["changed"] and result["state"] == "replaced"
    key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate((directory / "ca.crt").read_bytes())
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert sorted(os.listdir(directory)) == ["ca.crt", "ca.key"]


def test_runs_at_the_same_time_agree_on_one_ca(tmp_path):
    results = []

    def one_run():
        results.append(module.run(params(tmp_path), check_mode=False, wait=10))

    runs = [threading.Thread(target=one_run, name=f"run {number}") for number in range(6)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    states = [result["state"] for result in results]
    assert states.count("created") == 1
    assert set(states) <= {"created", "kept", "present"} and len(states) == len(runs)
    directory = tmp_path / "ca"
    key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate((directory / "ca.crt").read_bytes())
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert sorted(os.listdir(directory)) == ["ca.crt", "ca.key"]
