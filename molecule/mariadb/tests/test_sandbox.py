# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mariadb.service runs in the sandbox of its systemd drop-in, rated 5.0 or less by
systemd-analyze; the server still takes a renewed certificate through the hook without a
restart (test_mariadb.py), matches REGEXP, serves the app over TLS and is backed up; a changed
drop-in is put back and restarts the server, once."""

from __future__ import annotations

import pytest
import testlib
from conftest import BACKUP_UNIT, HOOK, client, local_sql, run_playbook, scenario_variables

pytest.register_assert_rewrite("sandboxlib")
import sandboxlib  # noqa: E402

UNIT = "mariadb.service"


def test_mariadb_runs_in_its_sandbox(db):
    assert sandboxlib.assert_sandboxed(db, UNIT) <= sandboxlib.LIMIT


def test_the_renewal_hook_runs_against_the_sandboxed_server(db):
    sandboxlib.assert_hook_keeps_the_sandboxed_master(db, UNIT, HOOK)


def test_regular_expressions_work_without_writable_code(db):
    # no MemoryDenyWriteExecute in the drop-in: PCRE2 may compile patterns to machine code
    assert local_sql(db, "SELECT 'groundwork-42' REGEXP '^[a-z]+-[0-9]+$'") == "1"


def test_a_changed_drop_in_is_put_back_with_one_restart(db, app, tmp_path):
    sandboxlib.assert_changed_drop_in_put_back(
        db, UNIT, "MariaDB", lambda: run_playbook(scenario_variables(), tmp_path)
    )
    assert client(app, "SELECT 1").rc == 0
    db.check_output(f"systemctl start {BACKUP_UNIT}.service")
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0 and testlib.recap_changed(output, "md-db") == 0, output
