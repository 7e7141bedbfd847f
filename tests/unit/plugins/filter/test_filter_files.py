# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every filter file stays thin: Ansible loads all of a collection's filter files in every
worker process that uses one of them, so their logic lives in plugin_utils and is imported
only by the filter a task calls."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import yaml

FILTERS = Path(__file__).resolve().parents[4] / "plugins" / "filter"
FILES = sorted(p for p in FILTERS.glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_filter_file_imports_nothing_at_load_time(path):
    tree = ast.parse(path.read_text())
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(node) for node in imports] == ["from __future__ import annotations"]
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert assigned == {"DOCUMENTATION", "EXAMPLES", "RETURN"}


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_filter_is_documented_and_delegates_to_its_logic(path, monkeypatch):
    module = importlib.import_module(f"ansible_collections.groundwork.server.plugins.filter.{path.stem}")
    filters = module.FilterModule().filters()
    assert list(filters) == [path.stem]
    assert yaml.safe_load(module.DOCUMENTATION)["name"] == path.stem
    logic = importlib.import_module(
        f"ansible_collections.groundwork.server.plugins.plugin_utils._{path.stem}"
    )
    calls = []
    monkeypatch.setattr(logic, path.stem, lambda *args, **kwargs: calls.append((args, kwargs)) or "result")
    assert filters[path.stem]("input", option=1) == "result"
    assert calls == [(("input",), {"option": 1})]
