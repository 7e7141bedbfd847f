# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/demo/probe.py against balancers on loopback: what it reports, and what it refuses."""

from __future__ import annotations

import datetime
import http.server
import importlib.util
import ipaddress
import ssl
import threading
from pathlib import Path

import pytest

PROGRAM = Path(__file__).resolve().parents[3] / "scripts" / "demo" / "probe.py"
SPEC = importlib.util.spec_from_file_location("groundwork_demo_probe", PROGRAM)
probe = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(probe)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA and a certificate for 127.0.0.1 signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    path = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.UTC)

    def build(subject, issuer, key, signer, ca):
        # the extensions a strict verifier (Python 3.13 sets VERIFY_X509_STRICT) asks for
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False
            )
        )
        if ca:
            usage = dict.fromkeys(
                (
                    "digital_signature",
                    "content_commitment",
                    "key_encipherment",
                    "data_encipherment",
                    "key_agreement",
                    "encipher_only",
                    "decipher_only",
                ),
                False,
            )
            builder = builder.add_extension(
                x509.KeyUsage(key_cert_sign=True, crl_sign=True, **usage), critical=True
            )
        else:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("probe test CA", "probe test CA", ca_key, ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build("balancer", "probe test CA", key, ca_key, False)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = build("probe test CA", "probe test CA", other_key, other_key, True)
    (path / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (path / "other-ca.crt").write_bytes(other.public_bytes(serialization.Encoding.PEM))
    (path / "server.pem").write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def serve(handler, context=None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def balancer(pki, https_answer, plain_answer):
    """An HTTPS port answering https_answer(n) for the n-th request, and a plain HTTP port
    answering plain_answer(path, https_url)."""
    count = {"n": 0}

    class Https(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            count["n"] += 1
            status, body = https_answer(count["n"])
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    class Plain(Https):
        def do_GET(self):
            status, location, body = plain_answer(self.path, urls[0])
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem")
    https, plain = serve(Https, context), serve(Plain)
    urls = (f"https://127.0.0.1:{https.server_port}/", f"http://127.0.0.1:{plain.server_port}/")
    return https, plain, urls


def spread(n):
    return 200, f"served by app{n % 2 + 1} version 1.0 counter {n}\n"


def redirect(path, https_url):
    return 308, https_url.rstrip("/") + path, ""


def run(pki, https_answer, plain_answer=redirect, ca="ca.crt", requests=4):
    https, plain, (https_url, plain_url) = balancer(pki, https_answer, plain_answer)
    try:
        return probe.probe(https_url, plain_url, str(pki / ca), requests=requests)
    finally:
        https.shutdown()
        plain.shutdown()


def test_reports_every_answer_the_redirect_and_the_certificate(pki):
    report = run(pki, spread)
    assert [a["body"] for a in report["requests"]] == [
        "served by app2 version 1.0 counter 1",
        "served by app1 version 1.0 counter 2",
        "served by app2 version 1.0 counter 3",
        "served by app1 version 1.0 counter 4",
    ]
    assert {a["status"] for a in report["requests"]} == {200}
    assert report["plain"]["status"] == 308 and report["plain"]["location"].endswith("/some/path?x=1")
    assert report["certificate"]["subject"] == "commonName=balancer"
    assert report["certificate"]["issuer"] == "commonName=probe test CA"


def test_an_error_from_the_balancer_fails(pki):
    with pytest.raises(SystemExit, match="answered 502: no backend"):
        run(pki, lambda n: (502, "no backend") if n == 3 else spread(n))


@pytest.mark.parametrize(
    "plain_answer",
    [
        lambda path, https_url: (200, "", "the application, unencrypted"),
        lambda path, https_url: (308, "https://elsewhere.example" + path, ""),
        lambda path, https_url: (301, https_url.rstrip("/") + path, ""),
        lambda path, https_url: (308, https_url.rstrip("/") + path, "x" * 300),
    ],
)
def test_plain_http_that_does_more_than_redirect_to_the_https_port_fails(pki, plain_answer):
    with pytest.raises(SystemExit, match="plain HTTP answered"):
        run(pki, spread, plain_answer)


def test_a_certificate_the_demo_ca_did_not_sign_fails(pki):
    # another CA with the same name and a different key: the signature does not verify
    with pytest.raises(ssl.SSLCertVerificationError):
        run(pki, spread, ca="other-ca.crt", requests=1)
