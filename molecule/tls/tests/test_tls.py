# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Certificates of every provider, served by nginx and seen from another container."""

from __future__ import annotations

import time

import pytest
from conftest import FILES

testinfra_hosts = ["ansible://tls-target"]

NAMES = ("shop", "intranet", "legacy", "vendor")


def test_an_acme_certificate_is_served_and_its_chain_verifies_against_pebbles_root(served, pebble_root):
    cert = served(
        "shop.tls.test", f"-CAfile {pebble_root} -verify_return_error -verify_hostname www.shop.tls.test"
    )
    assert "Verify return code: 0 (ok)" in cert["s_client"], cert["s_client"]
    assert "Pebble Intermediate CA" in cert["issuer"]
    assert cert["names"] == ["shop.tls.test", "www.shop.tls.test"]
    assert cert["key"] == "256"


def test_the_acme_certificate_is_no_placeholder_and_its_spec_is_in_place(host):
    assert not host.file("/etc/ssl/groundwork/shop/.placeholder").exists
    spec = host.file("/etc/groundwork/tls/certificates/shop.json")
    assert spec.mode == 0o644
    assert '"directory": "https://tls-pebble:14000/dir"' in spec.content_string
    # only ACME certificates have a renewal spec
    assert host.check_output("ls /etc/groundwork/tls/certificates") == "shop.json"


def test_the_internal_ca_certificate_verifies_from_a_client_that_trusts_the_ca(client, target_ip):
    # the client got the controller's CA through the role (no certificates of its own)
    ca = (FILES.parent / "ca" / "ca.crt").read_text()
    assert client.file("/usr/local/share/ca-certificates/groundwork-molecule.crt").content_string == ca
    assert client.file("/etc/ssl/certs/groundwork-molecule.pem").is_symlink  # update-ca-certificates ran
    assert not client.file("/etc/ssl/groundwork/intranet").exists
    result = client.run(
        f"curl -sS --max-time 10 --resolve intranet.tls.test:443:{target_ip} https://intranet.tls.test/"
    )
    assert result.rc == 0, result.stderr
    assert result.stdout == "intranet"


def test_the_internal_ca_signs_but_never_leaves_the_controller(served, host):
    cert = served("intranet.tls.test")
    assert cert["issuer"] in ("CN = molecule internal CA", "CN=molecule internal CA")
    assert cert["names"] == ["intranet.tls.test"]
    keys = host.run("grep -rl 'PRIVATE KEY' /etc/ssl/groundwork /usr/local/share/ca-certificates").stdout
    assert sorted(keys.split()) == [f"/etc/ssl/groundwork/{name}/privkey.pem" for name in sorted(NAMES)]


def test_a_self_signed_certificate_is_served(served, host):
    cert = served("legacy.tls.test")
    assert cert["issuer"] == cert["subject"]
    assert cert["names"] == ["legacy.tls.test"]
    assert cert["key"] == "2048"  # key_type rsa2048
    assert host.file("/etc/ssl/groundwork/legacy/chain.pem").size == 0
    local = host.check_output("openssl x509 -noout -serial -in /etc/ssl/groundwork/legacy/cert.pem")
    assert local == f"serial={cert['serial']}"


def test_a_provided_certificate_is_served_with_its_chain(served, client):
    client.run(f"cat > /tmp/vendor-ca.pem <<'EOF'\n{(FILES / 'vendor-ca.crt').read_text()}\nEOF")
    cert = served("vendor.tls.test", "-CAfile /tmp/vendor-ca.pem -verify_return_error -showcerts")
    assert "Verify return code: 0 (ok)" in cert["s_client"]
    assert cert["s_client"].count("-----BEGIN CERTIFICATE-----") == 2  # leaf and the vendor CA


@pytest.mark.parametrize("name", NAMES)
def test_files_have_the_contract_modes_and_keys_only_root_and_the_key_group_read(host, name):
    directory = host.file(f"/etc/ssl/groundwork/{name}")
    assert (directory.user, directory.group, directory.mode) == ("root", "root", 0o755)
    for public in ("cert.pem", "chain.pem", "fullchain.pem"):
        file = host.file(f"/etc/ssl/groundwork/{name}/{public}")
        assert (file.user, file.group, file.mode) == ("root", "root", 0o644), public
    key = host.file(f"/etc/ssl/groundwork/{name}/privkey.pem")
    assert (key.user, key.group, key.mode) == ("root", "groundwork-tls", 0o640)
    assert not host.file(f"/etc/ssl/groundwork/{name}/privkey.pem.new").exists
    # the key belongs to the certificate, and fullchain.pem is cert.pem + chain.pem
    assert host.run(
        f'cd /etc/ssl/groundwork/{name} && test "$(openssl pkey -in privkey.pem -pubout)"'
        ' = "$(openssl x509 -in cert.pem -noout -pubkey)" && cat cert.pem chain.pem | cmp - fullchain.pem'
    ).succeeded


def test_a_consuming_service_user_is_in_the_key_group(host):
    assert "groundwork-tls" in host.user("www-data").groups
    assert host.run("sudo -u www-data cat /etc/ssl/groundwork/shop/privkey.pem >/dev/null").succeeded
    assert host.run("sudo -u nobody cat /etc/ssl/groundwork/shop/privkey.pem").rc != 0


def test_only_our_timer_renews(host):
    assert host.service("groundwork-tls-renew.timer").is_enabled
    assert host.service("groundwork-tls-renew.timer").is_running
    assert host.check_output("systemctl is-enabled certbot.timer || true") == "masked"
    assert host.file("/etc/groundwork/tls/hooks/shop.d/nginx").mode == 0o755


def test_forcing_the_renewal_on_the_host_changes_the_served_serial_without_ansible(host, served, pebble_root):
    before = served("shop.tls.test")["serial"]
    host.check_output("echo shop > /etc/groundwork/tls/renew-now")
    started = time.monotonic()
    result = host.run("systemctl start groundwork-tls-renew.service")
    assert result.rc == 0, host.check_output(
        "journalctl -u groundwork-tls-renew.service --no-pager | tail -20"
    )
    assert time.monotonic() - started < 120
    assert not host.file("/etc/groundwork/tls/renew-now").exists
    journal = host.check_output("journalctl -u groundwork-tls-renew.service --no-pager -n 20 --output cat")
    assert "shop renewed" in journal, journal
    # the hook reloaded nginx: the new certificate is served, and still verifies
    after = served("shop.tls.test", f"-CAfile {pebble_root} -verify_return_error")
    assert after["serial"] != before
    assert "Verify return code: 0 (ok)" in after["s_client"]
    assert after["serial"] == host.check_output(
        "openssl x509 -noout -serial -in /etc/ssl/groundwork/shop/cert.pem"
    ).removeprefix("serial=")
