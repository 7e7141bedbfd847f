# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one shape of a role's decision, as the base of each role's action plugin
(``plugins/action/<role>_plan.py``):

1. validate: the role's variables against its model (controller, touches nothing); any
   problem fails the task here, before the host is contacted;
2. inspect: one command on the host, the shared probe library (plugin_utils/_host_probe.py)
   with the role's own probe (plugin_utils/_probes/<role>.py);
3. plan: ``plan(model, inspection) -> Plan``, pure Python on the controller.

The task's result is the plan: ``changes`` (kind, target, reason), ``summary`` (one line a
change), ``kinds``, and whatever the applying tasks need (``Plan.data``). The task never
reports a change itself (it changes nothing); the applying tasks do. A plan that carries
secrets (file contents with passwords) is hidden from the output like ``no_log``, except
its summary, which a separate task shows.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._role_action import RoleAction
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import (
    PROBE,
    build_command,
    interpreter,
    parse_answer,
)

PROBES_DIR = os.path.join(os.path.dirname(__file__), "_probes")
_SOURCES = {}


def probe_source(name):
    """The source of a role's probe (plugin_utils/_probes/<name>.py), read once per process."""
    if name not in _SOURCES:
        with open(os.path.join(PROBES_DIR, f"{name}.py"), encoding="utf-8") as handle:
            _SOURCES[name] = handle.read()
    return _SOURCES[name]


class Inputs(Mapping):
    """The play's variables, each templated when a model reads it (and only then)."""

    def __init__(self, templar, task_vars):
        self._templar = templar
        self._vars = task_vars
        self._cache = {}

    def __getitem__(self, name):
        if name not in self._cache:
            self._cache[name] = self._templar.template(self._vars[name])
        return self._cache[name]

    def __iter__(self):
        return iter(self._vars)

    def __len__(self):
        return len(self._vars)


class Context:
    """Where the decision is made: this host, the inventory, and the run's mode."""

    def __init__(self, task_vars, check_mode):
        self.host = task_vars.get("inventory_hostname")
        self.groups = task_vars.get("groups") or {}
        self.hostvars = task_vars.get("hostvars") or {}
        self.check_mode = bool(check_mode)


class RoleAction(ActionBase):
    """Subclasses set ROLE and implement validate, request and plan."""

    ROLE = ""
    TRANSFERS_FILES = False
    _requires_connection = True
    # Read-only: it decides in check mode exactly as in a real run.
    _supports_check_mode = True
    _supports_async = False

    # --- what a role implements -------------------------------------------------------
    def validate(self, inputs, context):
        """(model, [problem]) from the role's variables; touches nothing."""
        raise NotImplementedError

    def request(self, model, context):
        """What to read on the host: {files, dirs, packages, units, probe: <args of the role's probe>}."""
        raise NotImplementedError

    def plan(self, model, inspection, context):
        """The Plan from the model and the inspection; pure."""
        raise NotImplementedError

    # --- shared machinery ----------------------------------------------------------------
    def inspect(self, request, task_vars):
        """One command on the host; the answer (os, files, dirs, packages, units, probe)."""
        args = {key: request.get(key) or [] for key in ("files", "dirs", "packages", "units")}
        if "probe" in request:
            args["probes"] = {self.ROLE: {"source": probe_source(self.ROLE), "args": request["probe"]}}
        command = build_command(interpreter(task_vars, self._templar), PROBE.read(), args)
        done = self._low_level_execute_command(command, sudoable=True)
        answer, error = parse_answer(done.get("rc"), done.get("stdout", ""), done.get("stderr", ""))
        if error:
            raise AnsibleError(error)
        answer["probe"] = answer["probes"].get(self.ROLE)
        return answer

    def render(self, template, task_vars, **extra):
        """A template of the role (templates/<template>) rendered with the play's variables
        and ``extra``, as the ansible.builtin.template lookup renders it."""
        path = self._find_needle("templates", template)
        lookup = lookup_loader.get("ansible.builtin.template", loader=self._loader, templar=self._templar)
        variables = dict(task_vars)
        variables.update(extra)
        return lookup.run([path], variables=variables)[0]

    def read_file(self, name):
        """A file of the role (files/<name>) as text."""
        with open(self._find_needle("files", name), encoding="utf-8") as handle:
            return handle.read()

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        self._task_vars = task_vars
        context = Context(task_vars, self._task.check_mode)
        model, problems = self.validate(Inputs(self._templar, task_vars), context)
        result["changed"] = False
        if problems:
            result["failed"] = True
            result["msg"] = "\n".join(problems)
            return result
        if self._task.args.get("step") == "validate":
            return result
        plan = self.plan(model, self.inspect(self.request(model, context), task_vars), context)
        if plan.problems:
            result["failed"] = True
            result["msg"] = "\n".join(plan.problems)
            return result
        result.update(plan.result())
        if plan.secret:
            result["_ansible_no_log"] = True
        return result
