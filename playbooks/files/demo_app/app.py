# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The groundwork demo application: which app server answered, and a counter in the database.

    GET /         "served by <hostname> version <APP_VERSION> counter <n>"; n is a row in
                  PostgreSQL or MariaDB incremented by every request
    GET /healthz  200 "ok" when the database answers SELECT 1, else 503

Configuration comes from the environment (the groundwork.server.app role writes it to
/etc/<app_name>/env): DATABASE_URL, APP_PORT (8000), APP_BIND (0.0.0.0), APP_VERSION (else
the file VERSION next to this one, else "unknown").

DATABASE_URL's scheme chooses the driver, imported only then, so a host needs only its own:
    postgresql://USER:PASSWORD@HOST:PORT/NAME?sslmode=...   a libpq URI, Debian's python3-psycopg2
    mariadb://USER:PASSWORD@HOST:PORT/NAME?sslmode=...&sslrootcert=...   (or mysql://) Debian's
                  python3-pymysql, and python3-nacl for users that log in with ed25519
For MariaDB, user, password and name are percent-encoded, the port defaults to 3306, and
sslmode means what it means to libpq: disable (no TLS), require (TLS, no verification),
verify-ca (the certificate against sslrootcert, no name check), verify-full (the default:
certificate and host name). sslrootcert defaults to the system's trust store.

Python standard library plus the driver. On SIGTERM the server stops accepting connections
and finishes the requests in flight before it exits.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

LOG = logging.getLogger("demo_app")
CONNECT_TIMEOUT = 5
SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
MARIADB_SSLMODES = ("disable", "require", "verify-ca", "verify-full")


class Statements(NamedTuple):
    """What differs between the engines besides connecting: the schema, created when missing
    on the first connection, and the counter's increment, whose last statement returns the
    new value (every statement before it must change a row)."""

    schema: tuple
    increment: tuple


POSTGRESQL = Statements(
    schema=(
        "CREATE TABLE IF NOT EXISTS demo_counter (id integer PRIMARY KEY, value bigint NOT NULL)",
        "INSERT INTO demo_counter (id, value) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    ),
    increment=("UPDATE demo_counter SET value = value + 1 WHERE id = 1 RETURNING value",),
)
# MariaDB has no UPDATE ... RETURNING: LAST_INSERT_ID(expr) remembers the new value for this
# connection (and this connection only), and the SELECT reads it back.
MARIADB = Statements(
    schema=(
        "CREATE TABLE IF NOT EXISTS demo_counter (id INT PRIMARY KEY, value BIGINT NOT NULL) ENGINE=InnoDB",
        "INSERT INTO demo_counter (id, value) VALUES (1, 0) ON DUPLICATE KEY UPDATE id = id",
    ),
    increment=(
        "UPDATE demo_counter SET value = LAST_INSERT_ID(value + 1) WHERE id = 1",
        "SELECT LAST_INSERT_ID()",
    ),
)
PING = ("SELECT 1",)


class Database:
    """A small pool of connections shared by the request threads, for either engine.

    Every request runs in a thread of its own, so a connection per thread would mean a new
    TLS handshake and login per request; instead a thread takes an idle connection, uses it
    for one request's statements and gives it back. A connection that fails before any
    statement of the request ran is closed and the request retried once on a fresh one (a
    kept connection may have died with a database restart). ``connect`` returns a DB-API
    connection in autocommit mode (see ``connector``; a fake in the tests), ``statements``
    are its engine's.
    """

    def __init__(self, connect, statements: Statements = POSTGRESQL, size=8):
        self._connect = connect
        self._statements = statements
        self._idle = []
        self._lock = threading.Lock()
        self._size = size
        self._schema_ready = False

    def _take(self):
        with self._lock:
            if self._idle:
                return self._idle.pop()
        conn = self._connect()
        if not self._schema_ready:
            try:
                with conn.cursor() as cur:
                    for statement in self._statements.schema:
                        cur.execute(statement)
            except Exception:
                _close(conn)
                raise
            self._schema_ready = True
        return conn

    def _give_back(self, conn):
        with self._lock:
            if len(self._idle) < self._size:
                self._idle.append(conn)
                return
        _close(conn)

    def _run(self, statements):
        """Run the statements on one connection and return the first column of the last
        one's first row."""
        for attempt in (1, 2):
            conn = self._take()
            done = 0
            try:
                with conn.cursor() as cur:
                    for statement in statements[:-1]:
                        cur.execute(statement)
                        done += 1
                        if cur.rowcount == 0:
                            raise LookupError("the counter row is missing")
                    cur.execute(statements[-1])
                    row = cur.fetchone()
            except Exception:
                _close(conn)
                # Once a statement has changed something, running them again would count twice.
                if attempt == 2 or done:
                    raise
                continue
            self._give_back(conn)
            if row is None:
                raise LookupError("the counter row is missing")
            return row[0]
        return None  # not reached

    def increment(self) -> int:
        return int(self._run(self._statements.increment))

    def ping(self) -> bool:
        try:
            return self._run(PING) == 1
        except Exception as exc:
            LOG.warning("database check failed: %s", str(exc).strip())
            return False

    def close(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _close(conn)


def _close(conn):
    try:
        conn.close()
    except Exception:  # already broken: nothing left to close
        LOG.debug("closing a broken connection failed", exc_info=True)


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.0: one request per connection, so shutdown never waits on idle keep-alives."""

    server_version = "groundwork-demo"
    sys_version = ""

    def do_GET(self):
        app = self.server.app
        if self.path == "/healthz":
            if app.db.ping():
                self._send(200, "ok")
            else:
                self._send(503, "database unavailable")
        elif self.path == "/":
            try:
                count = app.db.increment()
            except Exception as exc:
                LOG.warning("counter update failed: %s", str(exc).strip())
                self._send(503, "database unavailable")
                return
            self._send(200, f"served by {app.hostname} version {app.version} counter {count}")
        else:
            self._send(404, "not found")

    def _send(self, status: int, text: str):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        """Requests are not logged (the balancer logs them); errors are."""


class App:
    def __init__(self, db: Database, hostname: str, version: str):
        self.db = db
        self.hostname = hostname
        self.version = version


class Server(ThreadingHTTPServer):
    # Request threads are joined by server_close(): in-flight requests finish on shutdown.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a burst would see refused connections.
    request_queue_size = 128

    def __init__(self, address, app: App):
        self.app = app
        super().__init__(address, Handler)


def read_version(environ) -> str:
    if environ.get("APP_VERSION"):
        return environ["APP_VERSION"]
    path = Path(__file__).with_name("VERSION")
    return path.read_text().strip() if path.is_file() else "unknown"


def serve(server: Server):
    """Serve until SIGTERM or SIGINT, then finish the requests in flight and return."""

    def stop(signum, _frame):
        LOG.info("signal %d: finishing the requests in flight", signum)
        # shutdown() waits for serve_forever() to return, so it runs in another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    server.server_close()
    LOG.info("stopped")


def tls_context(sslmode: str, rootcert: str | None):
    """The TLS context of a MariaDB sslmode (None for disable), as libpq reads sslmode."""
    if sslmode == "disable":
        return None
    if sslmode == "require":
        # encrypted, nothing verified (libpq would verify against an sslrootcert file it finds)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        context = ssl.create_default_context(cafile=rootcert or None)
    except ssl.SSLError as exc:  # an OSError too: first
        raise ValueError(
            f"DATABASE_URL: sslrootcert {rootcert!r} holds no usable certificate ({exc})"
        ) from None
    except OSError as exc:
        raise ValueError(
            f"DATABASE_URL: sslrootcert {rootcert!r} cannot be read ({exc.strerror or exc})"
        ) from None
    if sslmode == "verify-ca":
        context.check_hostname = False
    return context


def mariadb_arguments(url: str) -> dict:
    """PyMySQL's connect() arguments of a mariadb:// (or mysql://) URL; ValueError names what
    is wrong, never the password."""
    parts = urlsplit(url)
    query = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in ("sslmode", "sslrootcert"):
            raise ValueError(f"DATABASE_URL: parameter {key!r} is not sslmode or sslrootcert")
        query[key] = value
    sslmode = query.get("sslmode") or "verify-full"
    if sslmode not in MARIADB_SSLMODES:
        raise ValueError(f"DATABASE_URL: sslmode {sslmode!r} is not one of {', '.join(MARIADB_SSLMODES)}")
    try:
        port = parts.port or 3306
    except ValueError:
        raise ValueError("DATABASE_URL: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError("DATABASE_URL: the host is missing")
    database = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    if not database or parts.username is None:
        raise ValueError(
            "DATABASE_URL: user and database name are required (mariadb://USER:PASSWORD@HOST/NAME)"
        )
    return {
        "host": parts.hostname,
        "port": port,
        "user": unquote(parts.username),
        "password": unquote(parts.password or ""),
        "database": database,
        "ssl": tls_context(sslmode, query.get("sslrootcert")),
        "connect_timeout": CONNECT_TIMEOUT,
        "autocommit": True,
        "charset": "utf8mb4",
    }


def _postgresql(url: str):
    import psycopg2  # Debian's python3-psycopg2; imported here so a MariaDB host needs no psycopg2

    def connect():
        conn = psycopg2.connect(url, connect_timeout=CONNECT_TIMEOUT, application_name="groundwork-demo")
        conn.autocommit = True
        return conn

    return connect


def _mariadb(arguments: dict):
    import pymysql  # Debian's python3-pymysql (ed25519 logins need python3-nacl too)
    from pymysql.constants import CLIENT

    class Connection(pymysql.connections.Connection):
        """PyMySQL goes on without TLS when the server does not offer it, whatever its ssl
        argument says; this refuses such a server before the credentials are sent."""

        def _request_authentication(self):
            if self.ssl and not self.server_capabilities & CLIENT.SSL:
                raise pymysql.err.OperationalError(
                    2026, "the server does not offer TLS, which sslmode requires"
                )
            super()._request_authentication()

    return lambda: Connection(**arguments)


def connector(url: str):
    """The function that opens a connection for DATABASE_URL, and its engine's statements.
    ValueError names what is wrong, never the password."""
    match = SCHEME.match(url)
    scheme = match.group(1).lower() if match else ""
    if scheme in ("postgresql", "postgres"):
        return _postgresql(url), POSTGRESQL
    if scheme in ("mariadb", "mysql"):
        return _mariadb(mariadb_arguments(url)), MARIADB
    shown = f"scheme {scheme!r}" if scheme else "URL"
    raise ValueError(f"DATABASE_URL: the {shown} is not postgresql://, mariadb:// or mysql://")


def main(environ=None) -> int:
    environ = os.environ if environ is None else environ
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    url = environ.get("DATABASE_URL")
    if not url:
        LOG.error("DATABASE_URL is not set")
        return 2
    try:
        connect, statements = connector(url)
    except (ValueError, ImportError) as exc:
        LOG.error("%s", exc)
        return 2
    db = Database(connect, statements)
    app = App(db, socket.gethostname(), read_version(environ))
    port = int(environ.get("APP_PORT", "8000"))
    server = Server((environ.get("APP_BIND", "0.0.0.0"), port), app)  # noqa: S104 - reached through the balancer
    LOG.info("version %s listening on port %d", app.version, port)
    serve(server)
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
