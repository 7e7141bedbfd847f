"""Each role's README argument table matches its meta/argument_specs.yml, and README.md's index
of roles, modules and test plugins matches the roles' argument specs and the plugins' DOCUMENTATION."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_role_readmes_are_generated_from_argument_specs():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "role_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_role_has_argument_specs_and_readme():
    for role in sorted((ROOT / "roles").iterdir()):
        assert (role / "meta" / "argument_specs.yml").is_file(), role.name
        assert (role / "README.md").is_file(), role.name


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


role_docs = _load("role_docs", ROOT / "scripts" / "role_docs.py")


def test_readme_index_is_generated():
    assert role_docs.update_readme(ROOT / "README.md", ROOT, check=True), (
        "README.md's index of roles, modules and test plugins is stale: run python scripts/role_docs.py"
    )


def test_a_stale_readme_index_is_found_and_regenerated(tmp_path):
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    row = "| `groundwork.server.tier_server` |"
    assert row in text
    stale = text.replace(row, "| `groundwork.server.tier_server_old` |")
    readme.write_text(stale)
    assert not role_docs.update_readme(readme, ROOT, check=True)
    assert readme.read_text() == stale, "--check must not write"
    assert role_docs.update_readme(readme, ROOT, check=False)
    assert readme.read_text() == text


def test_the_index_needs_its_markers_once(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no index here\n")
    assert not role_docs.update_readme(readme, ROOT, check=False)
    assert readme.read_text() == "# no index here\n"


def test_the_index_names_every_entry_point_module_and_test_plugin():
    index = role_docs.render_index(ROOT)
    for specs_file in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role = specs_file.parent.parent.name
        assert f"[`groundwork.server.{role}`](roles/{role}/README.md)" in index
        for entry, spec in yaml.safe_load(specs_file.read_text())["argument_specs"].items():
            assert f"| `{entry}` | {role_docs._cell(spec['short_description'])} |" in index, (role, entry)
    for kind in ("modules", "test"):
        for path in sorted((ROOT / "plugins" / kind).glob("*.py")):
            assert f"| `groundwork.server.{path.stem}` | " in index, path


def test_plugin_documentation_is_read_without_importing(tmp_path):
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        'import not_installed_anywhere\nDOCUMENTATION = r"""\nmodule: x\nshort_description: Y\n"""\n'
    )
    assert role_docs.plugin_documentation(plugin) == {"module": "x", "short_description": "Y"}
    plugin.write_text("EXAMPLES = ''\n")
    with pytest.raises(ValueError, match="no DOCUMENTATION"):
        role_docs.plugin_documentation(plugin)
