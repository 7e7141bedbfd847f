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

``step: decide`` (site.yml's first play, after the inspection) makes every role's decision
for the host at once, on the controller, from that inspection, returns which roles run and
puts the host into the groups of the plays that apply them (plugin_utils/_run_plan.py).

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
import json
import os
from collections.abc import Mapping

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.loader import lookup_loader
from ansible_collections.groundwork.server.plugins.action import postgresql_objects as objects_action
from ansible_collections.groundwork.server.plugins.module_utils import _contracts as contracts
from ansible_collections.groundwork.server.plugins.module_utils._postgresql import core as pg_core
from ansible_collections.groundwork.server.plugins.plugin_utils import _run_plan
from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import (
    POSTGRESQL_READER,
    ProbeAction,
    read_host,
)

PACKAGE = "ansible_collections.groundwork.server.plugins.plugin_utils"
PROBES_DIR = os.path.join(os.path.dirname(__file__), "_probes")
ROLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "roles")
# The host fact that keeps the run's inspection of a host (step "inspect"), for the roles
# after it. A role whose plan changes something clears it: what it changes, the next role
# reads anew.
CACHE_FACT = "groundwork_inspection"
REQUEST_KEYS = ("files", "dirs", "packages", "units")
# The roles that decide through this action; each has plugin_utils/_<role>_role.py.
ROLES = ("base", "firewall", "tls", "nginx", "apache", "postgresql", "mariadb", "app", "dns")
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


# Every role's module, imported with this one. ansible-core's strategy loads the class of a
# task's action plugin in the controller's main process (to read BYPASS_HOST_LOOP), and every
# worker forked for a task inherits what that process has imported: imported here, the roles'
# code is read and compiled once per run, not once per task and host (the collection loader
# keeps no bytecode).
ROLE_MODULES = {name: importlib.import_module(f"{PACKAGE}._{name}_role") for name in ROLES}


def role_module(name):
    return ROLE_MODULES[name]


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

    def __init__(self, action, task_vars, check_mode, role=None):
        self._action = action
        self._task_vars = task_vars
        self.host = task_vars.get("inventory_hostname")
        self.groups = task_vars.get("groups") or {}
        self.hostvars = task_vars.get("hostvars") or {}
        self.check_mode = bool(check_mode)
        # Outside the role (step "decide"): its files are found in the collection's roles/<role>.
        self._role_dir = None if role is None else os.path.normpath(os.path.join(ROLES_DIR, role))

    def _find(self, kind, name):
        if self._role_dir is not None:
            return os.path.join(self._role_dir, kind, name)
        return self._action._find_needle(kind, name)

    def render(self, template, **extra):
        """templates/<template> of the role, rendered with the play's variables and ``extra``
        as the ansible.builtin.template lookup renders it."""
        action = self._action
        path = self._find("templates", template)
        lookup = lookup_loader.get("ansible.builtin.template", loader=action._loader, templar=action._templar)
        variables = dict(self._task_vars)
        variables.update(extra)
        return lookup.run([path], variables=variables)[0]

    def read_file(self, name):
        """files/<name> of the role, as text."""
        with open(self._find("files", name), encoding="utf-8") as handle:
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


def role_file(loader, name, part):
    """roles/<name>/<part>/main.yml of the collection as a dict (empty when absent)."""
    path = os.path.normpath(os.path.join(ROLES_DIR, name, part, "main.yml"))
    if not os.path.exists(path):
        return {}
    try:
        data = loader.load_from_file(path, trusted_as_template=True)
    except TypeError:  # ansible-core before 2.19 trusts every file it loads
        data = loader.load_from_file(path)
    return dict(data or {})


def role_fallback(loader, name):
    """The role's defaults and constants (defaults/main.yml, vars/main.yml), for a decision
    made outside the role."""
    return {**role_file(loader, name, "defaults"), **role_file(loader, name, "vars")}


def role_variables(loader, name, task_vars):
    """The variables the role sees when it runs in this play: its defaults under the play's,
    its constants (vars/main.yml) over them, as Ansible's precedence puts them."""
    return {**role_file(loader, name, "defaults"), **task_vars, **role_file(loader, name, "vars")}


def host_tiers(task_vars, templar):
    """({tier: role name}, [problems]) for the tiers this host is in (contracts: groups and
    choices); a tier whose choice is not a role of the collection is a problem."""
    tiers, problems = {}, []
    host = task_vars.get("inventory_hostname")
    groups = task_vars.get("groups") or {}
    for tier in contracts.TIERS:
        group = templar.template(task_vars.get(tier["group_var"])) or tier["group"]
        if host not in (groups.get(group) or []):
            continue
        choice = templar.template(task_vars.get(tier["choice_var"])) if tier["choice_var"] else None
        name, problem = contracts.choose_server(tier["tier"], choice)
        if problem is not None:
            problems.append(problem)
        elif name in ROLES:
            tiers[tier["tier"]] = name
    return tiers, problems


def optional_roles(loader, task_vars, templar):
    """([role names], [problems]): the roles of _run_plan.OPTIONAL that site.yml applies in
    this inventory. groundwork.server.dns by groundwork_dns (_run_plan.dns_wanted), with its
    defaults under the play's variables (dns_servers_group, dns_primary, dns_mode)."""
    variables = role_variables(loader, "dns", task_vars)
    groups = task_vars.get("groups") or {}
    group = templar.template(variables.get("dns_servers_group"))
    servers = list(groups.get(group) or []) if isinstance(group, str) else []
    primary = templar.template(variables.get("dns_primary"))
    wanted, problem = _run_plan.dns_wanted(
        templar.template(task_vars.get(_run_plan.DNS_VAR)),
        servers + ([primary] if isinstance(primary, str) and primary else []),
        templar.template(variables.get("dns_mode")),
    )
    return (["dns"] if wanted else []), ([problem] if problem else [])


def tier_roles(task_vars, templar):
    """The roles that serve the tiers this host is in (contracts: groups and choices)."""
    names = []
    for name in host_tiers(task_vars, templar)[0].values():
        if name not in names:
            names.append(name)
    return names


ARGUMENT_SPEC = {
    "role": {"type": "str", "choices": list(ROLES)},
    "roles": {"type": "list", "elements": "str", "choices": list(ROLES), "default": []},
    "tiers": {"type": "bool", "default": False},
    "step": {"type": "str", "choices": ["plan", "validate", "inspect", "decide"], "default": "plan"},
}
# Roles that decide in two steps of the same action (tasks/decide.yml): the first step's
# result is the variable the second step reads.
SECOND_STEP = {"firewall": "__firewall_inspection"}
# The step 1 variables a second step reads besides, as tasks/decide.yml registers them when
# nothing outside the play has to be read.
SECOND_STEP_EXTRA = {"firewall": {"__firewall_outside": []}}
NOT_COVERED = "the run's inspection does not answer what it asks (it reads the server when it runs)"
UNDECIDED = "it cannot be decided before it runs"
NOT_APPLIED = "site.yml does not apply it in this inventory (groundwork_dns)"


def deferred(name, model):
    """Why a role's decision waits until it runs, or None: what it reads then is not in the
    run's inspection (a CA on another host, the addresses of hosts outside the play)."""
    if not isinstance(model, dict):
        return None
    settings = model.get("settings") or {}
    if name == "tls" and not settings.get("ca_local", True) and settings.get("inventory_wants_ca"):
        return "the internal CA lives on another host (the role reads it when it runs)"
    if name == "dns" and settings.get("dnssec"):
        return "the resolvers trust the zone's keys on the primary (the role reads them when it runs)"
    if name == "firewall" and model.get("step") == "inspect" and model.get("outside"):
        return "its flows name hosts outside the play (the role reads them when it runs)"
    return None


def postgresql_objects_differ(action, data, variables, templar, task_vars):
    """Whether the roles, databases and privileges differ from the plan's (the comparison of
    groundwork.server.postgresql_objects: one read of the cluster, planned on the controller)."""
    # The module's own argument spec, reader and planner.
    port = templar.template(variables.get("postgresql_port", 5432))
    checked = ArgumentSpecValidator(pg_core.ARGUMENTS).validate(
        {"port": port, "roles": data["roles"], "databases": data["databases"], "grants": data["grants"]}
    )
    if checked.error_messages:
        return "its roles, databases or grants do not pass the module's checks (the role reports them)"
    params = checked.validated_parameters
    pg_core.normalize_grants(params["grants"])
    answer, error = read_host(
        action,
        task_vars,
        {"program": POSTGRESQL_READER.read(), "argv": [json.dumps(objects_action.read_request(params))]},
    )
    info = (answer or {}).get("info") or {}
    if error is not None or "cluster" not in info:
        return "the cluster could not be read (the role reports why)"
    todo, _result = objects_action.decide(params, info)
    return "roles, databases or privileges differ" if todo.changed else None


def mariadb_objects_differ(action, data, variables, templar, task_vars):
    """Whether the users, databases and privileges differ (groundwork.server.mariadb_objects in
    check mode, as the role's plan entry point compares them)."""
    del variables, templar
    args = {
        "socket": data["socket"],
        "users": data["users"],
        "databases": data["databases"],
        "grants": data["grants"],
    }
    check_mode = action._task.check_mode
    action._task.check_mode = True
    try:
        result = action._execute_module(
            module_name="groundwork.server.mariadb_objects", module_args=args, task_vars=task_vars
        )
    finally:
        action._task.check_mode = check_mode
    if result.get("failed"):
        return "its users, databases and privileges could not be compared (the role reports why)"
    return "users, databases or privileges differ" if result.get("changed") else None


def apt_cache_valid_time(roles, task_vars, templar, default=3600):
    """How old apt's package lists may be for the installation of every role's packages: the
    least of what the roles that install allow (``<role>_apt_cache_valid_time``)."""
    found = []
    for name in roles:
        value = templar.template(task_vars.get(f"{name}_apt_cache_valid_time", default))
        try:
            found.append(int(value))
        except (TypeError, ValueError):
            found.append(0)
    return max(0, min(found, default=default))


# Roles whose objects inside the server are compared apart from the plan (their "plan"
# entry point does so when the plan lists no change).
OBJECTS = {"postgresql": postgresql_objects_differ, "mariadb": mariadb_objects_differ}


class RoleAction(ProbeAction):
    def inspect(self, role, request, task_vars):
        """The answer (os, files, dirs, packages, units, probe): from the run's inspection of
        this host when it covers the request, else one command on the host. A delegated task
        reads the host it is delegated to (the facts it sees are this host's)."""
        if self._task.delegate_to is None:
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
        result = {
            "changed": False,
            "roles": sorted(requests),
            "left_out": left_out,
            "ansible_facts": {CACHE_FACT: cache},
        }
        # What groundwork.server.firewall publishes as firewall_host_report (playbooks/decide.yml
        # publishes it before the roles decide: the database roles read their clients' reports).
        firewall = (answer.get("probes") or {}).get("firewall")
        if isinstance(firewall, dict) and "report" in firewall:
            result["report"] = firewall["report"]
        return result

    def verdict(self, step, task_vars, cache):
        """The role's verdict (_run_plan.verdict): UNCHANGED when the role of ``step`` changes
        nothing on this host, else why it runs; the packages its plan installs; more groups."""
        name = step["role"]
        variables = role_variables(self._loader, name, task_vars)
        role = role_module(name)
        for _step in range(2):
            templar = self._templar.copy_with_new_env(available_variables=variables)
            context = Context(self, variables, self._task.check_mode, role=name)
            model, problems = role.validate(Inputs(templar, variables), context)
            if problems:
                return _run_plan.verdict("its input has problems (the role reports them when it runs)")
            reason = deferred(name, model)
            if reason is not None:
                return _run_plan.verdict(reason)
            request = role.request(model, context)
            inspection = None
            if request is not None:
                inspection = from_cache(cache, name, request)
                if inspection is None:
                    return _run_plan.verdict(NOT_COVERED)
            plan = role.plan(model, inspection, context)
            if plan.problems:
                return _run_plan.verdict("its plan has problems (the role reports them when it runs)")
            if name not in SECOND_STEP or variables.get(SECOND_STEP[name]):
                break
            variables = {**variables, SECOND_STEP[name]: plan.result(), **SECOND_STEP_EXTRA[name]}
        if plan.changes:
            return _run_plan.verdict(
                _run_plan.summary(plan.changes),
                _run_plan.packages_of(plan.changes),
                _run_plan.extra_groups(name, plan.data),
            )
        differ = OBJECTS.get(name)
        if differ is not None:
            reason = differ(self, plan.data, variables, templar, task_vars)
            if reason is not None:
                return _run_plan.verdict(reason)
        return _run_plan.verdict(_run_plan.UNCHANGED)

    def decide_for(self, task_vars):
        """Step "decide": which roles of site.yml run on this host (plugin_utils/_run_plan.py)."""
        tiers, problems = host_tiers(task_vars, self._templar)
        optional, more = optional_roles(self._loader, task_vars, self._templar)
        problems += more
        if problems:
            return {"failed": True, "msg": "\n".join(problems)}
        cache = (task_vars.get("ansible_facts") or {}).get(CACHE_FACT)

        def verdict(step):
            try:
                return self.verdict(step, task_vars, cache)
            except Exception as exc:  # the role decides itself when it runs, and reports it
                return _run_plan.verdict(f"{UNDECIDED} ({type(exc).__name__}: {exc})")

        decided = _run_plan.decide(_run_plan.steps(tiers, optional), verdict)
        decided["summary"] = [f"{role}: {reason}" for role, reason in decided["reasons"].items()]
        if decided["packages"]:
            decided["groups"].append(_run_plan.PACKAGES_GROUP)
            decided["apt_cache_valid_time"] = apt_cache_valid_time(decided["run"], task_vars, self._templar)
        grouping = _run_plan.grouping(decided["groups"])
        decided.update(grouping)
        # ansible-core 2.21 adds groups through the action's add_group (the strategy no longer
        # reads add_group from a result); earlier cores apply the result's keys.
        add_group = getattr(self, "add_group", None)
        if grouping and callable(add_group):
            add_group(grouping["add_group"], parent_group_names=grouping["parent_groups"])
        return decided

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
            # An optional role the run does not apply (groundwork_dns) is not read for.
            wanted, _problems = optional_roles(self._loader, task_vars, self._templar)
            skipped = [name for name in names if name in _run_plan.OPTIONAL and name not in wanted]
            names = [name for name in names if name not in skipped]
            result.update(self.inspect_for(names, task_vars))
            result["left_out"].update(dict.fromkeys(skipped, NOT_APPLIED))
            return result
        if args["step"] == "decide":
            result.update(self.decide_for(task_vars))
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
