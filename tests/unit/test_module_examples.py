# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module and test plugin has EXAMPLES (shown by ansible-doc and the documentation site):
tasks in YAML, each named and calling one action by its FQCN, and a task that calls the
module gives only its documented options, every required one, and literal values of the
documented types and choices. The documentation is read as ansible-doc reads it (doc
fragments included); ansible-test's validate-modules checks that it matches the modules'
real argument specs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common import validation

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "groundwork.server"
MODULES = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
TESTS = sorted(path.stem for path in (ROOT / "plugins" / "test").glob("*.py") if path.stem != "__init__")
CHECKS = {
    "str": validation.check_type_str,
    "path": validation.check_type_path,
    "int": validation.check_type_int,
    "float": validation.check_type_float,
    "bool": validation.check_type_bool,
    "list": validation.check_type_list,
    "dict": validation.check_type_dict,
    "raw": validation.check_type_raw,
}


def ansible_doc(plugin_type, names):
    result = subprocess.run(
        ["ansible-doc", "--json", "-t", plugin_type, *(f"{COLLECTION}.{name}" for name in names)],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".collections")},
        check=True,
    )
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def module_docs():
    return ansible_doc("module", MODULES)


@pytest.fixture(scope="module")
def test_docs():
    return ansible_doc("test", TESTS)


def templated(value):
    return isinstance(value, str) and "{{" in value


def problems(args, options, where):
    """What is wrong with a task's arguments for these documented options."""
    if templated(args):
        return []
    if not isinstance(args, dict):
        return [f"{where}: {args!r} is not a mapping of options"]
    found = [f"{where}.{key}: not a documented option" for key in args if key not in options]
    for name, spec in options.items():
        path = f"{where}.{name}"
        if name not in args:
            if spec.get("required"):
                found.append(f"{path}: required but missing")
            continue
        found += value_problems(args[name], spec, path)
    return found


def value_problems(value, spec, path):
    if templated(value) or value is None:
        return []
    kind = spec.get("type", "str")
    try:
        converted = CHECKS[kind](value)
    except (TypeError, ValueError):
        return [f"{path}: {value!r} is not of type {kind}"]
    items = converted if kind == "list" else [converted]
    found = []
    for index, item in enumerate(items):
        where = f"{path}[{index}]" if kind == "list" else path
        if templated(item):
            continue
        if kind == "list" and spec.get("elements"):
            found += value_problems(item, {**spec, "type": spec["elements"], "elements": None}, where)
            continue
        if spec.get("choices") and item not in spec["choices"]:
            found.append(f"{where}: {item!r} is not one of {spec['choices']}")
        if spec.get("suboptions") and kind in ("dict", "list"):
            found += problems(item, spec["suboptions"], where)
    return found


@pytest.mark.parametrize("name", MODULES)
def test_the_module_has_examples_that_call_it_with_documented_options(name, module_docs):
    entry = module_docs[f"{COLLECTION}.{name}"]
    assert entry["examples"] and entry["examples"].strip(), f"{name}: no EXAMPLES"
    tasks = yaml.safe_load(entry["examples"])
    assert isinstance(tasks, list) and tasks
    calls = 0
    for task in tasks:
        assert task.get("name"), task
        actions = [key for key in task if key.count(".") >= 2]
        assert len(actions) == 1, f"{name}: a task without exactly one action by FQCN: {task}"
        if actions[0] == f"{COLLECTION}.{name}":
            calls += 1
            assert problems(task[actions[0]], entry["doc"].get("options") or {}, name) == []
    assert calls, f"{name}: no example calls {COLLECTION}.{name}"


@pytest.mark.parametrize("name", TESTS)
def test_the_test_plugin_has_examples_that_use_it(name, test_docs):
    entry = test_docs[f"{COLLECTION}.{name}"]
    tasks = yaml.safe_load(entry["examples"])
    assert isinstance(tasks, list) and tasks
    for task in tasks:
        assert task.get("name"), task
        assert [key for key in task if key.count(".") >= 2] == ["ansible.builtin.assert"], task
    assert f"is {COLLECTION}.{name}" in entry["examples"]


def test_problems_are_found():
    """The check itself: an unknown option, a missing required one, a wrong type and a value
    outside the choices are reported; templated values are left to the run."""
    options = {
        "name": {"type": "str", "required": True},
        "count": {"type": "int"},
        "mode": {"type": "str", "choices": ["a", "b"]},
        "items": {
            "type": "list",
            "elements": "dict",
            "suboptions": {"path": {"type": "path", "required": True}},
        },
    }
    assert problems({"name": "x", "count": "{{ n }}", "items": [{"path": "/x"}]}, options, "m") == []
    assert problems({"count": "many", "mode": "c", "colour": 1, "items": [{}]}, options, "m") == [
        "m.colour: not a documented option",
        "m.name: required but missing",
        "m.count: 'many' is not of type int",
        "m.mode: 'c' is not one of ['a', 'b']",
        "m.items[0].path: required but missing",
    ]
