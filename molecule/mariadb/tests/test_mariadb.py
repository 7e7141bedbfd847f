# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Behaviour of the converged database server, seen from the app server, the outsider and the
server itself; a renewed certificate served without a restart."""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
from pathlib import Path

import pytest
from conftest import (
    CA_BUNDLE,
    CONFIG,
    HOOK,
    VARIABLES,
    address,
    client,
    local_sql,
    same_start,
    started,
    variables,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The scenario's internal CA (groundwork.server.tls keeps it on the controller).
CA_DIR = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "ca"
CERT_DIR = "/etc/ssl/groundwork/db"


def served_certificate(host):
    """Issuer, subject and names of the certificate the server presents after STARTTLS,
    verified against the system's trust store."""
    return host.check_output(
        "bash -c "
        + shlex.quote(
            "set -o pipefail; openssl s_client -starttls mysql -connect md-db:3306"
            f" -CAfile {CA_BUNDLE} -verify_return_error </dev/null 2>/dev/null"
            " | openssl x509 -noout -issuer -subject -ext subjectAltName"
        )
    )


@pytest.mark.parametrize("user", ["shop", "report"])
def test_the_app_logs_in_over_verified_tls(app, app_address, user):
    result = client(
        app,
        "SELECT CURRENT_USER(); SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')",
        user=user,
    )
    assert result.rc == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{user}@{app_address}"
    status = dict(line.split("\t") for line in lines[1:])
    assert re.fullmatch(r"TLSv1\.[23]", status["Ssl_version"])
    assert status["Ssl_cipher"]


def test_the_users_authenticate_with_their_plugins(db):
    plugins = local_sql(
        db,
        "SELECT User, JSON_VALUE(Priv, '$.plugin'), JSON_VALUE(Priv, '$.ssl_type') FROM mysql.global_priv"
        " WHERE User IN ('shop', 'report') ORDER BY 1",
    )
    # ssl_type 1: REQUIRE SSL, on top of the server-wide require_secure_transport
    assert plugins.splitlines() == ["report\tmysql_native_password\t1", "shop\ted25519\t1"]


def test_the_app_writes_and_a_reader_only_reads(app):
    result = client(
        app,
        "CREATE TABLE IF NOT EXISTS items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64));"
        " INSERT INTO items (name) VALUES ('from the app');"
        " SELECT COUNT(*) > 0 FROM items WHERE name = 'from the app'",
    )
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "1"
    assert client(app, "SELECT COUNT(*) FROM items", user="report").rc == 0
    result = client(app, "INSERT INTO items (name) VALUES ('report')", user="report")
    assert result.rc != 0
    assert "INSERT command denied to user 'report'" in result.stderr


@pytest.fixture(scope="module")
def plain_refusal(db):
    """What the server answers a login without TLS, as a function of the user and the client's
    address: 11.8 names require_secure_transport; 10.11 checks it after the password and the
    account's own REQUIRE SSL, and answers "Access denied"."""
    version = tuple(int(part) for part in local_sql(db, "SELECT VERSION()").split("-")[0].split(".")[:2])
    if version == (10, 11):
        return lambda user, client_address: f"Access denied for user '{user}'@'{client_address}'"
    return lambda user, client_address: (
        "Connections using insecure transport are prohibited while --require_secure_transport=ON"
    )


def test_a_login_without_tls_is_refused(app, app_address, plain_refusal):
    result = client(app, "SELECT 1", tls="off")
    assert result.rc != 0
    assert plain_refusal("shop", app_address) in result.stderr


def test_require_secure_transport_refuses_plain_logins_of_any_account(app, db, app_address, plain_refusal):
    # An account that itself requires nothing (made here by hand, dropped at the end): the
    # server-wide require_secure_transport alone refuses it without TLS, and the same login
    # with TLS gets in.
    account = f"'plain_probe'@'{app_address}'"
    password = "probe-Secret-1"  # noqa: S105 - a test password
    local_sql(db, f"CREATE OR REPLACE USER {account} IDENTIFIED BY '{password}' REQUIRE NONE")
    try:
        plain = client(app, "SELECT 1", user="plain_probe", password=password, tls="off", database="")
        secure = client(app, "SELECT 1", user="plain_probe", password=password, database="")
    finally:
        local_sql(db, f"DROP USER {account}")
    assert plain.rc != 0
    assert plain_refusal("plain_probe", app_address) in plain.stderr
    assert secure.rc == 0, secure.stderr


def test_a_wrong_password_is_refused(app):
    result = client(app, "SELECT 1", password="wrong")  # noqa: S106 - a wrong password on purpose
    assert result.rc != 0
    assert "Access denied for user 'shop'" in result.stderr


def test_root_cannot_log_in_over_tcp(app, db):
    assert local_sql(db, "SELECT CURRENT_USER()") == "root@localhost"  # through the socket
    result = client(app, "SELECT 1", user="root", password="", database="")
    assert result.rc != 0
    assert "Access denied for user 'root'" in result.stderr
    result = client(db, "SELECT 1", user="root", password="", server="127.0.0.1", database="")
    assert result.rc != 0
    assert "Host '127.0.0.1' is not allowed to connect" in result.stderr


def test_the_served_certificate_is_issued_by_the_scenario_ca(app):
    served = served_certificate(app)
    ca_name = VARIABLES["tls_internal_ca_name"]
    issuer = re.search(r"^issuer=(.*)$", served, re.MULTILINE).group(1)
    assert ca_name in issuer, served
    assert "DNS:md-db" in served


def test_the_outsider_cannot_connect(outsider):
    result = client(outsider, "SELECT 1", timeout=2)
    assert result.rc != 0
    assert "Can't connect to server on 'md-db'" in result.stderr


def test_accounts_only_for_the_app_server(db, app_address):
    accounts = local_sql(
        db, "SELECT User, Host FROM mysql.global_priv WHERE User IN ('shop', 'report') ORDER BY 1"
    )
    assert accounts.splitlines() == [f"report\t{app_address}", f"shop\t{app_address}"]
    outsider_address = address(db, "md-outsider")
    hosts = local_sql(db, "SELECT DISTINCT Host FROM mysql.global_priv").splitlines()
    assert outsider_address not in hosts
    assert not [host for host in hosts if "%" in host], hosts


def test_root_has_no_password_and_nothing_anonymous_is_left(db):
    rows = local_sql(db, "SELECT User, Host, Priv FROM mysql.global_priv WHERE User = 'root'").splitlines()
    assert [row.split("\t")[:2] for row in rows] == [["root", "localhost"]]
    priv = json.loads(rows[0].split("\t")[2])
    # unix_socket only, or Debian's "mysql_native_password USING 'invalid' OR unix_socket"
    methods = [priv, *priv.get("auth_or", [])]
    assert {"plugin": "unix_socket"} in [{"plugin": m.get("plugin")} for m in methods]
    assert all(
        m.get("plugin") == "unix_socket" or m.get("authentication_string") == "invalid"
        for m in methods
        if m.get("plugin")
    ), priv
    # anonymous accounts, the test database, its rows in mysql.db
    leftovers = local_sql(
        db,
        "SELECT (SELECT COUNT(*) FROM mysql.global_priv WHERE User = ''),"
        " (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'test'),"
        " (SELECT COUNT(*) FROM mysql.db WHERE Db LIKE 'test%')",
    )
    assert leftovers == "0\t0\t0"


def test_security_settings(db):
    names = ("bind_address", "require_secure_transport", "local_infile", "skip_name_resolve", "have_ssl")
    shown = variables(db, *names, "ssl_cert", "tls_version")
    assert set(shown.pop("tls_version").split(",")) == {"TLSv1.2", "TLSv1.3"}
    assert shown == {
        "bind_address": "*",
        "require_secure_transport": "1",
        "local_infile": "0",
        "skip_name_resolve": "1",
        "have_ssl": "YES",
        "ssl_cert": f"{CERT_DIR}/fullchain.pem",
    }
    assert db.socket("tcp://0.0.0.0:3306").is_listening
    assert db.socket("unix:///run/mysqld/mysqld.sock").is_listening


def test_the_configuration_file(db):
    config = db.file(CONFIG)
    assert (config.user, config.group, config.mode) == ("root", "root", 0o644)
    lines = config.content_string.splitlines()
    assert lines[:3] == ["#", "# Ansible managed", "#"]
    assert "Settings of groundwork.server.mariadb" in lines[3]
    assert "[mariadbd]" in lines
    # Debian's own configuration files are left as packaged
    assert db.run("dpkg --verify mariadb-server mariadb-common").stdout == ""


def test_tuned_settings_follow_the_memory_limit(db):
    # 1 GiB container limit: half of it for the buffer pool, a quarter of that for the redo log;
    # one client address the flows allow, 50 connections each plus 20
    assert variables(db, "innodb_buffer_pool_size", "innodb_log_file_size", "max_connections") == {
        "innodb_buffer_pool_size": str(512 * 1024**2),
        "innodb_log_file_size": str(128 * 1024**2),
        "max_connections": "70",
    }


def signed_certificate(names):
    """A new key and a certificate for ``names`` from the scenario's CA, as groundwork.server.tls
    issues them: (privkey.pem, cert.pem, fullchain.pem) as text."""
    ca_pem = (CA_DIR / "ca.crt").read_bytes()
    ca_cert = x509.load_pem_x509_certificate(ca_pem)
    ca_key = serialization.load_pem_private_key((CA_DIR / "ca.key").read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return key_pem, cert_pem, cert_pem + ca_pem.decode()


def put_certificate(host, files, flush="hooks"):
    """Write the certificate's files in place (their owner, group and mode stay), as
    groundwork.server.tls does, then run the renewal hooks registered for it (or, to put the
    scenario's certificate back, only FLUSH SSL)."""
    writes = [f"printf %s {shlex.quote(content)} > {CERT_DIR}/{name}" for name, content in files.items()]
    if flush == "hooks":
        writes.append(f"for hook in {Path(HOOK).parent}/*; do $hook || exit 1; done")
    else:
        writes.append("mariadb -e 'FLUSH SSL'")
    return host.check_output(" && ".join(writes))


def test_a_renewed_certificate_is_served_without_a_restart(db, app):
    hook = db.file(HOOK)
    assert (hook.user, hook.mode) == ("root", 0o755)
    names = ("privkey.pem", "cert.pem", "fullchain.pem")
    original = {name: db.file(f"{CERT_DIR}/{name}").content_string for name in names}
    before = started(db)
    try:
        put_certificate(db, dict(zip(names, signed_certificate(["md-db", "md-db.example"]), strict=True)))
        served = served_certificate(app)
        assert "DNS:md-db.example" in served
        assert VARIABLES["tls_internal_ca_name"] in served
        assert client(app, "SELECT 1").rc == 0
        assert same_start(before, started(db))
    finally:
        put_certificate(db, original, flush="only")
    assert "DNS:md-db.example" not in served_certificate(app)
