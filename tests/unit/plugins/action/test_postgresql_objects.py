# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugin of postgresql_objects decides a no-op on the controller, with the
module's own planner, and never lets the stored verifiers out."""

from __future__ import annotations

import json
import subprocess
import sys

from ansible_collections.groundwork.server.plugins.action.postgresql_objects import decide, read_request
from ansible_collections.groundwork.server.plugins.module_utils._postgresql.core import (
    CLUSTER_QUERY,
    database_script,
    normalize_grants,
    scram_verifier,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import POSTGRESQL_READER

PASSWORD = "correct horse"


def params(password=PASSWORD):
    return {
        "port": 5433,
        "roles": [{"name": "shop", "password": password, "login": True, "member_of": [], "state": "present"}],
        "databases": [
            {
                "name": "shop",
                "owner": "shop",
                "encoding": "UTF8",
                "locale": "C.UTF-8",
                "extensions": [],
                "state": "present",
            },
            {
                "name": "gone",
                "owner": "postgres",
                "encoding": "UTF8",
                "locale": "C.UTF-8",
                "extensions": [],
                "state": "absent",
            },
        ],
        "grants": normalize_grants(
            [
                {
                    "role": "shop",
                    "database": "shop",
                    "on": "database",
                    "schema": "public",
                    "privileges": ["connect"],
                    "state": "present",
                }
            ]
        ),
    }


VERIFIER = scram_verifier(PASSWORD)
CLUSTER = {
    "roles": [
        {"name": "postgres", "login": True, "password": None, "member_of": []},
        {"name": "shop", "login": True, "password": VERIFIER, "member_of": []},
    ],
    "databases": [
        {"name": "postgres", "owner": "postgres", "encoding": "UTF8", "locale": "C.UTF-8"},
        {"name": "shop", "owner": "shop", "encoding": "UTF8", "locale": "C.UTF-8"},
    ],
}
STATE = {
    "database": "shop",
    "extensions": ["plpgsql"],
    "schemas": ["public"],
    "totals": [["database", "", 1], ["schema", "public", 1]],
    "acl": [
        ["database", "", "shop", "CONNECT", 1],
        ["database", "", "shop", "CREATE", 1],
        ["database", "", "shop", "TEMPORARY", 1],
        ["schema", "public", "shop", "USAGE", 1],
    ],
}


def test_the_reader_gets_the_module_queries_for_the_declared_databases_only():
    request = read_request(params())
    assert request == {
        "port": 5433,
        "cluster": CLUSTER_QUERY,
        "databases": {"shop": database_script(["shop"])},
    }


def test_an_unchanged_cluster_needs_no_module_run_and_shows_no_verifier():
    todo, result = decide(params(), {"cluster": CLUSTER, "states": [STATE]})
    assert not todo.changed, todo.changes
    assert result["changed"] is False and result["changes"] == []
    assert set(result["diff"]) == {"before", "after"}
    assert VERIFIER not in json.dumps(result) and PASSWORD not in json.dumps(result)


def test_another_password_is_a_change_for_the_module():
    todo, _result = decide(params("another one"), {"cluster": CLUSTER, "states": [STATE]})
    assert todo.changed
    assert any("password" in change for change in todo.changes)


def test_a_missing_grant_is_a_change_for_the_module():
    state = {**STATE, "acl": [a for a in STATE["acl"] if a[3] != "CONNECT"]}
    todo, _result = decide(params(), {"cluster": CLUSTER, "states": [state]})
    assert todo.changed


def test_the_reader_program_reports_psql_failures_as_an_answer(tmp_path):
    # runuser/psql do not exist here (or fail): the answer says so, and the plugin runs the module
    request = json.dumps({"port": 1, "cluster": "SELECT 1", "databases": {}})
    done = subprocess.run(
        [sys.executable, POSTGRESQL_READER.path, request],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    answer = json.loads(done.stdout)
    assert set(answer) == {"error"} and answer["error"]
