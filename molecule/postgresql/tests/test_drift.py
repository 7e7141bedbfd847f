# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes made by hand on a converged server are found and put back: an edited pg_hba.conf,
a changed password, a revoked privilege."""

from __future__ import annotations

from conftest import local_sql, psql, run_playbook, scenario_variables, snapshot, testlib

testinfra_hosts = ["ansible://pg-db"]


def test_edited_configuration_and_objects_are_put_back(host, app, tmp_path):
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    before = snapshot(host)["files"]
    host.run("echo '# edited by hand' >> /etc/postgresql/*/main/pg_hba.conf")
    local_sql(host, "ALTER ROLE shop PASSWORD 'changed-by-hand'")
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    assert testlib.recap_changed(output, "pg-db") > 0, output
    assert snapshot(host)["files"] == before
    # the declared password works again from the app server
    assert psql(app, "SELECT 1").rc == 0
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    assert testlib.recap_changed(output, "pg-db") == 0, output
