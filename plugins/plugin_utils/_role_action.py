# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one shape of a role's decision, run by the action plugin groundwork.server.role_plan:

1. validate: the role's variables against its model (controller, touches nothing); any
   problem fails the task here, before the host is contacted;
2. inspect: one command on the host, the shared probe library (plugin_utils/_host_probe.py)
   with the role's own probe (plugin_utils/_probes/<role>.py);
3. plan: ``Plan`` from the model and the inspection, on the controller.

One inspection per host per run: ``step: inspect`` with ``roles`` (playbooks/site.yml's
first play) validates every role that will run on the host, merges what they will ask and
reads it with one command, kept as the host fact ``groundwork_inspection``. A role then
plans from it when it covers the role's request; a role whose plan changes something
clears it, so the roles after it read the host anew.

Each role is a module ``plugins/plugin_utils/_<role>_role.py`` with three functions::

    validate(inputs, context) -> (model, [problem])   # inputs: the play's variables, templated on access
    request(model, context) -> {"files", "dirs", "packages", "units", "probe": <args of its probe>} or None
    plan(model, inspection, context) -> Plan          # context.render / context.read_file for templates
    validated(model, context) -> dict                 # optional: what ``step: validate`` returns

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
from ansible.plugins.loader import lookup_loader
from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import ProbeAction, read_host

PACKAGE = "ansible_collections.groundwork.server.plugins.plugin_utils"
PROBES_DIR = os.path.join(os.path.dirname(__file__), "_probes")
ROLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "roles")
# The host fact that keeps the run's inspection of a host (step "inspect"), for the roles
# after it. A role whose plan changes something clears it: what it changes, the next role
# reads anew.
CACHE_FACT = "groundwork_inspection"
REQUEST_KEYS = ("files", "dirs", "packages", "units")
# The roles that decide through this action; each has plugin_utils/_<role>_role.py.
ROLES = ("base", "firewall", "tls", "nginx", "apache", "postgresql", "mariadb", "app")
_SOURCES = {}
# Keys of a registered result that ansible-core deprecates and warns about whenever they are
# read, templating the whole result included: a loop without items records skipped_reason
# next to skip_reason (deprecated in 2.21). No model reads them; Inputs leaves them out.
DEPRECATED_RESULT_KEYS = frozenset({"skipped_reason"})


def probe_source(name):
    """The source of a role's probe (plugin_utils/_probes/<name>.py), read once per process."""
    if name not in _SOURCES:
        with open(os.path.join(PROBES_DIR, f"{name}.py"), encoding="utf-8") as handle:
            _SOURCES[name] = handle.read()
    return _SOURCES[name]


def role_module(name):
    return importlib.import_module(f"{PACKAGE}._{name}_role")


class Inputs(Mapping):
    """The play's variables, each templated when a model reads it (and only then). Outside
    the role (the run's first inspection, ``step: inspect``) the role's defaults and
    constants fill in what the play does not set, as they would inside it."""

    def __init__(self, templar, task_vars, fallback=None):
        self._templar = templar
        self._vars = task_vars
        self._fallback = fallback or {}
        self._cache = {}

    def __getitem__(self, name):
        if name not in self._cache:
            if name in self._vars:
                value = self._vars[name]
            elif name in self._fallback:
                value = self._fallback[name]
            else:
                raise KeyError(name)
            if isinstance(value, Mapping) and not DEPRECATED_RESULT_KEYS.isdisjoint(value):
                value = {key: item for key, item in value.items() if key not in DEPRECATED_RESULT_KEYS}
            self._cache[name] = self._templar.template(value)
        return self._cache[name]

    def __contains__(self, name):
        return name in self._vars or name in self._fallback

    def __iter__(self):
        return iter({**self._fallback, **dict.fromkeys(self._vars)})

    def __len__(self):
        return len(set(self._vars) | set(self._fallback))


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


def run_id():
    """This run of ansible-playbook: the process the workers are forked from, and when it
    started (a fact cache that outlives the run must not serve the next run)."""
    parent = os.getppid()
    try:
        with open(f"/proc/{parent}/stat", encoding="ascii") as handle:
            started = handle.read().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        started = ""
    return f"{parent}:{started}"


def merge_requests(requests):
    """One request for several roles: {role: request} -> the union, each role's probe by name."""
    merged = {key: [] for key in REQUEST_KEYS}
    probes = {}
    for role, request in sorted(requests.items()):
        for key in REQUEST_KEYS:
            merged[key].extend(item for item in request.get(key) or [] if item not in merged[key])
        if request.get("probe") is not None:
            probes[role] = {"source": probe_source(role), "args": request["probe"]}
    merged["probes"] = probes
    return merged


def from_cache(cache, role, request):
    """The part of a cached inspection that answers ``request``, or None when it does not
    cover all of it (then the role inspects the host itself)."""
    if not isinstance(cache, dict) or not isinstance(cache.get("answer"), dict):
        return None
    if cache.get("run") != run_id():
        return None
    answer = cache["answer"]
    asked = cache.get("args", {}).get(role)
    if request.get("probe") is not None and asked != request["probe"]:
        return None
    part = {"os": answer.get("os"), "info": None}
    for key in REQUEST_KEYS:
        have = answer.get(key) or {}
        if any(item not in have for item in request.get(key) or []):
            return None
        part[key] = {item: have[item] for item in request.get(key) or []}
    part["probes"] = (
        {role: (answer.get("probes") or {}).get(role)} if request.get("probe") is not None else {}
    )
    part["probe"] = part["probes"].get(role)
    return part


def role_fallback(loader, name):
    """The role's defaults and constants (defaults/main.yml, vars/main.yml), for a decision
    made outside the role."""
    values = {}
    for part in ("defaults", "vars"):
        path = os.path.normpath(os.path.join(ROLES_DIR, name, part, "main.yml"))
        if os.path.exists(path):
            try:
                data = loader.load_from_file(path, trusted_as_template=True)
            except TypeError:  # ansible-core before 2.19 trusts every file it loads
                data = loader.load_from_file(path)
            values.update(data or {})
    return values


def tier_roles(task_vars, templar):
    """The roles that serve the tiers this host is in (contracts: groups and choices)."""
    names = []
    host = task_vars.get("inventory_hostname")
    groups = task_vars.get("groups") or {}
    for tier in contracts.TIERS:
        group = templar.template(task_vars.get(tier["group_var"])) or tier["group"]
        if host not in (groups.get(group) or []):
            continue
        choice = templar.template(task_vars.get(tier["choice_var"])) if tier["choice_var"] else None
        name, problem = contracts.choose_server(tier["tier"], choice)
        if problem is None and name in ROLES and name not in names:
            names.append(name)
    return names


ARGUMENT_SPEC = {
    "role": {"type": "str", "choices": list(ROLES)},
    "roles": {"type": "list", "elements": "str", "choices": list(ROLES), "default": []},
    "tiers": {"type": "bool", "default": False},
    "step": {"type": "str", "choices": ["plan", "validate", "inspect"], "default": "plan"},
}


class RoleAction(ProbeAction):
    def inspect(self, role, request, task_vars):
        """The answer (os, files, dirs, packages, units, probe): from the run's inspection of
        this host when it covers the request, else one command on the host."""
        cached = from_cache((task_vars.get("ansible_facts") or {}).get(CACHE_FACT), role, request)
        if cached is not None:
            return cached
        answer = self.read_host(merge_requests({role: request}), task_vars)
        answer["probe"] = answer["probes"].get(role)
        return answer

    def read_host(self, args, task_vars):
        answer, error = read_host(self, task_vars, args)
        if error:
            raise AnsibleError(error)
        return answer

    def inspect_for(self, names, task_vars):
        """Step "inspect": one command that reads what every role of ``names`` will ask on
        this host, kept as a host fact for them. A role whose input does not validate here is
        left out: it reports its problems itself, before it changes anything."""
        requests = {}
        left_out = {}
        for name in names:
            try:
                role = role_module(name)
                context = Context(self, task_vars, self._task.check_mode)
                inputs = Inputs(self._templar, task_vars, role_fallback(self._loader, name))
                model, problems = role.validate(inputs, context)
                request = None if problems else role.request(model, context)
                if problems:
                    left_out[name] = "its input has problems (the role reports them)"
                elif request is None:
                    left_out[name] = "it reads nothing from this host at this step"
                else:
                    requests[name] = request
            except Exception as exc:  # a role that cannot decide here decides itself later
                left_out[name] = f"{type(exc).__name__}: {exc}"
        if not requests:
            return {"changed": False, "roles": [], "left_out": left_out}
        merged = merge_requests(requests)
        answer = self.read_host(merged, task_vars)
        cache = {
            "run": run_id(),
            "answer": answer,
            "args": {name: request.get("probe") for name, request in requests.items()},
        }
        return {
            "changed": False,
            "roles": sorted(requests),
            "left_out": left_out,
            "ansible_facts": {CACHE_FACT: cache},
        }

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result, args = self.start(
            tmp,
            task_vars,
            ARGUMENT_SPEC,
            required_if=[["step", "plan", ["role"]], ["step", "validate", ["role"]]],
        )
        if args["step"] == "inspect":
            names = list(args["roles"])
            if args["tiers"]:
                names += [name for name in tier_roles(task_vars, self._templar) if name not in names]
            result.update(self.inspect_for(names, task_vars))
            return result
        role = role_module(args["role"])
        context = Context(self, task_vars, self._task.check_mode)
        model, problems = role.validate(Inputs(self._templar, task_vars), context)
        if problems:
            result["failed"] = True
            result["msg"] = "\n".join(problems)
            return result
        if args["step"] == "validate":
            # A role may return values from its validation (e.g. the hosts a later task asks).
            validated = getattr(role, "validated", None)
            if validated is not None:
                result.update(validated(model, context))
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
        if plan.changes:
            # The applying tasks change this host: the roles after this one read it anew.
            result["ansible_facts"] = {CACHE_FACT: {}}
        if plan.secret:
            result["_ansible_no_log"] = True
        return result
