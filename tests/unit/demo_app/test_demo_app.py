# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The demo application's request handling, with a fake database connection."""

from __future__ import annotations

import datetime
import http.client
import importlib.util
import ssl
import sys
import threading
import types
from pathlib import Path

import pytest

PROGRAM = Path(__file__).resolve().parents[3] / "playbooks" / "files" / "demo_app" / "app.py"


def load():
    # No __pycache__ next to the application: the role copies that directory to servers.
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec = importlib.util.spec_from_file_location("groundwork_demo_app", PROGRAM)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


demo = load()


class FakeCursor:
    def __init__(self, db, conn):
        self.db = db
        self.conn = conn
        self.row = None
        self.rowcount = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, statement):
        if self.db.down or statement in self.db.failing:
            raise RuntimeError("connection refused")
        self.db.statements.append(statement)
        self.row, self.rowcount = None, -1
        if statement.startswith("UPDATE"):
            self.rowcount = int(self.db.has_row)
            if self.db.has_row:
                self.db.counter += 1
                if "LAST_INSERT_ID(" in statement:
                    self.conn.last_insert_id = self.db.counter
                else:
                    self.row = (self.db.counter,)
        elif statement == "SELECT LAST_INSERT_ID()":
            # per connection, as in MariaDB
            self.row = (self.conn.last_insert_id,)
        elif statement == "SELECT 1":
            self.row = (1,)

    def fetchone(self):
        return self.row


class FakeDB:
    """Stands in for the driver's connect: counts connections, can go down, can fail one
    statement, can lose the counter row."""

    def __init__(self):
        self.counter = 0
        self.down = False
        self.failing = set()
        self.has_row = True
        self.connections = 0
        self.statements = []

    def connect(self):
        if self.down:
            raise RuntimeError("could not connect")
        self.connections += 1
        db = self

        class Connection:
            last_insert_id = 0

            def cursor(self):
                return FakeCursor(db, self)

            def close(self):
                pass

        return Connection()


@pytest.fixture(params=["postgresql", "mariadb"])
def served(request):
    fake = FakeDB()
    statements = {"postgresql": demo.POSTGRESQL, "mariadb": demo.MARIADB}[request.param]
    app = demo.App(demo.Database(fake.connect, statements), "app1", "7")
    server = demo.Server(("127.0.0.1", 0), app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def get(path):
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()

    yield fake, get
    server.shutdown()
    server.server_close()


def test_root_answers_with_host_version_and_a_rising_counter(served):
    fake, get = served
    assert get("/") == (200, "served by app1 version 7 counter 1\n")
    assert get("/") == (200, "served by app1 version 7 counter 2\n")
    # the table is created once, on the first connection
    assert sum("CREATE TABLE" in s for s in fake.statements) == 1


def test_health_follows_the_database(served):
    fake, get = served
    assert get("/healthz") == (200, "ok\n")
    fake.down = True
    assert get("/healthz") == (503, "database unavailable\n")
    assert get("/")[0] == 503
    fake.down = False
    assert get("/healthz") == (200, "ok\n")
    assert get("/") == (200, "served by app1 version 7 counter 1\n")


def test_unknown_path(served):
    _fake, get = served
    assert get("/nothing")[0] == 404


def test_version_from_environment_or_file():
    assert demo.read_version({"APP_VERSION": "3"}) == "3"
    assert demo.read_version({}) == "unknown"


def test_main_needs_a_database_url():
    assert demo.main({}) == 2


def test_connections_are_pooled_across_request_threads():
    fake = FakeDB()
    db = demo.Database(fake.connect)
    threads = [threading.Thread(target=db.increment) for _request in range(10)]
    for thread in threads:
        thread.start()
        thread.join()
    assert fake.counter == 10
    # one after the other, every request reused the one connection
    assert fake.connections == 1


def test_a_broken_pooled_connection_is_replaced_once():
    fake = FakeDB()
    db = demo.Database(fake.connect)
    assert db.increment() == 1
    fake.down = True
    assert not db.ping()
    fake.down = False
    assert db.increment() == 2
    assert fake.connections == 2


# --- MariaDB: the statements on one connection -----------------------------------------


def test_mariadb_counter_reads_the_value_back_on_the_same_connection():
    fake = FakeDB()
    db = demo.Database(fake.connect, demo.MARIADB)
    assert [db.increment(), db.increment()] == [1, 2]
    assert fake.statements == [
        "CREATE TABLE IF NOT EXISTS demo_counter (id INT PRIMARY KEY, value BIGINT NOT NULL) ENGINE=InnoDB",
        "INSERT INTO demo_counter (id, value) VALUES (1, 0) ON DUPLICATE KEY UPDATE id = id",
        "UPDATE demo_counter SET value = LAST_INSERT_ID(value + 1) WHERE id = 1",
        "SELECT LAST_INSERT_ID()",
        "UPDATE demo_counter SET value = LAST_INSERT_ID(value + 1) WHERE id = 1",
        "SELECT LAST_INSERT_ID()",
    ]
    assert db.ping()


def test_mariadb_schema_failure_closes_and_is_tried_again():
    fake = FakeDB()
    fake.failing = {demo.MARIADB.schema[0]}
    db = demo.Database(fake.connect, demo.MARIADB)
    with pytest.raises(RuntimeError):
        db.increment()
    fake.failing = set()
    assert db.increment() == 1
    assert sum("CREATE TABLE" in s for s in fake.statements) == 1


def test_a_request_is_not_repeated_once_a_statement_changed_something():
    fake = FakeDB()
    db = demo.Database(fake.connect, demo.MARIADB)
    assert db.increment() == 1
    fake.failing = {"SELECT LAST_INSERT_ID()"}
    with pytest.raises(RuntimeError):
        db.increment()
    # counted once, not retried on a second connection
    assert fake.counter == 2
    assert fake.connections == 1
    fake.failing = set()
    assert db.increment() == 3


def test_a_stale_connection_is_replaced_before_the_update():
    fake = FakeDB()
    db = demo.Database(fake.connect, demo.MARIADB)
    assert db.increment() == 1
    fake.failing = {demo.MARIADB.increment[0]}
    with pytest.raises(RuntimeError):
        db.increment()  # fails on both connections, changed nothing
    fake.failing = set()
    assert db.increment() == 2
    assert fake.connections == 3


@pytest.mark.parametrize("statements", [demo.POSTGRESQL, demo.MARIADB])
def test_a_missing_counter_row_is_an_error_not_a_stale_value(statements):
    fake = FakeDB()
    db = demo.Database(fake.connect, statements)
    assert db.increment() == 1
    fake.has_row = False
    with pytest.raises(LookupError):
        db.increment()


# --- DATABASE_URL -> driver arguments ---------------------------------------------------


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory):
    """A self-signed CA certificate in a PEM file (made with cryptography, as ansible-core has it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "groundwork test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def ca_names(context):
    return [dict(item[0] for item in cert["subject"])["commonName"] for cert in context.get_ca_certs()]


def test_mariadb_url_to_arguments(ca_file):
    url = (
        "mariadb://a%40b:p%40ss%20w%3Ard%2F7%25%3F@db1.example.net:3307/my%20db"
        f"?sslmode=verify-full&sslrootcert={ca_file}"
    )
    arguments = demo.mariadb_arguments(url)
    context = arguments.pop("ssl")
    assert arguments == {
        "host": "db1.example.net",
        "port": 3307,
        "user": "a@b",
        "password": "p@ss w:rd/7%?",
        "database": "my db",
        "connect_timeout": 5,
        "autocommit": True,
        "charset": "utf8mb4",
    }
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert ca_names(context) == ["groundwork test CA"]
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


@pytest.mark.parametrize(
    ("query", "verify_mode", "check_hostname", "own_ca"),
    [
        ("?sslmode=disable", None, None, False),
        ("?sslmode=require", ssl.CERT_NONE, False, False),
        ("?sslmode=require&sslrootcert=/nonexistent/ca.pem", ssl.CERT_NONE, False, False),
        ("?sslmode=verify-ca&sslrootcert={ca}", ssl.CERT_REQUIRED, False, True),
        ("?sslmode=verify-full&sslrootcert={ca}", ssl.CERT_REQUIRED, True, True),
        # without sslrootcert: the system's trust store; without sslmode: verify-full
        ("?sslmode=verify-ca", ssl.CERT_REQUIRED, False, False),
        ("", ssl.CERT_REQUIRED, True, False),
    ],
)
def test_mariadb_sslmodes(ca_file, query, verify_mode, check_hostname, own_ca):
    arguments = demo.mariadb_arguments("mariadb://u:p@db:3306/d" + query.format(ca=ca_file))
    context = arguments["ssl"]
    if verify_mode is None:
        assert context is None
        return
    assert (context.verify_mode, context.check_hostname) == (verify_mode, check_hostname)
    if own_ca:
        assert ca_names(context) == ["groundwork test CA"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # the scheme mysql:// too; IPv6 in brackets; default port; no password
        ("mysql://u@[::1]/d?sslmode=disable", {"host": "::1", "port": 3306, "user": "u", "password": ""}),
        ("mariadb://u:@db/d?sslmode=disable", {"host": "db", "port": 3306, "user": "u", "password": ""}),
    ],
)
def test_mariadb_url_variants(url, expected):
    arguments = demo.mariadb_arguments(url)
    assert {key: arguments[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mariadb://u:secret@db/d?sslmode=prefer",
            "DATABASE_URL: sslmode 'prefer' is not one of disable, require, verify-ca, verify-full",
        ),
        ("mariadb://u:secret@db/d?sslmode=allow", "sslmode 'allow' is not one of"),
        (
            "mariadb://u:secret@db/d?sslcert=/x",
            "DATABASE_URL: parameter 'sslcert' is not sslmode or sslrootcert",
        ),
        ("mariadb://u:secret@db:99999/d", "DATABASE_URL: the port is not a number from 1 to 65535"),
        ("mariadb://u:secret@/d", "DATABASE_URL: the host is missing"),
        ("mariadb://u:secret@db/", "DATABASE_URL: user and database name are required"),
        ("mariadb://db/d", "DATABASE_URL: user and database name are required"),
        (
            "mariadb://u:secret@db/d?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
            "DATABASE_URL: sslrootcert '/nonexistent/ca.pem' cannot be read (No such file or directory)",
        ),
    ],
)
def test_mariadb_url_errors_name_the_problem_not_the_password(url, expected):
    with pytest.raises(ValueError, match=r"^DATABASE_URL: ") as caught:
        demo.mariadb_arguments(url)
    assert expected in str(caught.value)
    assert "secret" not in str(caught.value)


def test_a_file_that_is_no_certificate_is_refused(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="holds no usable certificate"):
        demo.mariadb_arguments(f"mariadb://u:p@db/d?sslmode=verify-full&sslrootcert={bad}")


# --- The drivers, faked: chosen by the scheme, imported only when used ------------------


@pytest.fixture
def fake_psycopg2(monkeypatch):
    calls = []

    class Connection:
        autocommit = False

    def connect(dsn, **kwargs):
        calls.append((dsn, kwargs))
        return Connection()

    monkeypatch.setitem(sys.modules, "psycopg2", types.SimpleNamespace(connect=connect))
    return calls


@pytest.fixture
def fake_pymysql(monkeypatch):
    """pymysql with a Connection that records its arguments and goes through the start of a
    login: the server's capabilities come from ``server["capabilities"]``."""
    server = {"capabilities": 0x800, "authenticated": []}
    client = types.SimpleNamespace(SSL=0x800)

    class OperationalError(Exception):
        pass

    class Connection:
        def __init__(self, **kwargs):
            self.kwargs = kwargs
            self.ssl = kwargs.get("ssl") is not None
            self.server_capabilities = server["capabilities"]
            self._request_authentication()

        def _request_authentication(self):
            server["authenticated"].append(self.kwargs["user"])

    package = types.ModuleType("pymysql")
    package.connections = types.SimpleNamespace(Connection=Connection)
    package.err = types.SimpleNamespace(OperationalError=OperationalError)
    package.constants = types.ModuleType("pymysql.constants")
    package.constants.CLIENT = client
    monkeypatch.setitem(sys.modules, "pymysql", package)
    monkeypatch.setitem(sys.modules, "pymysql.constants", package.constants)
    server["error"] = OperationalError
    return server


def test_postgresql_url_goes_to_psycopg2_as_it_is(fake_psycopg2):
    url = "postgresql://u:p@db:5432/d?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt"
    connect, statements = demo.connector(url)
    assert statements is demo.POSTGRESQL
    conn = connect()
    assert conn.autocommit is True
    assert fake_psycopg2 == [(url, {"connect_timeout": 5, "application_name": "groundwork-demo"})]


@pytest.mark.parametrize("scheme", ["mariadb", "mysql", "MariaDB"])
def test_mariadb_url_goes_to_pymysql(fake_pymysql, scheme):
    connect, statements = demo.connector(f"{scheme}://u:p@db/d?sslmode=require")
    assert statements is demo.MARIADB
    conn = connect()
    assert conn.kwargs["user"] == "u"
    assert conn.kwargs["autocommit"] is True
    assert isinstance(conn.kwargs["ssl"], ssl.SSLContext)
    assert fake_pymysql["authenticated"] == ["u"]


@pytest.mark.parametrize("sslmode", ["require", "verify-ca", "verify-full"])
def test_mariadb_without_tls_is_refused_before_the_login(fake_pymysql, sslmode):
    fake_pymysql["capabilities"] = 0
    connect, _statements = demo.connector(f"mariadb://u:p@db/d?sslmode={sslmode}")
    with pytest.raises(fake_pymysql["error"], match="does not offer TLS"):
        connect()
    assert fake_pymysql["authenticated"] == []


def test_mariadb_with_sslmode_disable_needs_no_tls(fake_pymysql):
    fake_pymysql["capabilities"] = 0
    connect, _statements = demo.connector("mariadb://u:p@db/d?sslmode=disable")
    assert connect().kwargs["ssl"] is None
    assert fake_pymysql["authenticated"] == ["u"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mongodb://u:secret@db/d", "DATABASE_URL: the scheme 'mongodb' is not postgresql://, mariadb://"),
        ("u:secret@db/d", "DATABASE_URL: the URL is not postgresql://, mariadb:// or mysql://"),
    ],
)
def test_unknown_schemes_are_refused_without_the_password(url, expected):
    with pytest.raises(ValueError) as caught:
        demo.connector(url)
    assert expected in str(caught.value)
    assert "secret" not in str(caught.value)


def test_main_refuses_a_bad_url(caplog):
    assert demo.main({"DATABASE_URL": "mariadb://u:secret@db/d?sslmode=prefer"}) == 2
    assert "sslmode 'prefer'" in caplog.text
    assert "secret" not in caplog.text
