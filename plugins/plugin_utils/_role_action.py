# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one shape of a role's decision, run by the action plugin groundwork.server.role_plan:

1. validate: the role's variables against its model (controller, touches nothing); any
   problem fails the task here, before the host is contacted;
2. inspect: one command on the host, the shared probe library (plugin_utils/_host_probe.py)
   with the role's own probe (plugin_utils/_probes/<role>.py);
3. plan: ``Plan`` from the model and the inspection, on the controller.

Each role is a module ``plugins/plugin_utils/_<role>_role.py`` with three functions::

    validate(inputs, context) -> (model, [problem])   # inputs: the play's variables, templated on access
    request(model, context) -> {"files", "dirs", "packages", "units", "probe": <args of its probe>} or None
    plan(model, inspection, context) -> Plan          # context.render / context.read_file for templates

``plan`` composes pure functions (derived values, file specs, the changes), which the unit
tests call with tables; ``context.render`` is the only thing it does not compute itself.

The task's result is the plan: ``changes`` (kind, target, reason), ``summary`` (one line a
change), ``kinds``, ``problems`` and whatever the applying tasks need (``Plan.data``). The
task never reports a change itself (it changes nothing); the applying tasks do. A plan
that carries secrets (file contents with passwords) is hidden from the output like
``no_log``; the role shows its summary in a task of its own.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._role_action import RoleAction
"""

from __future__ import annotations

import importlib
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

PACKAGE = "ansible_collections.groundwork.server.plugins.plugin_utils"
PROBES_DIR = os.path.join(os.path.dirname(__file__), "_probes")
# The roles that decide through this action; each has plugin_utils/_<role>_role.py.
ROLES = ("base", "firewall", "tls", "nginx", "postgresql", "app")
_SOURCES = {}


def probe_source(name):
    """The source of a role's probe (plugin_utils/_probes/<name>.py), read once per process."""
    if name not in _SOURCES:
        with open(os.path.join(PROBES_DIR, f"{name}.py"), encoding="utf-8") as handle:
            _SOURCES[name] = handle.read()
    return _SOURCES[name]


def role_module(name):
    return importlib.import_module(f"{PACKAGE}._{name}_role")


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
    """Where the decision is made: this host, the inventory, the run's mode, and the role's
    templates and files."""

    def __init__(self, action, task_vars, check_mode):
        self._action = action
        self._task_vars = task_vars
        self.host = task_vars.get("inventory_hostname")
        self.groups = task_vars.get("groups") or {}
        self.hostvars = task_vars.get("hostvars") or {}
        self.check_mode = bool(check_mode)

    def render(self, template, **extra):
        """templates/<template> of the role, rendered with the play's variables and ``extra``
        as the ansible.builtin.template lookup renders it."""
        action = self._action
        path = action._find_needle("templates", template)
        lookup = lookup_loader.get("ansible.builtin.template", loader=action._loader, templar=action._templar)
        variables = dict(self._task_vars)
        variables.update(extra)
        return lookup.run([path], variables=variables)[0]

    def read_file(self, name):
        """files/<name> of the role, as text."""
        with open(self._action._find_needle("files", name), encoding="utf-8") as handle:
            return handle.read()


class RoleAction(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True
    # Read-only: it decides in check mode exactly as in a real run.
    _supports_check_mode = True
    _supports_async = False

    def inspect(self, role, request, task_vars):
        """One command on the host; the answer (os, files, dirs, packages, units, probe)."""
        args = {key: request.get(key) or [] for key in ("files", "dirs", "packages", "units")}
        if request.get("probe") is not None:
            args["probes"] = {role: {"source": probe_source(role), "args": request["probe"]}}
        command = build_command(interpreter(task_vars, self._templar), PROBE.read(), args)
        done = self._low_level_execute_command(command, sudoable=True)
        answer, error = parse_answer(done.get("rc"), done.get("stdout", ""), done.get("stderr", ""))
        if error:
            raise AnsibleError(error)
        answer["probe"] = answer["probes"].get(role)
        return answer

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(
            argument_spec={
                "role": {"type": "str", "required": True, "choices": list(ROLES)},
                "step": {"type": "str", "choices": ["plan", "validate"], "default": "plan"},
            }
        )
        role = role_module(args["role"])
        context = Context(self, task_vars, self._task.check_mode)
        model, problems = role.validate(Inputs(self._templar, task_vars), context)
        result["changed"] = False
        if problems:
            result["failed"] = True
            result["msg"] = "\n".join(problems)
            return result
        if args["step"] == "validate":
            return result
        request = role.request(model, context)
        # None: the decision needs no new look at the host (a role whose decision spans hosts
        # inspected them in an earlier step and gets that inspection as a plain variable).
        inspection = None if request is None else self.inspect(args["role"], request, task_vars)
        plan = role.plan(model, inspection, context)
        if plan.problems:
            result["failed"] = True
            result["msg"] = "\n".join(plan.problems)
            return result
        result.update(plan.result())
        if plan.secret:
            result["_ansible_no_log"] = True
        return result
