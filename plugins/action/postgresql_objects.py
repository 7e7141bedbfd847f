# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of groundwork.server.postgresql_objects: a no-op decided without a module run.

It reads the cluster with one command (plugin_utils/_postgresql_reader.py, sent like
groundwork.server.host_info's inspections), plans on the controller with the module's own
planner (module_utils/_postgresql/core.py), and runs the module only when the plan changes
something, or when the read failed (the module then reports why). The stored SCRAM
verifiers the plan compares passwords with stay inside this plugin: they are neither
returned nor shown.
"""

from __future__ import annotations

import json

from ansible_collections.groundwork.server.plugins.module_utils._postgresql.core import (
    ARGUMENTS,
    CLUSTER_QUERY,
    DatabaseState,
    database_script,
    describe,
    describe_declared,
    normalize_grants,
    plan,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import (
    POSTGRESQL_READER,
    ProbeAction,
    read_host,
)


def read_request(params):
    """What the reader needs: the cluster query and a script per declared database."""
    declared = [db["name"] for db in params["databases"] if db["state"] == "present"]
    return {
        "port": params["port"],
        "cluster": CLUSTER_QUERY,
        "databases": {name: database_script([name]) for name in declared},
    }


def decide(params, answer):
    """The plan from what the reader printed, and the module's result for an unchanged cluster."""
    cluster = answer["cluster"]
    states = {state["database"]: DatabaseState(state) for state in answer["states"]}
    todo = plan(params["roles"], params["databases"], params["grants"], cluster, states)
    result = {
        "changed": False,
        "changes": [],
        "diff": {
            "before": describe(params["roles"], params["databases"], params["grants"], cluster, states),
            "after": describe_declared(
                params["roles"], params["databases"], params["grants"], cluster, states
            ),
        },
    }
    if todo.warnings:
        result["warnings"] = list(todo.warnings)
    return todo, result


class ActionModule(ProbeAction):
    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, params = self.start(tmp, task_vars, ARGUMENTS)
        normalize_grants(params["grants"])
        answer, error = read_host(
            self,
            task_vars,
            {"program": POSTGRESQL_READER.read(), "argv": [json.dumps(read_request(params))]},
        )
        info = (answer or {}).get("info") or {}
        if error is None and "cluster" in info:
            todo, unchanged = decide(params, info)
            if not todo.changed:
                result.update(unchanged)
                return result
        # Something to change, or nothing could be read: the module reads, plans and applies
        # (or says what failed) itself.
        result.update(self._execute_module(module_args=self._task.args, task_vars=task_vars))
        return result
