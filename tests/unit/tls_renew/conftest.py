# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the unit tests of roles/tls/files/groundwork-tls-renew.

The program is a script without a .py suffix; it is loaded from its path. Its side
effects are replaced: openssl and certbot by FakeRunner (certificates are small JSON
documents the fake openssl prints in openssl's format), the web server by a probe that
reads the token files, the ACME directory by a dictionary of URLs.
"""

from __future__ import annotations

import datetime
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = Path(__file__).resolve().parents[3] / "roles" / "tls" / "files" / "groundwork-tls-renew"
NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC)
DIRECTORY = "https://acme.test/dir"
DAY = datetime.timedelta(days=1)


def load_program():
    loader = importlib.machinery.SourceFileLoader("groundwork_tls_renew", str(PROGRAM))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def renew():
    """The program, imported from its path."""
    return load_program()


def openssl_date(moment):
    return moment.strftime("%b %e %H:%M:%S %Y GMT")


def fake_pem(domains, key_type="ecdsa_p256", serial="0A1B2C", not_before=NOW - DAY, days=90, aki="AB" * 20):
    """The content of a fake certificate file that FakeRunner's openssl understands."""
    return json.dumps(
        {
            "domains": list(domains),
            "key_type": key_type,
            "serial": serial,
            "not_before": not_before.isoformat(),
            "not_after": (not_before + datetime.timedelta(days=days)).isoformat(),
            "aki": aki,
        }
    )


KEY_TEXT = {
    "ecdsa_p256": "Public Key Algorithm: id-ecPublicKey\n    Public-Key: (256 bit)\n"
    "    ASN1 OID: prime256v1\n    NIST CURVE: P-256\n",
    "ecdsa_p384": "Public Key Algorithm: id-ecPublicKey\n    Public-Key: (384 bit)\n    ASN1 OID: secp384r1\n"
    "    NIST CURVE: P-384\n",
    "rsa2048": "Public Key Algorithm: rsaEncryption\n    Public-Key: (2048 bit)\n    Modulus:\n",
    "rsa3072": "Public Key Algorithm: rsaEncryption\n    Public-Key: (3072 bit)\n    Modulus:\n",
    "rsa4096": "Public Key Algorithm: rsaEncryption\n    Public-Key: (4096 bit)\n    Modulus:\n",
}


class FakeRunner:
    """Records every command; answers openssl from fake certificate files, certbot by
    writing a new fake lineage (or failing), hooks by running them for real."""

    def __init__(self, paths, openssl, certbot):
        self.paths = paths
        self.openssl = openssl
        self.certbot = certbot
        self.calls = []
        self.certbot_rc = 0
        self.certbot_stderr = ""
        self.serial = 0x100
        self.issue_domains = None  # what the fake CA puts into the certificate
        self.issue_key_type = None

    def certbot_calls(self):
        return [call for call in self.calls if call[0][0] == self.certbot]

    def __call__(self, argv, env=None, timeout=None):
        self.calls.append((list(argv), env, timeout))
        if argv[0] == self.openssl:
            return self.run_openssl(argv)
        if argv[0] == self.certbot:
            return self.run_certbot(argv)
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False)

    def run_openssl(self, argv):
        path = argv[argv.index("-in") + 1]
        try:
            with open(path, encoding="utf-8") as handle:
                cert = json.load(handle)
        except (OSError, ValueError):
            return subprocess.CompletedProcess(argv, 1, "", f"Could not read certificate from {path}\n")
        if "-text" in argv:
            return subprocess.CompletedProcess(argv, 0, KEY_TEXT[cert["key_type"]], "")
        lines = [
            f"serial={cert['serial']}",
            f"notBefore={openssl_date(datetime.datetime.fromisoformat(cert['not_before']))}",
            f"notAfter={openssl_date(datetime.datetime.fromisoformat(cert['not_after']))}",
        ]
        if cert["aki"]:
            aki = ":".join(cert["aki"][i : i + 2] for i in range(0, len(cert["aki"]), 2))
            lines += ["X509v3 Authority Key Identifier: ", f"    {aki}"]
        lines += [
            "X509v3 Subject Alternative Name: ",
            "    " + ", ".join(f"DNS:{d}" for d in cert["domains"]),
        ]
        return subprocess.CompletedProcess(argv, 0, "\n".join(lines) + "\n", "")

    def run_certbot(self, argv):
        if self.certbot_rc:
            return subprocess.CompletedProcess(argv, self.certbot_rc, "", self.certbot_stderr)
        name = argv[argv.index("--cert-name") + 1]
        domains = self.issue_domains or [argv[i + 1] for i, arg in enumerate(argv) if arg == "-d"]
        key_type = self.issue_key_type or (
            "rsa" + argv[argv.index("--rsa-key-size") + 1]
            if "--rsa-key-size" in argv
            else {"secp256r1": "ecdsa_p256", "secp384r1": "ecdsa_p384"}[
                argv[argv.index("--elliptic-curve") + 1]
            ]
        )
        self.serial += 1
        live = Path(self.paths.certbot_config) / "live" / name
        live.mkdir(parents=True, exist_ok=True)
        pem = fake_pem(domains, key_type, serial=f"{self.serial:X}", not_before=NOW)
        (live / "cert.pem").write_text(pem, encoding="utf-8")
        (live / "chain.pem").write_text("CHAIN\n", encoding="utf-8")
        (live / "fullchain.pem").write_text(pem + "\nCHAIN\n", encoding="utf-8")
        (live / "privkey.pem").write_text(f"KEY {self.serial}\n", encoding="utf-8")
        renewal = Path(self.paths.certbot_config) / "renewal"
        renewal.mkdir(parents=True, exist_ok=True)
        server = argv[argv.index("--server") + 1]
        (renewal / f"{name}.conf").write_text(f"version = 2.1.0\n[renewalparams]\nserver = {server}\n")
        return subprocess.CompletedProcess(argv, 0, "Successfully received certificate.\n", "")


class WebServer:
    """The probe: answers the token files of the webroot like nginx, or refuses."""

    def __init__(self, webroot):
        self.webroot = webroot
        self.serving = True
        self.requests = []

    def __call__(self, host, path):
        self.requests.append((host, path))
        if not self.serving:
            return None, "[Errno 111] Connection refused"
        try:
            with open(os.path.join(self.webroot, path.lstrip("/")), encoding="ascii") as handle:
                return 200, handle.read()
        except FileNotFoundError:
            return 404, "not found"


class FakeAcme:
    """fetch_json stand-in: a dictionary of URL -> JSON answer (or an exception)."""

    def __init__(self):
        self.answers = {DIRECTORY: {"newOrder": "https://acme.test/order"}}
        self.fetched = []

    def __call__(self, url, ca_bundle=None):
        self.fetched.append((url, ca_bundle))
        answer = self.answers.get(url)
        if isinstance(answer, Exception):
            raise answer
        if answer is None:
            raise self.error(f"{url}: HTTP 404")
        return answer

    error = None  # set to the program's AriError by the fixture


class Host:
    """A temporary host tree with the program's Context wired to the fakes."""

    def __init__(self, renew, root):
        self.renew = renew
        self.root = root
        self.paths = renew.Paths(
            spec_dir=str(root / "etc/groundwork/tls/certificates"),
            hook_dir=str(root / "etc/groundwork/tls/hooks"),
            request_file=str(root / "etc/groundwork/tls/renew-now"),
            cert_root=str(root / "etc/ssl/groundwork"),
            certbot_config=str(root / "etc/groundwork/tls/certbot"),
            certbot_work=str(root / "var/lib/groundwork/tls/certbot"),
            certbot_logs=str(root / "var/log/groundwork-tls"),
            lock_file=str(root / "var/lib/groundwork/tls/renew.lock"),
        )
        self.webroot = root / "var/lib/groundwork/acme"
        self.runner = FakeRunner(self.paths, renew.OPENSSL, renew.CERTBOT)
        self.web = WebServer(str(self.webroot))
        self.acme = FakeAcme()
        self.acme.error = renew.AriError
        self.now = NOW
        self.ctx = renew.Context(
            paths=self.paths,
            runner=self.runner,
            clock=lambda: self.now,
            probe=self.web,
            fetch=self.acme,
            group_lookup=lambda group: os.getgid(),
            uid=os.getuid(),
            root_gid=os.getgid(),
            hook_timeout=5,
        )

    def spec_data(self, name="shop", **overrides):
        data = {
            "name": name,
            "domains": ["shop.example.com", "www.shop.example.com"],
            "key_type": "ecdsa_p256",
            "directory": DIRECTORY,
            "ca_bundle": None,
            "email": None,
            "webroot": str(self.webroot),
            "renew_fraction": 3,
            "key_group": "groundwork-tls",
        }
        data.update(overrides)
        return data

    def write_spec(self, name="shop", **overrides):
        directory = Path(self.paths.spec_dir)
        directory.mkdir(parents=True, exist_ok=True)
        data = self.spec_data(name, **overrides)
        (directory / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
        return self.renew.parse_spec(data)

    def cert_dir(self, name="shop"):
        return Path(self.paths.cert_root) / name

    def write_deployed(self, name="shop", pem=None, placeholder=False):
        directory = self.cert_dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        pem = pem or fake_pem(["shop.example.com", "www.shop.example.com"])
        (directory / "cert.pem").write_text(pem, encoding="utf-8")
        (directory / "chain.pem").write_text("", encoding="utf-8")
        (directory / "fullchain.pem").write_text(pem, encoding="utf-8")
        (directory / "privkey.pem").write_text("OLD KEY\n", encoding="utf-8")
        if placeholder:
            (directory / ".placeholder").write_text("", encoding="utf-8")

    def write_hook(self, name, hook, body, executable=True):
        directory = Path(self.paths.hook_dir) / f"{name}.d"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / hook
        path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
        path.chmod(0o755 if executable else 0o644)
        return path


@pytest.fixture
def host(renew, tmp_path):
    return Host(renew, tmp_path)
