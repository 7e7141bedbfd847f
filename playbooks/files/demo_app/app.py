"""The groundwork demo application: which app server answered, and a counter in PostgreSQL.

    GET /         "served by <hostname> version <APP_VERSION> counter <n>"; n is a row in
                  PostgreSQL incremented by every request (UPDATE ... RETURNING)
    GET /healthz  200 "ok" when the database answers SELECT 1, else 503

Configuration comes from the environment (the groundwork.server.app role writes it to
/etc/<app_name>/env): DATABASE_URL (a libpq URI), APP_PORT (8000), APP_BIND (0.0.0.0),
APP_VERSION (else the file VERSION next to this one, else "unknown").

Python standard library plus Debian's python3-psycopg2. On SIGTERM the server stops
accepting connections and finishes the requests in flight before it exits.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOG = logging.getLogger("demo_app")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS demo_counter (id integer PRIMARY KEY, value bigint NOT NULL)",
    "INSERT INTO demo_counter (id, value) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
)
INCREMENT = "UPDATE demo_counter SET value = value + 1 WHERE id = 1 RETURNING value"


class Database:
    """A small pool of connections shared by the request threads.

    Every request runs in a thread of its own, so a connection per thread would mean a new
    TLS and SCRAM handshake per request; instead a thread takes an idle connection, uses it
    for one statement and gives it back. A connection that fails is closed and the
    statement retried once on a fresh one (a kept connection may have died with a database
    restart). ``connect`` returns a DB-API connection (psycopg2.connect with the URL in
    production, a fake in the tests).
    """

    def __init__(self, connect, size=8):
        self._connect = connect
        self._idle = []
        self._lock = threading.Lock()
        self._size = size
        self._schema_ready = False

    def _take(self):
        with self._lock:
            if self._idle:
                return self._idle.pop()
        conn = self._connect()
        conn.autocommit = True
        if not self._schema_ready:
            with conn.cursor() as cur:
                for statement in SCHEMA:
                    cur.execute(statement)
            self._schema_ready = True
        return conn

    def _give_back(self, conn):
        with self._lock:
            if len(self._idle) < self._size:
                self._idle.append(conn)
                return
        _close(conn)

    def _run(self, statement):
        """Run one statement and return the first column of its first row."""
        for attempt in (1, 2):
            conn = self._take()
            try:
                with conn.cursor() as cur:
                    cur.execute(statement)
                    value = cur.fetchone()[0]
            except Exception:
                _close(conn)
                if attempt == 2:
                    raise
                continue
            self._give_back(conn)
            return value
        return None  # not reached

    def increment(self) -> int:
        return int(self._run(INCREMENT))

    def ping(self) -> bool:
        try:
            return self._run("SELECT 1") == 1
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


def main(environ=None) -> int:
    environ = os.environ if environ is None else environ
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    url = environ.get("DATABASE_URL")
    if not url:
        LOG.error("DATABASE_URL is not set")
        return 2
    import psycopg2  # Debian's python3-psycopg2; imported here so the tests need no driver

    db = Database(lambda: psycopg2.connect(url, connect_timeout=5, application_name="groundwork-demo"))
    app = App(db, socket.gethostname(), read_version(environ))
    port = int(environ.get("APP_PORT", "8000"))
    server = Server((environ.get("APP_BIND", "0.0.0.0"), port), app)  # noqa: S104 - reached through the balancer
    LOG.info("version %s listening on port %d", app.version, port)
    serve(server)
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
