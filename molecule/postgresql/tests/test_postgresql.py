# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Behaviour of the converged database server, seen from the app server and the outsider."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from conftest import SHOP_PASSWORD, VARIABLES, local_sql, psql

ROOT = Path(__file__).resolve().parents[3]


def load_tune():
    # the filter's logic (the filter file itself imports it through the collection loader)
    spec = importlib.util.spec_from_file_location(
        "postgresql_tune", ROOT / "plugins/plugin_utils/_postgresql_tune.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.postgresql_tune


def test_app_reads_and_writes_over_tls_with_scram(app):
    result = psql(
        app,
        "CREATE TABLE IF NOT EXISTS items (id serial PRIMARY KEY, name text);"
        " INSERT INTO items (name) VALUES ('from the app');"
        " SELECT count(*) > 0 FROM items WHERE name = 'from the app';"
        " SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid();",
    )
    assert result.rc == 0, result.stderr
    lines = result.stdout.split()
    assert lines[0] == "t"
    assert re.fullmatch(r"t\|TLSv1\.[23]", lines[1])


def test_the_stored_password_is_a_scram_verifier(db):
    assert (
        local_sql(db, "SELECT rolpassword ~ '^SCRAM-SHA-256\\$' FROM pg_authid WHERE rolname = 'shop'") == "t"
    )


def test_a_wrong_password_is_refused(app):
    result = psql(app, "SELECT 1", password="wrong")  # noqa: S106 - a wrong password on purpose
    assert result.rc != 0
    assert 'password authentication failed for user "shop"' in result.stderr


def test_a_member_of_a_granted_group_reads_but_cannot_write(app):
    password = VARIABLES["__molecule_report_password"]
    assert psql(app, "SELECT count(*) FROM items", user="report", password=password).rc == 0
    result = psql(app, "INSERT INTO items (name) VALUES ('report')", user="report", password=password)
    assert result.rc != 0
    assert "permission denied" in result.stderr


def test_plain_connections_are_refused(app):
    result = psql(app, "SELECT 1", sslmode="disable")
    assert result.rc != 0
    assert "no pg_hba.conf entry" in result.stderr
    assert "no encryption" in result.stderr


def test_postgres_cannot_log_in_over_the_network(app, db):
    local_sql(db, "SELECT 1")  # the superuser works over the socket
    result = psql(app, "SELECT 1", user="postgres", password="x", sslmode="require", dbname="postgres")  # noqa: S106
    assert result.rc != 0
    assert "no pg_hba.conf entry" in result.stderr


def test_other_databases_are_closed_to_the_app(app):
    result = psql(app, "SELECT 1", dbname="postgres", sslmode="require")
    assert result.rc != 0
    assert "no pg_hba.conf entry" in result.stderr


def test_the_outsider_cannot_connect(outsider):
    result = psql(outsider, "SELECT 1", sslmode="require", password=SHOP_PASSWORD)
    assert result.rc != 0
    assert "no pg_hba.conf entry" in result.stderr


def test_tuned_settings_follow_the_memory_limit(db):
    memtotal_mb = (
        int(re.search(r"MemTotal:\s+(\d+)", db.file("/proc/meminfo").content_string).group(1)) // 1024
    )
    version = int(local_sql(db, "SHOW server_version_num")) // 10000
    expected = load_tune()(
        memtotal_mb, cgroup_memory=str(1024**3), cpus=int(db.check_output("nproc")), version=version
    )
    assert expected.pop("_memory_bytes") == 1024**3
    shown = {name: local_sql(db, f"SHOW {name}") for name in expected}
    assert shown == expected
    assert shown["shared_buffers"] == "256MB"


def test_security_settings(db):
    settings = {
        name: local_sql(db, f"SHOW {name}")
        for name in ("ssl", "ssl_min_protocol_version", "password_encryption", "listen_addresses")
    }
    assert settings == {
        "ssl": "on",
        "ssl_min_protocol_version": "TLSv1.2",
        "password_encryption": "scram-sha-256",
        "listen_addresses": "*",
    }
    rules = local_sql(db, "SELECT DISTINCT type || ' ' || auth_method FROM pg_hba_file_rules ORDER BY 1")
    assert rules.split("\n") == ["hostssl scram-sha-256", "local peer", "local scram-sha-256"]


def test_the_renewal_hook_reloads_postgresql(db):
    hook = db.file("/etc/groundwork/tls/hooks/db.d/postgresql")
    assert hook.mode == 0o755
    before = local_sql(db, "SELECT pg_postmaster_start_time()")
    reloads = local_sql(db, "SELECT pg_conf_load_time()")
    db.check_output(hook.path)
    assert local_sql(db, "SELECT pg_postmaster_start_time()") == before
    assert local_sql(db, "SELECT pg_conf_load_time()") != reloads


def test_a_backup_restores_into_a_fresh_database(db):
    local_sql(db, "INSERT INTO items (name) SELECT 'row ' || g FROM generate_series(1, 100) g", dbname="shop")
    db.check_output("systemctl start groundwork-postgresql-backup.service")
    directory = db.file("/var/backups/postgresql")
    assert (directory.user, directory.group, directory.mode) == ("postgres", "postgres", 0o700)
    dump = db.check_output("ls -1t /var/backups/postgresql/shop-*.dump | head -n 1")
    assert "backup of database shop" in db.check_output(
        "journalctl -u groundwork-postgresql-backup.service --no-pager -o cat"
    )
    local_sql(db, "DROP DATABASE IF EXISTS restored")
    local_sql(db, "CREATE DATABASE restored")
    db.check_output(f"runuser -u postgres -- pg_restore --no-owner -d restored {dump}")
    digest = "SELECT md5(string_agg(id || ':' || name, ',' ORDER BY id)) FROM items"
    assert local_sql(db, digest, dbname="restored") == local_sql(db, digest, dbname="shop")
    local_sql(db, "DROP DATABASE restored")


def test_backups_keep_the_newest_copies(db):
    db.check_output("sleep 1; systemctl start groundwork-postgresql-backup.service")
    db.check_output("sleep 1; systemctl start groundwork-postgresql-backup.service")
    assert len(db.check_output("ls -1 /var/backups/postgresql/shop-*.dump").split()) == 2


def test_a_failed_backup_fails_the_unit(db):
    result = db.run(
        "systemd-run --wait --quiet --unit gw-backup-fail -p User=postgres"
        " /usr/local/sbin/groundwork-postgresql-backup /var/backups/postgresql 2 5432 nosuchdb"
    )
    assert result.rc != 0
    assert "backup of database nosuchdb FAILED" in db.check_output(
        "journalctl -u gw-backup-fail --no-pager -o cat"
    )
    db.run("systemctl reset-failed gw-backup-fail")
