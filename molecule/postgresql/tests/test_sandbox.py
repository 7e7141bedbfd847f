# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cluster's unit runs in the sandbox of its systemd drop-in, rated 5.0 or less by
systemd-analyze; the server still reloads (the renewal hook), serves the app over TLS, runs
parallel queries (shared memory) and is backed up; a changed drop-in is put back
and restarts the server, once."""

from __future__ import annotations

import pytest
import testlib
from conftest import local_sql, psql, run_playbook, scenario_variables

pytest.register_assert_rewrite("sandboxlib")
import sandboxlib  # noqa: E402


@pytest.fixture(scope="module")
def unit(db):
    """Debian's unit of the cluster "main" of the installed release (postgresql@15-main, @17-main)."""
    output = db.check_output("systemctl list-units --plain --no-legend --all 'postgresql@*-main.service'")
    return output.split()[0]


def test_the_cluster_runs_in_its_sandbox(db, unit):
    assert sandboxlib.assert_sandboxed(db, unit) <= sandboxlib.LIMIT


def test_the_renewal_hook_reloads_the_sandboxed_server(db, unit):
    loaded = local_sql(db, "SELECT pg_conf_load_time()")
    sandboxlib.assert_hook_keeps_the_sandboxed_master(db, unit, "/etc/groundwork/tls/hooks/db.d/postgresql")
    assert local_sql(db, "SELECT pg_conf_load_time()") != loaded


def test_parallel_workers_work_in_the_sandbox(db):
    # dynamic shared memory (/dev/shm in the private /dev) for the workers
    plan = local_sql(
        db,
        "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"
        " SET min_parallel_table_scan_size = 0;"
        " EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM pg_class a, pg_class b",
    )
    assert "Workers Launched: 2" in plan, plan


def test_a_changed_drop_in_is_put_back_with_one_restart(db, app, unit, tmp_path):
    sandboxlib.assert_changed_drop_in_put_back(
        db, unit, "PostgreSQL", lambda: run_playbook(scenario_variables(), tmp_path)
    )
    assert psql(app, "SELECT 1").stdout.strip() == "1"
    db.check_output("systemctl start groundwork-postgresql-backup.service")
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0 and testlib.recap_changed(output, "pg-db") == 0, output
