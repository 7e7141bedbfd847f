# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork-tls-renew: the certbot command line, its environment and its lineage."""

from __future__ import annotations

import subprocess

import pytest
from conftest import DIRECTORY, NOW, fake_pem

COMMON_HEAD = [
    "/usr/bin/certbot", "certonly", "--non-interactive", "--agree-tos", "--webroot",
    "-w", "/var/lib/groundwork/acme", "--cert-name", "shop",
    "-d", "shop.example.com", "-d", "www.shop.example.com",
]  # fmt: skip
COMMON_TAIL = [
    "--config-dir", "/etc/groundwork/tls/certbot",
    "--work-dir", "/var/lib/groundwork/tls/certbot",
    "--logs-dir", "/var/log/groundwork-tls",
    "--no-random-sleep-on-renew",
]  # fmt: skip


def make_spec(renew, **overrides):
    data = {
        "name": "shop",
        "domains": ["shop.example.com", "www.shop.example.com"],
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


@pytest.mark.parametrize(
    ("key_type", "key_args"),
    [
        ("ecdsa_p256", ["--key-type", "ecdsa", "--elliptic-curve", "secp256r1"]),
        ("ecdsa_p384", ["--key-type", "ecdsa", "--elliptic-curve", "secp384r1"]),
        ("rsa2048", ["--key-type", "rsa", "--rsa-key-size", "2048"]),
        ("rsa3072", ["--key-type", "rsa", "--rsa-key-size", "3072"]),
        ("rsa4096", ["--key-type", "rsa", "--rsa-key-size", "4096"]),
    ],
)
def test_argv_per_key_type(renew, key_type, key_args):
    argv = renew.certbot_argv(make_spec(renew, key_type=key_type), renew.Paths())
    assert argv == [
        *COMMON_HEAD,
        *key_args,
        "--server",
        DIRECTORY,
        "--register-unsafely-without-email",
        *COMMON_TAIL,
    ]


def test_argv_with_email(renew):
    argv = renew.certbot_argv(make_spec(renew, email="ops@example.com"), renew.Paths())
    assert argv[argv.index("--server") + 2 :][:3] == ["--email", "ops@example.com", "--no-eff-email"]
    assert "--register-unsafely-without-email" not in argv


def test_argv_force_renewal(renew):
    assert renew.certbot_argv(make_spec(renew), renew.Paths(), force_renewal=True)[-1] == "--force-renewal"
    assert "--force-renewal" not in renew.certbot_argv(make_spec(renew), renew.Paths())


def test_env_with_ca_bundle(renew):
    env = renew.certbot_env(make_spec(renew, ca_bundle="/etc/groundwork/tls/acme-ca.pem"), {"PATH": "/bin"})
    assert env == {"PATH": "/bin", "REQUESTS_CA_BUNDLE": "/etc/groundwork/tls/acme-ca.pem"}


def test_env_without_ca_bundle(renew):
    env = renew.certbot_env(make_spec(renew), {"REQUESTS_CA_BUNDLE": "/stale.pem"})
    assert env == {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "REQUESTS_CA_BUNDLE": "/stale.pem"}
    assert "REQUESTS_CA_BUNDLE" not in renew.certbot_env(make_spec(renew), {})


def test_run_certbot_passes_argv_env_and_timeout(renew):
    calls = []

    def runner(argv, env=None, timeout=None):
        calls.append((argv, env, timeout))
        return subprocess.CompletedProcess(argv, 0, "", "")

    spec = make_spec(renew, ca_bundle="/ca.pem")
    renew.run_certbot(spec, renew.Paths(), runner, force_renewal=True, timeout=42)
    argv, env, timeout = calls[0]
    assert argv == renew.certbot_argv(spec, renew.Paths(), force_renewal=True)
    assert env["REQUESTS_CA_BUNDLE"] == "/ca.pem"
    assert timeout == 42


def test_run_certbot_failure_keeps_the_message(renew):
    stderr = (
        "Saving debug log to /var/log/groundwork-tls/letsencrypt.log\n"
        "An unexpected error occurred:\n"
        "Account https://pebble:14000/my-account/1 not found.\n"
        "Ask for help or search for solutions at https://community.letsencrypt.org. See the logfile ...\n"
    )

    def runner(argv, env=None, timeout=None):
        return subprocess.CompletedProcess(argv, 1, "", stderr)

    with pytest.raises(renew.RenewError) as error:
        renew.run_certbot(make_spec(renew), renew.Paths(), runner, force_renewal=False)
    assert str(error.value) == (
        "certbot failed (exit 1): An unexpected error occurred: | "
        "Account https://pebble:14000/my-account/1 not found."
    )


def test_lineage_server(renew, host):
    assert renew.lineage_server(host.paths, "shop") is None
    renewal = host.root / "etc/groundwork/tls/certbot/renewal"
    renewal.mkdir(parents=True)
    (renewal / "shop.conf").write_text(
        "archive_dir = /x\n[renewalparams]\naccount = 1\nserver = https://acme.test/dir\n", encoding="utf-8"
    )
    assert renew.lineage_server(host.paths, "shop") == "https://acme.test/dir"


def test_lineage_problem(renew, host):
    spec = host.write_spec()
    host.write_deployed()
    deployed = str(host.cert_dir() / "cert.pem")
    assert renew.lineage_problem(spec, host.paths, deployed) == "the ACME client holds no certificate for it"
    host.runner(renew.certbot_argv(spec, host.paths))  # the fake certbot writes a lineage
    assert renew.lineage_problem(spec, host.paths, deployed) == (
        "the deployed certificate is not the ACME client's current one"
    )
    (host.cert_dir() / "cert.pem").write_bytes(
        (host.root / "etc/groundwork/tls/certbot/live/shop/cert.pem").read_bytes()
    )
    assert renew.lineage_problem(spec, host.paths, deployed) is None
    moved = host.write_spec(directory="https://other.test/dir")
    assert (
        renew.lineage_problem(moved, host.paths, deployed)
        == f"ACME directory changed (issued by {DIRECTORY})"
    )


def test_usable_lineage(renew, host):
    spec = host.write_spec()
    assert renew.usable_lineage(spec, host.paths, NOW, host.runner) is None
    host.runner(renew.certbot_argv(spec, host.paths))
    assert renew.usable_lineage(spec, host.paths, NOW, host.runner).serial == "101"
    assert renew.usable_lineage(host.write_spec(key_type="rsa2048"), host.paths, NOW, host.runner) is None
    assert renew.usable_lineage(host.write_spec(domains=["a.test"]), host.paths, NOW, host.runner) is None
    other = host.write_spec(directory="https://other.test/dir")
    assert renew.usable_lineage(other, host.paths, NOW, host.runner) is None
    live = host.root / "etc/groundwork/tls/certbot/live/shop/cert.pem"
    live.write_text(fake_pem(spec.domains, not_before=NOW.replace(year=2025), days=90), encoding="utf-8")
    assert renew.usable_lineage(spec, host.paths, NOW, host.runner) is None  # due
