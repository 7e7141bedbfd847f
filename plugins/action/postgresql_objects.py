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

from ansible.plugins.action import ActionBase
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
    PROBE,
    build_command,
    interpreter,
    parse_answer,
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


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        validation, params = self.validate_argument_spec(argument_spec=ARGUMENTS)
        del validation
        normalize_grants(params["grants"])
        command = build_command(
            interpreter(task_vars, self._templar),
            PROBE.read(),
            {"program": POSTGRESQL_READER.read(), "argv": [json.dumps(read_request(params))]},
        )
        done = self._low_level_execute_command(command, sudoable=True)
        answer, error = parse_answer(done.get("rc"), done.get("stdout", ""), done.get("stderr", ""))
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
