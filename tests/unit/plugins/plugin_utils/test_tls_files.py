# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The files of the tls role: one service_config transaction per host."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.server.plugins.plugin_utils._tls_files import tls_files

CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
OPTIONS = {
    "dir": "/etc/ssl/groundwork",
    "spec_dir": "/etc/groundwork/tls/certificates",
    "acme_ca_file": "/etc/groundwork/tls/acme-ca.pem",
    "trust_file": "/usr/local/share/ca-certificates/groundwork-demo.crt",
    "program": "/usr/local/sbin/groundwork-tls-renew",
    "unit_dir": "/etc/systemd/system",
    "units": ["groundwork-tls-renew.service", "groundwork-tls-renew.timer"],
    "ca": CA,
    "trust": True,
    "has_acme": False,
    "key_group": "groundwork-tls",
    "key_group_now": "groundwork-tls",
    "program_text": None,
    "unit_texts": {},
}
ACME = {
    "directory": "https://acme.example/dir",
    "ca_bundle": None,
    "email": None,
    "webroot": "/var/lib/acme",
    "renew_fraction": 3,
}


def entry(name, provider, action, **extra):
    return {
        "name": name,
        "provider": provider,
        "action": action,
        "reasons": extra.pop("reasons", []),
        "cert": extra.pop("cert", None),
        "chain": None,
        **extra,
    }


def by_path(files):
    return {f["path"]: f for f in files}


def test_a_kept_internal_ca_certificate_and_the_trust_store():
    plan = {"certificates": [entry("web", "internal_ca", "keep", cert="CERT\n")]}
    model = {"certificates": [{"name": "web", "provider": "internal_ca"}], "acme": ACME}
    files = by_path(tls_files(plan, model=model, host={"trust_files": []}, issued={}, options=OPTIONS))
    assert files["/etc/ssl/groundwork/web/cert.pem"] == {
        "path": "/etc/ssl/groundwork/web/cert.pem",
        "content": "CERT\n",
    }
    assert files["/etc/ssl/groundwork/web/chain.pem"]["content"] == CA
    assert files["/etc/ssl/groundwork/web/fullchain.pem"]["content"] == "CERT\n" + CA
    assert files[OPTIONS["trust_file"]]["content"] == CA
    # no ACME certificate: its CA bundle, the renewal program and units are absent
    for path in (
        OPTIONS["acme_ca_file"],
        OPTIONS["program"],
        "/etc/systemd/system/groundwork-tls-renew.timer",
    ):
        assert files[path]["state"] == "absent"
    assert files[OPTIONS["program"]]["content"] is None


def test_issued_certificates_placeholders_and_predictions():
    plan = {
        "certificates": [
            entry("new", "selfsigned", "issue", reasons=["no certificate yet"]),
            entry("shop", "acme", "placeholder", reasons=["not issued yet"]),
            entry("old", "acme", "mark"),
        ]
    }
    model = {
        "certificates": [
            {"name": "new", "provider": "selfsigned"},
            {"name": "shop", "provider": "acme", "domains": ["shop.example"], "key_type": "ecdsa_p256"},
            {"name": "old", "provider": "acme", "domains": ["old.example"], "key_type": "rsa2048"},
        ],
        "acme": {**ACME, "ca_bundle": "BUNDLE\n", "email": "ops@example.org"},
    }
    options = {
        **OPTIONS,
        "has_acme": True,
        "program_text": "#!/usr/bin/python3\n",
        "unit_texts": {u: f"[Unit] {u}\n" for u in OPTIONS["units"]},
    }
    files = by_path(tls_files(plan, model=model, host={}, issued={"new": "ISSUED\n"}, options=options))
    assert files["/etc/ssl/groundwork/new/cert.pem"]["content"] == "ISSUED\n"
    assert files["/etc/ssl/groundwork/new/chain.pem"]["content"] == ""
    # check mode: what a real run would issue is named
    assert files["/etc/ssl/groundwork/shop/cert.pem"]["content"] == "(a new certificate: not issued yet)\n"
    assert "temporary self-signed" in files["/etc/ssl/groundwork/shop/.placeholder"]["content"]
    assert "Not issued through ACME" in files["/etc/ssl/groundwork/old/.placeholder"]["content"]
    assert "/etc/ssl/groundwork/old/cert.pem" not in files
    spec = files["/etc/groundwork/tls/certificates/shop.json"]["content"]
    assert spec.endswith("}\n") and '\n  "ca_bundle": "/etc/groundwork/tls/acme-ca.pem",' in spec
    assert json.loads(spec) == {
        "name": "shop",
        "domains": ["shop.example"],
        "key_type": "ecdsa_p256",
        "directory": ACME["directory"],
        "ca_bundle": "/etc/groundwork/tls/acme-ca.pem",
        "email": "ops@example.org",
        "webroot": "/var/lib/acme",
        "renew_fraction": 3,
        "key_group": "groundwork-tls",
    }
    assert files[options["acme_ca_file"]] == {
        "path": options["acme_ca_file"],
        "content": "BUNDLE\n",
        "state": "present",
    }
    assert files[options["program"]] == {
        "path": options["program"],
        "mode": "0755",
        "state": "present",
        "content": "#!/usr/bin/python3\n",
    }
    assert (
        files["/etc/systemd/system/groundwork-tls-renew.timer"]["content"]
        == "[Unit] groundwork-tls-renew.timer\n"
    )


def test_a_provided_certificate_brings_its_key_as_a_secret():
    plan = {"certificates": [entry("ext", "provided", "write")]}
    model = {
        "certificates": [
            {
                "name": "ext",
                "provider": "provided",
                "certificate": "C\n",
                "chain": "I\n",
                "private_key": "KEY\n",
            }
        ],
        "acme": ACME,
    }
    files = by_path(
        tls_files(plan, model=model, host={}, issued={}, options={**OPTIONS, "key_group_now": "root"})
    )
    assert files["/etc/ssl/groundwork/ext/privkey.pem"] == {
        "path": "/etc/ssl/groundwork/ext/privkey.pem",
        "content": "KEY\n",
        "secret": True,
        "group": "root",
        "mode": "0640",
    }
    assert files["/etc/ssl/groundwork/ext/fullchain.pem"]["content"] == "C\nI\n"


def test_other_trust_files_of_the_role_go_and_without_a_ca_a_stand_in_is_shown():
    host = {"trust_files": [OPTIONS["trust_file"], "/usr/local/share/ca-certificates/groundwork-old.crt"]}
    model = {"certificates": [], "acme": ACME}
    files = by_path(
        tls_files({"certificates": []}, model=model, host=host, issued={}, options={**OPTIONS, "ca": None})
    )
    assert files["/usr/local/share/ca-certificates/groundwork-old.crt"]["state"] == "absent"
    assert "created by a real run" in files[OPTIONS["trust_file"]]["content"]
    untrusted = by_path(
        tls_files(
            {"certificates": []}, model=model, host=host, issued={}, options={**OPTIONS, "trust": False}
        )
    )
    assert untrusted[OPTIONS["trust_file"]] == {"path": OPTIONS["trust_file"], "state": "absent"}


def test_incomplete_options_are_an_error():
    with pytest.raises(AnsibleFilterError, match="options lack program_text"):
        tls_files(
            {"certificates": []},
            model={"certificates": [], "acme": ACME},
            options={k: v for k, v in OPTIONS.items() if k != "program_text"},
        )
