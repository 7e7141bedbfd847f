# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes made by hand on a converged server are found and put back: an edited configuration
file, a variable set live, a changed password, an extra privilege."""

from __future__ import annotations

from conftest import (
    CONFIG,
    client,
    grants,
    local_sql,
    run_playbook,
    scenario_variables,
    snapshot,
    testlib,
    variables,
)


def test_changes_by_hand_are_put_back(db, app, app_address, tmp_path):
    before = {"files": snapshot(db)["files"], "report": grants(db, "report", app_address)}
    db.check_output(f"echo 'max_allowed_packet = 1M' >> {CONFIG}")
    local_sql(
        db,
        "SET GLOBAL max_connections = 77;"
        f" ALTER USER 'shop'@'{app_address}' IDENTIFIED BY 'changed-by-hand';"
        f" GRANT INSERT ON shop.* TO 'report'@'{app_address}'",
    )
    assert client(app, "SELECT 1").rc != 0  # the declared password no longer works
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    assert testlib.recap_changed(output, "md-db") > 0, output
    assert snapshot(db)["files"] == before["files"]
    assert variables(db, "max_connections") == {"max_connections": "70"}
    assert grants(db, "report", app_address) == before["report"]
    assert client(app, "SELECT 1").rc == 0
    rc, output = run_playbook(scenario_variables(), tmp_path)
    assert rc == 0, output
    assert testlib.recap_changed(output, "md-db") == 0, output
