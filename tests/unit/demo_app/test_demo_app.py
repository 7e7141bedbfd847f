# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The demo application's request handling, with a fake database connection."""

from __future__ import annotations

import http.client
import importlib.util
import sys
import threading
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
    def __init__(self, db):
        self.db = db
        self.row = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, statement):
        if self.db.down:
            raise RuntimeError("connection refused")
        self.db.statements.append(statement)
        if statement.startswith("UPDATE"):
            self.db.counter += 1
            self.row = (self.db.counter,)
        elif statement == "SELECT 1":
            self.row = (1,)

    def fetchone(self):
        return self.row


class FakeDB:
    """Stands in for psycopg2.connect: counts connections, can go down."""

    def __init__(self):
        self.counter = 0
        self.down = False
        self.connections = 0
        self.statements = []

    def connect(self):
        if self.down:
            raise RuntimeError("could not connect")
        self.connections += 1
        db = self

        class Connection:
            autocommit = False

            def cursor(self):
                return FakeCursor(db)

            def close(self):
                pass

        return Connection()


@pytest.fixture
def served():
    fake = FakeDB()
    app = demo.App(demo.Database(fake.connect), "app1", "7")
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
