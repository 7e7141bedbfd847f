"""Check a built collection tarball: what must ship is in it, what must not is not, and its
MANIFEST.json carries galaxy.yml's metadata.

Usage: check_tarball.py TARBALL SOURCE_ROOT

SOURCE_ROOT is the collection's working tree (galaxy.yml, roles/, plugins/ ...). Prints the
problems, one a line, and exits 1 when there is any; otherwise prints one summary line.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
import tarfile
from pathlib import Path, PurePosixPath

import yaml

# Never in the tarball: tests, build output, development files (first path component).
FORBIDDEN_TOP = {
    "tests": "tests",
    "molecule": "Molecule scenarios",
    "bench": "benchmarks",
    "scripts": "development scripts",
    "ansible.cfg": "the development ansible.cfg",
    "ruff.toml": "the development ruff.toml",
    "requirements-dev.txt": "the development requirements",
}
FORBIDDEN_PREFIXES = {
    "inventories/demo": "the demo's inventory",
    "changelogs/fragments": "unreleased changelog fragments",
}
# Always in the tarball, besides every file of the source's roles/, plugins/, playbooks/,
# meta/ and docs/.
REQUIRED = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "changelogs/changelog.yaml",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "requirements.txt",
    "bindep.txt",
    "requirements.yml",
    "execution-environment.yml",
    "playbooks/site.yml",
)
SHIPPED_TREES = ("roles", "plugins", "playbooks", "meta", "docs")
LINKS = ("repository", "documentation", "homepage", "issues")
# Galaxy's rule for tags (the same as for namespaces and names), and its maximum count.
TAG = re.compile(r"^(?!.*__)[a-z]+[0-9a-z_]*$")
MAX_TAGS = 20


def forbidden_reason(path: str) -> str | None:
    """Why a tarball member must not ship, or None."""
    parts = PurePosixPath(path).parts
    if not parts:
        return None
    hidden = next((part for part in parts if part.startswith(".")), None)
    if hidden:
        return f"a hidden path ({hidden}: .git, .venv, .build, .demo, caches ...)"
    if "__pycache__" in parts or path.endswith((".pyc", ".pyo")):
        return "compiled Python"
    if path.endswith(".tar.gz"):
        return "a built tarball"
    if parts[0] in FORBIDDEN_TOP:
        return FORBIDDEN_TOP[parts[0]]
    for prefix, reason in FORBIDDEN_PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return reason
    return None


def source_files(root: Path) -> list[str]:
    """The files of the shipped trees in the working tree (no caches, no hidden files)."""
    found = []
    for tree in SHIPPED_TREES:
        for path in sorted((root / tree).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and forbidden_reason(relative) is None:
                found.append(relative)
    return found


def check_members(members: dict[str, tarfile.TarInfo], root: Path) -> list[str]:
    problems = []
    reported = []
    for name in sorted(members):
        why = forbidden_reason(name)
        # A forbidden directory is named once, not with each file in it.
        if why and not any(name.startswith(parent + "/") for parent in reported):
            problems.append(f"{name}: must not ship ({why})")
            reported.append(name)
    required = list(REQUIRED)
    required += [f"roles/{role.name}/meta/argument_specs.yml" for role in sorted((root / "roles").iterdir())]
    required += source_files(root)
    for name in dict.fromkeys(required):
        if not is_file(members, name):
            problems.append(f"{name}: missing")
    return problems


def is_file(members: dict[str, tarfile.TarInfo], name: str) -> bool:
    """A regular file, or a link inside the tarball to one (ansible-galaxy keeps those)."""
    seen = set()
    member = members.get(name)
    while member is not None and member.issym() and name not in seen:
        seen.add(name)
        name = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
        member = None if name.startswith("../") else members.get(name)
    return member is not None and member.isfile()


def check_files_json(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> list[str]:
    """FILES.json lists exactly the tarball's files and directories."""
    listed = {entry["name"] for entry in json.load(tar.extractfile("FILES.json"))["files"]}
    listed.discard(".")
    present = set(members) - {"MANIFEST.json", "FILES.json"}
    problems = [f"{name}: in FILES.json but not in the tarball" for name in sorted(listed - present)]
    problems += [f"{name}: in the tarball but not in FILES.json" for name in sorted(present - listed)]
    return problems


def check_manifest(info: dict, galaxy: dict, members: dict[str, tarfile.TarInfo]) -> list[str]:
    problems = []
    for key in ("namespace", "name", "version", "readme", "authors", "description", "dependencies"):
        if info.get(key) != galaxy.get(key):
            problems.append(f"MANIFEST.json {key}: {info.get(key)!r}, galaxy.yml has {galaxy.get(key)!r}")
    license_file = info.get("license_file")
    if not license_file:
        problems.append("MANIFEST.json license_file: empty (the collection declares its license by its file)")
    elif license_file not in members:
        problems.append(f"MANIFEST.json license_file: {license_file} is not in the tarball")
    if info.get("license"):
        problems.append(
            f"MANIFEST.json license: {info['license']!r} (mutually exclusive with license_file; use one)"
        )
    tags = info.get("tags") or []
    if not tags:
        problems.append("MANIFEST.json tags: none")
    if len(tags) > MAX_TAGS:
        problems.append(f"MANIFEST.json tags: {len(tags)}, Galaxy allows at most {MAX_TAGS}")
    problems += [
        f"MANIFEST.json tag {tag!r}: Galaxy allows lowercase letters, digits and single underscores"
        for tag in tags
        if not isinstance(tag, str) or not TAG.match(tag)
    ]
    if len(set(tags)) != len(tags):
        problems.append("MANIFEST.json tags: duplicates")
    if tags != galaxy.get("tags"):
        problems.append("MANIFEST.json tags differ from galaxy.yml's")
    for key in LINKS:
        value = info.get(key)
        if not isinstance(value, str) or not value.startswith("https://"):
            problems.append(f"MANIFEST.json {key}: {value!r} is not an https:// link")
        elif value != galaxy.get(key):
            problems.append(f"MANIFEST.json {key}: {value!r}, galaxy.yml has {galaxy.get(key)!r}")
    return problems


def check(tarball: Path, root: Path) -> list[str]:
    galaxy = yaml.safe_load((root / "galaxy.yml").read_text())
    expected_name = f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
    problems = []
    if tarball.name != expected_name:
        problems.append(f"{tarball.name}: galaxy.yml builds {expected_name}")
    with tarfile.open(tarball, "r:gz") as tar:
        members = {}
        for member in tar.getmembers():
            name = PurePosixPath(member.name).as_posix()
            if name not in (".", ""):
                members[name] = member
        problems += check_members(members, root)
        if "MANIFEST.json" in members and "FILES.json" in members:
            info = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
            problems += check_manifest(info, galaxy, members)
            problems += check_files_json(tar, members)
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    tarball, root = Path(argv[0]), Path(argv[1])
    problems = check(tarball, root)
    for problem in problems:
        print(f"{tarball.name}: {problem}")
    if problems:
        print(f"{tarball.name}: {len(problems)} problem(s)")
        return 1
    with tarfile.open(tarball, "r:gz") as tar:
        count = sum(1 for member in tar.getmembers() if member.isfile())
    print(f"{tarball.name}: {count} files, nothing forbidden, every required file, metadata as galaxy.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
