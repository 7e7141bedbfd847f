# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changed input: refused before anything changes, or re-issued; check mode; secrets."""

from __future__ import annotations

import pytest
from conftest import FILES, recap_changed, run_playbook, snapshot, target_variables, testlib

testinfra_hosts = ["ansible://tls-target"]

SHOP, INTRANET, LEGACY, VENDOR = range(4)


def with_cert(index, **changes):
    variables = target_variables()
    variables["tls_certificates"][index].update(changes)
    return variables


def with_site_names(variables, index, names):
    variables["nginx_sites"][index]["server_names"] = names
    return variables


CASES = {
    "unknown provider": (
        with_cert(INTRANET, provider="private_ca"),
        "tls_certificates[1] (intranet): provider 'private_ca' is not a provider"
        " (expected one of acme, internal_ca, selfsigned, provided)",
    ),
    "malformed domain name": (
        with_cert(LEGACY, domains=["legacy_tls.test"]),
        "tls_certificates[2] (legacy): domains[0] 'legacy_tls.test' is not a valid domain name",
    ),
    "duplicate domain name": (
        with_cert(SHOP, domains=["shop.tls.test", "www.shop.tls.test", "Shop.tls.test"]),
        "tls_certificates[0] (shop): domains[2] 'Shop.tls.test' is listed twice (also domains[0])",
    ),
    "wildcard over HTTP-01": (
        with_cert(SHOP, domains=["shop.tls.test", "*.shop.tls.test"]),
        "tls_certificates[0] (shop): domains[1] '*.shop.tls.test' is a wildcard,"
        " which HTTP-01 cannot validate",
    ),
    "provided key that does not match its certificate": (
        with_cert(VENDOR, private_key=(FILES / "vendor-ca.key").read_text()),
        "tls_certificates[3] (vendor): private_key (not shown) does not match the certificate",
    ),
    "provided certificate without its key": (
        with_cert(VENDOR, private_key=None),
        "tls_certificates[3] (vendor): private_key is required with provider 'provided'",
    ),
    "duplicate certificate name": (
        with_cert(LEGACY, name="intranet"),
        "tls_certificates[2] (intranet): name 'intranet' is already used by tls_certificates[1] (intranet)",
    ),
    "unknown key type": (
        with_cert(LEGACY, key_type="ed25519"),
        "tls_certificates[2] (legacy): key_type 'ed25519' is not a key type",
    ),
    "typo in a key (argument spec)": (with_cert(LEGACY, domain=["legacy.tls.test"]), "domain"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_before_anything_changes_naming_the_certificate(host, tmp_path, case):
    variables, expected = CASES[case]
    output = testlib.assert_refused_unchanged(
        lambda: run_playbook(variables, tmp_path), lambda: snapshot(host), expected
    )
    # the key of the provided certificate is never shown, not even when it is wrong
    for key in ("vendor.key", "vendor-ca.key"):
        assert (FILES / key).read_text().splitlines()[1] not in output


def test_check_mode_predicts_a_reissue_and_writes_nothing(host, tmp_path):
    variables = with_cert(INTRANET, domains=["intranet.tls.test", "new.intranet.tls.test"])
    before = snapshot(host)
    rc, output = run_playbook(variables, tmp_path, "--check", "--diff")
    assert rc == 0, output
    assert snapshot(host) == before
    flat = " ".join(output.split())
    assert (
        "intranet (internal_ca): issue: names differ"
        " (intranet.tls.test -> intranet.tls.test, new.intranet.tls.test)" in flat
    )
    assert "+++ after: /etc/ssl/groundwork/intranet/cert.pem" in output
    assert recap_changed(output) > 0


def test_changing_the_names_or_key_type_reissues(host, served, pebble_root, tmp_path):
    before = {name: served(name) for name in ("shop.tls.test", "intranet.tls.test", "legacy.tls.test")}
    variables = target_variables()
    variables["tls_certificates"][SHOP]["domains"].append("new.shop.tls.test")
    variables["tls_certificates"][INTRANET]["domains"].append("new.intranet.tls.test")
    variables["tls_certificates"][LEGACY]["key_type"] = "ecdsa_p384"
    # a new ACME name can only be validated once nginx serves it (later in the same play)
    with_site_names(variables, SHOP, ["shop.tls.test", "www.shop.tls.test", "new.shop.tls.test"])
    with_site_names(variables, INTRANET, ["intranet.tls.test", "new.intranet.tls.test"])
    try:
        rc, output = run_playbook(variables, tmp_path)
        assert rc == 0, output
        shop = served("new.shop.tls.test", f"-CAfile {pebble_root} -verify_return_error")
        assert shop["names"] == ["new.shop.tls.test", "shop.tls.test", "www.shop.tls.test"]
        assert "Verify return code: 0 (ok)" in shop["s_client"]
        intranet = served("new.intranet.tls.test")
        assert intranet["names"] == ["intranet.tls.test", "new.intranet.tls.test"]
        legacy = served("legacy.tls.test")
        assert legacy["key"] == "384"
        for name, cert in (
            ("shop.tls.test", shop),
            ("intranet.tls.test", intranet),
            ("legacy.tls.test", legacy),
        ):
            assert cert["serial"] != before[name]["serial"], name
        # nothing left to do: a second run changes nothing
        rc, output = run_playbook(variables, tmp_path)
        assert rc == 0, output
        assert recap_changed(output) == 0, output
    finally:
        rc, output = run_playbook(target_variables(), tmp_path)
    assert rc == 0, output
    assert served("shop.tls.test")["names"] == ["shop.tls.test", "www.shop.tls.test"]
    assert served("legacy.tls.test")["key"] == "2048"


def test_a_provided_key_is_written_but_never_shown(host, tmp_path):
    key = (FILES / "vendor.key").read_text()
    host.check_output("rm /etc/ssl/groundwork/vendor/privkey.pem")
    rc, output = run_playbook(target_variables(), tmp_path, "--diff", "-v")
    assert rc == 0, output
    assert "+++ after: /etc/ssl/groundwork/vendor/privkey.pem" in output
    assert "[secret content hidden]" in output
    for line in key.splitlines()[1:-1]:
        assert line not in output
    assert host.check_output("cat /etc/ssl/groundwork/vendor/privkey.pem").strip() == key.strip()
