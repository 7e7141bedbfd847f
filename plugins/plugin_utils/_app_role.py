# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""groundwork.server.app's decision, run by the action groundwork.server.role_plan
(plugin_utils/_role_action.py): validate the input (plugin_utils/_app_model.py) and read the
source on the controller (an archive is unpacked once into a cache keyed by its checksum),
ask the host for what the plan needs (the shared probe library and
plugin_utils/_probes/app.py), and plan (plugin_utils/_app_plan.py and
plugin_utils/_app_release_plan.py), rendering the unit in one template lookup.

The plan carries the environment file (the database password, the secrets): it is secret,
and the role shows only its summary.

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils import _app_role
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile

from ansible.errors import AnsibleError
from ansible_collections.groundwork.server.plugins.plugin_utils import _app_plan
from ansible_collections.groundwork.server.plugins.plugin_utils._app_model import app_model
from ansible_collections.groundwork.server.plugins.plugin_utils._app_release_plan import app_release_plan
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    Plan,
    missing_packages,
    release_problem,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._tree_manifest import (
    manifest as tree_manifest,
)

CACHE = os.path.join("~", ".cache", "groundwork", "app")
REQUIREMENTS = "requirements.txt"

# The variables app_model checks (keys without the app_ prefix), as they are.
CHECKED = (
    "name",
    "version",
    "source",
    "command",
    "port",
    "user",
    "group",
    "base_dir",
    "environment",
    "secret_environment",
    "database",
    "health_path",
    "health_retries",
    "health_first_retries",
    "releases_kept",
    "writable_paths",
    "balancers",
    "balancer_server",
    "rollback",
    "description",
    "requirements_file",
    "packages",
    "python",
    "system_site_packages",
    "memory_deny_write_execute",
    "health_delay",
    "health_timeout",
    "stop_timeout",
    "apt_cache_valid_time",
)


def _get(inputs, name, default=None):
    try:
        return inputs[name]
    except KeyError:
        return default


def unpack(archive, cache):
    """The directory an archive unpacks to, in ``cache`` under its checksum (unpacked once,
    atomically); a single top directory is the application."""
    digest = hashlib.sha256()
    with open(archive, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    target = os.path.join(cache, digest.hexdigest()[:24])
    if not os.path.isdir(target):
        os.makedirs(cache, exist_ok=True)
        temporary = tempfile.mkdtemp(prefix=os.path.basename(target) + ".", dir=cache)
        try:
            with tarfile.open(archive, "r:*") as tar:
                tar.extractall(temporary, filter="data")
            os.rename(temporary, target)
        except OSError:
            # another process unpacked it first
            if not os.path.isdir(target):
                raise
        finally:
            if os.path.isdir(temporary):
                shutil.rmtree(temporary, ignore_errors=True)
    entries = os.listdir(target)
    if len(entries) == 1 and os.path.isdir(os.path.join(target, entries[0])):
        return os.path.join(target, entries[0])
    return target


def requirements_sum(path):
    """The checksum in the virtualenv marker's name (sha1 of the requirements without
    trailing white space, as earlier versions of the role computed it), or "none"."""
    if not os.path.isfile(path):
        return "none"
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        text = handle.read().rstrip()
    return hashlib.sha1(text.encode("utf-8", errors="surrogateescape")).hexdigest()[:16]  # noqa: S324


def read_source(model, cache=CACHE):
    """The source directory on the controller, its manifest and requirements; a problem
    when it cannot be read."""
    model.update(source_dir="", manifest={}, has_requirements=False, requirements_sum="none")
    if model["rollback"] or model["source_kind"] == "none":
        return []
    try:
        directory = model["source"]
        if model["source_kind"] == "archive":
            directory = unpack(directory, os.path.expanduser(cache))
        model["manifest"] = tree_manifest(directory)
    except (OSError, tarfile.TarError, AnsibleError) as exc:
        return [f"app_source: {model['source']!r} cannot be read ({exc})"]
    requirements = os.path.join(directory, model["requirements_file"])
    if model["requirements_file"] != REQUIREMENTS and not os.path.isfile(requirements):
        # a requirements file named on purpose must be there: a typo would deploy without it
        return [
            f"app_requirements_file: {model['requirements_file']!r} is not a file of the source"
            f" (looked at {requirements}; expected a file there, or the default {REQUIREMENTS})"
        ]
    model["source_dir"] = directory
    model["has_requirements"] = os.path.isfile(requirements)
    model["requirements_sum"] = requirements_sum(requirements)
    return []


def validate(inputs, context, cache=CACHE):
    item = {key: _get(inputs, f"app_{key}") for key in CHECKED}
    checked = app_model(
        item, playbook_dir=_get(inputs, "playbook_dir", "."), inventory_hosts=context.groups.get("all") or []
    )
    if checked["errors"]:
        return None, checked["errors"]
    settings = checked["settings"]
    model = {
        "name": item["name"],
        "version": str(item["version"]),
        "command": item["command"],
        "port": int(item["port"]),
        "user": item["user"],
        "group": item["group"],
        "base_dir": item["base_dir"],
        "health_path": item["health_path"],
        "releases_kept": int(item["releases_kept"]),
        "health_retries": int(item["health_retries"]),
        "health_first_retries": int(item["health_first_retries"]),
        "rollback": checked["rollback"],
        "balancers": list(item["balancers"] or []),
        "balancer_server": item["balancer_server"],
        "writable_paths": list(item["writable_paths"] or []),
        **settings,
        "source": checked["source"],
        "source_kind": checked["source_kind"],
        "env_content": checked["env_content"],
        "secret": bool(item["database"] or item["secret_environment"]),
    }
    return model, read_source(model, cache)


def where(model):
    return _app_plan.paths(model["name"], model["base_dir"], model["version"])


def request(model, context):
    del context
    place = where(model)
    return {
        "files": _app_plan.inspected_files(
            place, model["manifest"], model["rollback"], _app_plan.venv_marker(model["requirements_sum"])
        ),
        "dirs": [],
        "packages": _app_plan.inspected_packages(model["packages"]),
        "units": [place["unit"]],
        "probe": {
            "app_dir": place["app_dir"],
            "user": model["user"],
            "group": model["group"],
            "unit": place["unit"],
            "watched": [place["env_file"], place["unit_file"], place["current"]],
        },
    }


def plan(model, inspection, context):
    result = Plan()
    problem = release_problem("app", inspection["os"])
    if problem:
        result.problems.append(problem)
        return result
    host = inspection["probe"]
    place = where(model)
    releases = app_release_plan(
        host, model["version"], rollback=model["rollback"], kept=model["releases_kept"]
    )
    if releases["error"]:
        result.problems.append(releases["error"])
        return result
    target = releases["target"]
    python = _app_plan.is_python(
        model["python"], model["rollback"], target, host["venvs"], model["has_requirements"]
    )
    marker = _app_plan.venv_marker(model["requirements_sum"])
    values = {
        **place,
        "is_python": python,
        "exec": _app_plan.exec_line(model["command"], place["current"], python),
        **_app_plan.unit_values(model),
    }
    unit_content = context.render("app.service.j2", plan=values)
    specs = _app_plan.file_specs(
        place,
        model["group"],
        model["manifest"],
        model["version"],
        model["rollback"],
        model["env_content"],
        unit_content,
        releases["history"],
    )
    wanted = _app_plan.packages(python, model["packages"])
    venv = []
    if not model["rollback"] and python:
        state = inspection["files"].get(f"{place['release_dir']}/.venv/{marker}") or {}
        if state.get("state") != "file":
            venv = [Change("virtualenv", place["release_dir"], "not built for these requirements")]
    unit_state = inspection["units"].get(place["unit"])
    result.extend(
        _app_plan.changes(
            wanted,
            inspection["packages"],
            _app_plan.account_changes(
                model["user"],
                model["group"],
                place["app_dir"],
                f"{model['name']} application",
                host["account"],
            ),
            specs,
            inspection["files"],
            venv,
            _app_plan.release_change(target, host["current"]),
            place["unit"],
            unit_state,
            _app_plan.prune_changes(place["releases_dir"], releases["remove"]),
        )
    )
    stale = host.get("stale") or []
    if stale and (unit_state or {}).get("active") == "active":
        # An earlier run wrote these and stopped before the restart (a dead controller, a
        # balancer that could not drain the server): the service still runs on the old ones.
        result.extend([Change("service", place["unit"], f"running since before {', '.join(stale)} changed")])
    result.secret = model["secret"]
    # In check mode the group may not exist yet: the files are compared as root's.
    file_group = "root" if context.check_mode and not host["account"]["group"] else model["group"]
    directories = _app_plan.wrong_directories(place, result.changes)
    # No release runs here yet: nothing serves from this server.
    first_deploy = host["current"] is None
    # A first deployment serves nothing and has no release to return to: it may wait for
    # the tiers it depends on, which a sliced run (AWX job slicing) configures meanwhile.
    retries = model["health_retries"]
    if first_deploy:
        retries = max(retries, model["health_first_retries"])
    result.data.update(
        {
            **values,
            "version": model["version"],
            "rollback": model["rollback"],
            "target": target,
            "live": host["current"],
            # playbooks/appservers.yml deploys every such server at once, before the rolling
            # deploy of the live ones.
            "first_deploy": first_deploy,
            "remove": releases["remove"],
            "history_content": _app_plan.history_content(releases["history"]),
            "packages": wanted,
            "packages_missing": missing_packages(wanted, inspection["packages"]),
            "file_group": file_group,
            **_app_plan.release_steps(place, result.changes),
            "directories": directories,
            "directories_argv": _app_plan.directories_argv(file_group, directories),
            "source_dir": model["source_dir"],
            "requirements_file": model["requirements_file"],
            "system_site_packages": model["system_site_packages"],
            "venv_marker": marker,
            "release_env_content": _app_plan.release_env_content(model["version"]),
            "env_content": model["env_content"],
            "unit_content": unit_content,
            "health_url": f"http://127.0.0.1:{model['port']}{model['health_path']}",
            "health_delay": model["health_delay"],
            "health_retries": retries,
            "health_timeout": model["health_timeout"],
            "apt_cache_valid_time": model["apt_cache_valid_time"],
            "balancers": model["balancers"],
            "balancer_server": model["balancer_server"],
            "restart": bool(stale)
            or _app_plan.restart(
                result.changes, place, target, model["version"], host["current"], unit_state
            ),
            # how long service_config's health probe keeps trying after the restart
            "health_wait": max(1, retries * model["health_delay"]),
            # the deploy's transaction writes both when it runs; else a task of their own
            "enable": _app_plan.differs(place["wants_link"], result.changes),
            "write_history": _app_plan.differs(place["history"], result.changes),
            "restore": _app_plan.restore_messages(
                model["name"],
                place["unit"],
                target,
                host["current"],
                (unit_state or {}).get("active") == "active",
                _app_plan.config_changed(result.changes, place),
            ),
        }
    )
    return result
