"""Each role's README argument table matches its meta/argument_specs.yml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
