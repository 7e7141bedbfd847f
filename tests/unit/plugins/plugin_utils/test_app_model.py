# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._app_model import app_model, database_url


@pytest.fixture
def valid(tmp_path):
    source = tmp_path / "app"
    source.mkdir()
    return {
        "name": "demo",
        "version": "1.2.0",
        "source": str(source),
        "command": "python3 app.py",
        "port": 8000,
        "user": "demo",
        "group": "demo",
        "base_dir": "/srv",
        "environment": {"GREETING": "hello"},
        "secret_environment": {"TOKEN": 's3"c$r`e\\t'},
        "database": {},
        "health_path": "/healthz",
        "health_retries": 5,
        "health_first_retries": 20,
        "releases_kept": 3,
        "rollback": False,
        "writable_paths": [],
        "balancers": ["lb1"],
        "balancer_server": "app1:8000",
    }


def errors_of(item, **options):
    options.setdefault("inventory_hosts", ["lb1", "app1", "db"])
    return app_model(item, **options)["errors"]


def test_valid_input(valid):
    model = app_model(valid, inventory_hosts=["lb1", "db"])
    assert model["errors"] == []
    assert model["source_kind"] == "directory"
    # sorted, escaped for systemd's EnvironmentFile
    assert model["env_content"] == 'APP_PORT="8000"\nGREETING="hello"\nTOKEN="s3\\"c\\$r\\`e\\\\t"\n'


def test_archive_and_relative_source(valid, tmp_path):
    (tmp_path / "app.tar.gz").write_bytes(b"")
    valid["source"] = "app.tar.gz"
    model = app_model(valid, playbook_dir=str(tmp_path), inventory_hosts=["lb1", "db"])
    assert (model["errors"], model["source_kind"]) == ([], "archive")
    assert model["source"] == str(tmp_path / "app.tar.gz")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "Demo"}, "app_name: 'Demo' is not valid"),
        ({"user": "root"}, "app_user: 'root' is not a valid system account name other than root"),
        ({"version": "../1"}, "app_version: '../1' is not valid"),
        ({"version": ".hidden"}, "app_version: '.hidden' is not valid"),
        ({"version": ""}, "app_version: '' is not valid"),
        ({"source": "/nonexistent/x"}, "app_source: '/nonexistent/x' does not exist on the controller"),
        ({"source": ""}, "app_source: '' is not set"),
        ({"port": 80}, "app_port: 80 is not a port from 1024 to 65535"),
        ({"port": 70000}, "app_port: 70000 is not a port from 1024 to 65535"),
        ({"health_path": "healthz"}, "app_health_path: 'healthz' is not a URL path starting with '/'"),
        ({"health_path": "/a b"}, "app_health_path: '/a b' is not a URL path"),
        ({"command": "a\nb"}, "app_command: 'a\\nb' is not a single-line command"),
        ({"releases_kept": 0}, "app_releases_kept: 0 is not a number of at least 1"),
        ({"base_dir": "/"}, "app_base_dir: '/' is not an absolute path other than /"),
        ({"writable_paths": ["var/x"]}, "app_writable_paths[0]: 'var/x' is not an absolute path"),
        ({"balancers": ["lb9"]}, "app_balancers[0]: 'lb9' is not a host of the inventory"),
        ({"balancer_server": "app1"}, "app_balancer_server: 'app1' is not 'address:port'"),
        (
            {"environment": {"BAD-NAME": "x"}},
            "app_environment.BAD-NAME: 'BAD-NAME' is not a valid variable name",
        ),
        (
            {"environment": {"APP_VERSION": "x"}},
            "app_environment.APP_VERSION: 'APP_VERSION' is set by the role",
        ),
        ({"environment": {"A": "x\ny"}}, "app_environment.A: 'x\\ny' contains a line break"),
        ({"environment": {"A": ["x"]}}, "app_environment.A: ['x'] is not a string or number"),
        (
            {"secret_environment": {"A": "x\ny"}},
            "app_secret_environment.A: (not shown) contains a line break",
        ),
        ({"secret_environment": {"GREETING": "x"}}, "app_secret_environment: 'GREETING' is also set"),
        ({"database": {"host": "db", "name": "d"}}, "app_database.user: None is not set"),
        (
            {"database": {"host": "d b", "name": "d", "user": "u"}},
            "app_database.host: 'd b' is not a host name",
        ),
        (
            {"database": {"host": "db", "name": "d", "user": "u", "port": 0}},
            "app_database.port: 0 is not a port",
        ),
        (
            {"database": {"host": "db", "name": "d", "user": "u", "sslrootcert": "ca.pem"}},
            "app_database.sslrootcert: 'ca.pem' is not an absolute path",
        ),
        (
            {"database": {"host": "db", "name": "d", "user": "u"}, "environment": {"DATABASE_URL": "x"}},
            "app_database: 'DATABASE_URL' would overwrite DATABASE_URL set in app_environment",
        ),
    ],
)
def test_errors_name_the_variable(valid, changes, expected):
    valid.update(changes)
    errors = errors_of(valid)
    assert any(expected in error for error in errors), errors


def test_rollback_needs_no_source(valid):
    valid.update(source="", rollback=True)
    assert errors_of(valid) == []


def test_secret_values_are_never_in_messages(valid):
    valid["database"] = {"host": "db", "name": "d", "user": "u", "password": "pw\nsecret"}
    errors = errors_of(valid)
    assert errors == ["app_database.password: (not shown) is not a single-line string"]


def test_database_url_encodes_and_defaults():
    url = database_url({"host": "db1", "name": "my db", "user": "a@b", "password": "p@ss w:rd/7%?"})
    assert url == (
        "postgresql://a%40b:p%40ss%20w%3Ard%2F7%25%3F@db1:5432/my%20db"
        "?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt"
    )


@pytest.mark.parametrize(
    ("db", "expected"),
    [
        (
            {"host": "::1", "name": "d", "user": "u", "sslmode": "disable"},
            "postgresql://u@[::1]:5432/d?sslmode=disable",
        ),
        (
            {
                "host": "db",
                "port": 6432,
                "name": "d",
                "user": "u",
                "password": "",
                "sslmode": "require",
                "sslrootcert": "",
            },
            "postgresql://u@db:6432/d?sslmode=require",
        ),
    ],
)
def test_database_url_variants(db, expected):
    assert database_url(db) == expected


def test_database_url_in_environment(valid):
    valid["database"] = {"host": "db", "name": "d", "user": "u", "password": "x", "sslmode": "require"}
    model = app_model(valid, inventory_hosts=["lb1", "db"])
    expected = "postgresql://u:x@db:5432/d?sslmode=require"
    assert model["database_url"] == expected
    assert f'DATABASE_URL="{expected}"\n' in model["env_content"]


# --- app_database.engine -----------------------------------------------------------------


def test_mariadb_url_encodes_and_defaults():
    url = database_url(
        {"engine": "mariadb", "host": "db1", "name": "my db", "user": "a@b", "password": "p@ss w:rd/7%?"}
    )
    assert url == (
        "mariadb://a%40b:p%40ss%20w%3Ard%2F7%25%3F@db1:3306/my%20db"
        "?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt"
    )


@pytest.mark.parametrize(
    ("db", "expected"),
    [
        (
            {"engine": "postgresql", "host": "db", "name": "d", "user": "u", "password": "x"},
            "postgresql://u:x@db:5432/d?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt",
        ),
        (
            {"engine": None, "host": "db", "name": "d", "user": "u", "sslmode": "disable"},
            "postgresql://u@db:5432/d?sslmode=disable",
        ),
        (
            {"engine": "mariadb", "host": "::1", "name": "d", "user": "u", "sslmode": "disable"},
            "mariadb://u@[::1]:3306/d?sslmode=disable",
        ),
        (
            {"engine": "mariadb", "host": "db", "port": 3307, "name": "d", "user": "u", "sslmode": "require"},
            "mariadb://u@db:3307/d?sslmode=require",
        ),
        (
            {
                "engine": "mariadb",
                "host": "db.example.net",
                "name": "d",
                "user": "u",
                "password": "p",
                "sslmode": "verify-ca",
                "sslrootcert": "/etc/ssl/groundwork/ca.pem",
            },
            "mariadb://u:p@db.example.net:3306/d?sslmode=verify-ca&sslrootcert=/etc/ssl/groundwork/ca.pem",
        ),
    ],
)
def test_database_url_by_engine(db, expected):
    assert database_url(db) == expected


def test_mariadb_url_in_environment(valid):
    valid["database"] = {"engine": "mariadb", "host": "db", "name": "d", "user": "u", "password": "x"}
    model = app_model(valid, inventory_hosts=["lb1", "db"])
    expected = "mariadb://u:x@db:3306/d?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt"
    assert (model["errors"], model["database_url"]) == ([], expected)
    assert f'DATABASE_URL="{expected}"\n' in model["env_content"]


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        (
            {"engine": "oracle", "host": "db", "name": "d", "user": "u"},
            ["app_database.engine: 'oracle' is not one of postgresql, mariadb"],
        ),
        (
            {"engine": ["mariadb"], "host": "db", "name": "d", "user": "u"},
            ["app_database.engine: ['mariadb'] is not one of postgresql, mariadb"],
        ),
        # the other fields are checked as well
        (
            {"engine": "MariaDB", "host": "d b", "name": "d", "user": "u"},
            [
                "app_database.engine: 'MariaDB' is not one of postgresql, mariadb",
                "app_database.host: 'd b' is not a host name or IP address",
            ],
        ),
        (
            {"engine": "mariadb", "host": "db", "name": "d", "user": "u", "sslmode": "prefer"},
            [
                "app_database.sslmode: 'prefer' is not one of disable, require, verify-ca, verify-full"
                " (engine mariadb)"
            ],
        ),
        (
            {"engine": "mariadb", "host": "db", "name": "d", "user": "u", "sslmode": "allow"},
            [
                "app_database.sslmode: 'allow' is not one of disable, require, verify-ca, verify-full"
                " (engine mariadb)"
            ],
        ),
        (
            {"host": "db", "name": "d", "user": "u", "sslmode": "verify"},
            [
                "app_database.sslmode: 'verify' is not one of disable, allow, prefer, require, verify-ca,"
                " verify-full (engine postgresql)"
            ],
        ),
        (
            {"engine": "mariadb", "host": "db", "name": "d", "user": "u", "port": 0},
            ["app_database.port: 0 is not a port from 1 to 65535"],
        ),
    ],
)
def test_engine_errors(valid, database, expected):
    valid["database"] = database
    model = app_model(valid, inventory_hosts=["lb1", "db"])
    assert (model["errors"], model["database_url"]) == (expected, "")


@pytest.mark.parametrize("sslmode", ["allow", "prefer"])
def test_opportunistic_sslmodes_stay_with_postgresql(valid, sslmode):
    valid["database"] = {"host": "db", "name": "d", "user": "u", "sslmode": sslmode}
    model = app_model(valid, inventory_hosts=["lb1", "db"])
    assert (model["errors"], model["database_url"]) == ([], f"postgresql://u@db:5432/d?sslmode={sslmode}")
