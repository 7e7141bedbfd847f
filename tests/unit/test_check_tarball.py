"""scripts/lib/check_tarball.py: a collection tarball ships what it must, nothing of the
development tree, and galaxy.yml's metadata - checked on small tarballs written here."""

from __future__ import annotations

import importlib.util
import io
import json
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("check_tarball", ROOT / "scripts" / "lib" / "check_tarball.py")
check_tarball = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(check_tarball)

GALAXY = {
    "namespace": "groundwork",
    "name": "server",
    "version": "1.2.3",
    "readme": "README.md",
    "authors": ["groundwork developers"],
    "description": "A test collection.",
    "license_file": "LICENSE",
    "tags": ["debian", "nginx", "load_balancer"],
    "dependencies": {"community.crypto": ">=2.10.0,<4.0.0"},
    "repository": "https://example.org/repo",
    "documentation": "https://example.org/docs",
    "homepage": "https://example.org",
    "issues": "https://example.org/issues",
}
# The working tree's files (those check_tarball compares with the tarball) and the rest a
# tarball must carry.
TREE = {
    "roles/web/meta/argument_specs.yml": "argument_specs: {}\n",
    "roles/web/tasks/main.yml": "---\n",
    "plugins/modules/thing.py": "DOCUMENTATION = ''\n",
    "playbooks/site.yml": "---\n",
    "meta/runtime.yml": "requires_ansible: '>=2.19.0'\n",
    "meta/execution-environment.yml": "version: 1\n",
    "docs/GUIDE.md": "# Guide\n",
}
SHIPPED = {
    **TREE,
    "README.md": "# readme\n",
    "LICENSE": "GPL\n",
    "CHANGELOG.md": "# changes\n",
    "changelogs/changelog.yaml": "releases: {}\n",
    "requirements.txt": "cryptography>=3.3\n",
    "bindep.txt": "tzdata\n",
    "requirements.yml": "collections: []\n",
    "execution-environment.yml": "version: 3\n",
}


@pytest.fixture
def root(tmp_path):
    tree = tmp_path / "tree"
    for name, text in TREE.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    (tree / "galaxy.yml").write_text(yaml.safe_dump(GALAXY))
    return tree


def build(tmp_path, files, info=None, name="groundwork-server-1.2.3.tar.gz", unlisted=()):
    """A tarball as ansible-galaxy writes one: MANIFEST.json, FILES.json, the files and their
    directories. ``unlisted`` files are in the tarball but not in FILES.json."""
    info = {**GALAXY, "license": [], **(info or {})}
    dirs = sorted({str(parent) for path in files for parent in Path(path).parents if str(parent) != "."})
    entries = [{"name": ".", "ftype": "dir"}]
    entries += [{"name": path, "ftype": "dir"} for path in dirs]
    entries += [{"name": path, "ftype": "file"} for path in sorted(files) if path not in unlisted]
    tarball = tmp_path / name
    with tarfile.open(tarball, "w:gz") as tar:

        def add(path, data=None):
            member = tarfile.TarInfo(path)
            if data is None:
                member.type = tarfile.DIRTYPE
                tar.addfile(member)
            else:
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))

        add("MANIFEST.json", json.dumps({"collection_info": info, "format": 1}).encode())
        add("FILES.json", json.dumps({"files": entries, "format": 1}).encode())
        for path in dirs:
            add(path)
        for path, text in files.items():
            add(path, text.encode())
    return tarball


def test_a_complete_tarball_passes(tmp_path, root):
    assert check_tarball.check(build(tmp_path, SHIPPED), root) == []


@pytest.mark.parametrize(
    "extra",
    [
        "tests/unit/test_x.py",
        "molecule/base/molecule.yml",
        "bench/site.sh",
        "scripts/test.sh",
        ".build/dist/x.txt",
        ".venv/bin/python",
        ".git/config",
        ".hypothesis/constants/x",
        ".demo/id_ed25519",
        "roles/web/.cache",
        "plugins/modules/__pycache__/thing.cpython-311.pyc",
        "plugins/modules/thing.pyc",
        "inventories/demo/hosts.yml",
        "changelogs/fragments/1-x.yml",
        "ansible.cfg",
        "requirements-dev.txt",
        "groundwork-server-1.2.2.tar.gz",
    ],
)
def test_development_files_must_not_ship(tmp_path, root, extra):
    problems = check_tarball.check(build(tmp_path, {**SHIPPED, extra: "x\n"}), root)
    assert problems, extra
    assert all("must not ship" in problem for problem in problems), problems


@pytest.mark.parametrize("missing", sorted(SHIPPED))
def test_every_required_file_must_ship(tmp_path, root, missing):
    files = {path: text for path, text in SHIPPED.items() if path != missing}
    assert f"{missing}: missing" in check_tarball.check(build(tmp_path, files), root)


def test_a_file_of_the_tree_missing_from_the_tarball_is_found(tmp_path, root):
    (root / "plugins" / "modules" / "other.py").write_text("DOCUMENTATION = ''\n")
    assert check_tarball.check(build(tmp_path, SHIPPED), root) == ["plugins/modules/other.py: missing"]


def test_a_link_to_a_shipped_file_counts_and_a_dangling_one_does_not(tmp_path, root):
    (root / "roles" / "web" / "files").mkdir()
    (root / "roles" / "web" / "files" / "copy.py").write_text("x\n")
    tarball = tmp_path / "groundwork-server-1.2.3.tar.gz"
    for target, problems in (("../meta/argument_specs.yml", []), ("../meta/gone.yml", ["missing"])):
        build(tmp_path, SHIPPED)
        with tarfile.open(tarball, "r:gz") as tar:
            members = {member.name: member for member in tar.getmembers()}
        link = tarfile.TarInfo("roles/web/files/copy.py")
        link.type, link.linkname = tarfile.SYMTYPE, target
        members[link.name] = link
        found = check_tarball.check_members(members, root)
        assert [problem.split(": ")[-1] for problem in found] == problems, target


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({"license": ["GPL-3.0-or-later"]}, "mutually exclusive"),
        ({"license_file": None}, "license_file: empty"),
        ({"tags": [f"tag{number}" for number in range(21)]}, "at most 20"),
        ({"tags": ["Debian"]}, "tag 'Debian'"),
        ({"tags": ["web-server"]}, "tag 'web-server'"),
        ({"tags": ["load__balancer"]}, "tag 'load__balancer'"),
        ({"tags": []}, "tags: none"),
        ({"issues": None}, "issues: None is not an https:// link"),
        ({"homepage": "http://example.org"}, "homepage: 'http://example.org' is not an https:// link"),
        ({"repository": "https://example.org/other"}, "galaxy.yml has"),
        ({"version": "1.2.4"}, "MANIFEST.json version"),
        ({"dependencies": {}}, "MANIFEST.json dependencies"),
    ],
)
def test_manifest_carries_galaxy_metadata(tmp_path, root, info, expected):
    problems = check_tarball.check(build(tmp_path, SHIPPED, info=info), root)
    assert any(expected in problem for problem in problems), problems


def test_files_json_lists_exactly_the_tarball(tmp_path, root):
    problems = check_tarball.check(build(tmp_path, SHIPPED, unlisted={"docs/GUIDE.md"}), root)
    assert problems == ["docs/GUIDE.md: in the tarball but not in FILES.json"]


def test_the_tarball_name_is_galaxy_yml_version(tmp_path, root):
    problems = check_tarball.check(build(tmp_path, SHIPPED, name="groundwork-server-1.2.2.tar.gz"), root)
    assert problems == ["groundwork-server-1.2.2.tar.gz: galaxy.yml builds groundwork-server-1.2.3.tar.gz"]


def test_main_reports_and_fails(tmp_path, root, capsys):
    good = build(tmp_path, SHIPPED)
    assert check_tarball.main([str(good), str(root)]) == 0
    bad = build(tmp_path, {**SHIPPED, "tests/x.py": "x\n"})
    assert check_tarball.main([str(bad), str(root)]) == 1
    assert "tests: must not ship (tests)" in capsys.readouterr().out
