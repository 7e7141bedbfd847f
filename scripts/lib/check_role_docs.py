"""Check that ansible-doc renders every argument of every role of an installed collection.

Usage: check_role_docs.py COLLECTIONS_PATH ROLES_DIR NAMESPACE.NAME

For each role under ROLES_DIR, reads meta/argument_specs.yml and asks ansible-doc
(looking only at COLLECTIONS_PATH) for the role's documentation as JSON, then compares
the option names, nested suboptions included. Prints one line per role; exits 1 when a
role is missing or an argument is not rendered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml


def option_paths(options: dict, prefix: str = "") -> set[str]:
    paths = set()
    for name, spec in (options or {}).items():
        path = f"{prefix}{name}"
        paths.add(path)
        paths |= option_paths((spec or {}).get("options") or {}, f"{path}.")
    return paths


def main() -> int:
    collections_path, roles_dir, collection = sys.argv[1:4]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path)
    failures = 0
    for specs_file in sorted(Path(roles_dir).glob("*/meta/argument_specs.yml")):
        role = specs_file.parent.parent.name
        expected = yaml.safe_load(specs_file.read_text())["argument_specs"]
        result = subprocess.run(
            ["ansible-doc", "--json", "-t", "role", f"{collection}.{role}"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            print(f"{role}: ansible-doc failed: {result.stderr.strip()}")
            failures += 1
            continue
        rendered = json.loads(result.stdout)[f"{collection}.{role}"]["entry_points"]
        for entry, spec in expected.items():
            want = option_paths(spec.get("options", {}))
            got = option_paths(rendered.get(entry, {}).get("options", {}))
            missing = sorted(want - got)
            if missing:
                print(f"{role} ({entry}): not rendered by ansible-doc: {', '.join(missing)}")
                failures += 1
            else:
                print(f"{role} ({entry}): ansible-doc renders all {len(want)} arguments")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
