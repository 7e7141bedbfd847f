"""scripts/lib/changelog_policy.py: a change under plugins/ or roles/ needs a changelog fragment
(in temporary git repositories), what antsibull-changelog is asked to render, and that every
module, plugin and role is announced."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "lib" / "changelog_policy.py"


def _load():
    spec = importlib.util.spec_from_file_location("changelog_policy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up by name
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


policy = _load()


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch, tmp_path):
    # Commits without the user's configuration (signing, hooks, templates).
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.org")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def write(repo: Path, path: str, text: str = "x\n") -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def commit(repo: Path, message: str, files: dict[str, str] | None = None) -> str:
    """Write FILES (path: text; None removes the file), commit everything, return the id."""
    for path, text in (files or {}).items():
        if text is None:
            (repo / path).unlink()
        else:
            write(repo, path, text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


FRAGMENT = "minor_changes:\n  - nginx role - something.\n"


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository whose policy starts after its second commit; the first has a change
    without a fragment (before the start: not checked)."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit(path, "the beginning", {"roles/nginx/tasks/main.yml": "- one\n"})
    start = commit(path, "the policy starts", {"README.md": "readme\n"})
    write(path, policy.SINCE_FILE, f"# the start\n{start}\n")
    commit(path, "record the start")
    return path


def check(repo: Path) -> tuple[list[str], list[str]]:
    return policy.check_fragments(repo)


def test_commit_under_roles_without_fragment_fails_naming_it(repo):
    commit(repo, "nginx: a change", {"roles/nginx/tasks/main.yml": "- two\n"})
    errors = check(repo)[0]
    assert len(errors) == 1
    assert "(nginx: a change)" in errors[0]
    assert "roles/nginx/tasks/main.yml" in errors[0]
    assert "without a changelog fragment" in errors[0]


def test_commit_under_plugins_with_fragment_passes(repo):
    commit(
        repo,
        "a module with its fragment",
        {"plugins/modules/thing.py": "# module\n", "changelogs/fragments/thing.yml": FRAGMENT},
    )
    errors, notes = check(repo)
    assert errors == []
    assert "2 commit(s) after" in notes[-1]
    assert "1 of them change plugins/ or roles/" in notes[-1]


def test_a_changed_fragment_counts_and_a_removed_one_does_not(repo):
    commit(repo, "first", {"roles/x/tasks/main.yml": "- a\n", "changelogs/fragments/x.yml": FRAGMENT})
    commit(
        repo,
        "second, extending the fragment",
        {"roles/x/tasks/main.yml": "- b\n", "changelogs/fragments/x.yml": FRAGMENT + "  - x role - more.\n"},
    )
    assert check(repo)[0] == []
    commit(
        repo, "third, removing it", {"roles/x/tasks/main.yml": "- c\n", "changelogs/fragments/x.yml": None}
    )
    errors = check(repo)[0]
    assert len(errors) == 1
    assert "(third, removing it)" in errors[0]


def test_release_commit_changes_changelog_yaml(repo):
    commit(repo, "change", {"plugins/test/t.py": "# t\n", "changelogs/fragments/t.yml": FRAGMENT})
    commit(
        repo,
        "release 0.1.0",
        {
            "plugins/test/t.py": "# t, version_added fixed\n",
            "changelogs/fragments/t.yml": None,
            "changelogs/changelog.yaml": "ancestor: null\nreleases:\n  0.1.0: {}\n",
        },
    )
    assert check(repo)[0] == []


@pytest.mark.parametrize(
    "path",
    [
        "changelogs/fragments/notes.txt",  # not a fragment antsibull-changelog reads
        "changelogs/fragments/sub/x.yml",  # not directly in the directory
        "changelogs/fragments/.x.yml",
        "changelogs/config.yaml",
        "docs/x.yml",
    ],
)
def test_other_files_are_no_fragment(repo, path):
    commit(repo, "a role change", {"roles/x/defaults/main.yml": "a: 1\n", path: FRAGMENT})
    assert len(check(repo)[0]) == 1


def test_changes_outside_plugins_and_roles_need_no_fragment(repo):
    commit(repo, "docs and tests", {"docs/x.md": "x\n", "tests/unit/test_x.py": "x\n", "README.md": "new\n"})
    write(repo, "scripts/x.sh", "echo\n")
    assert check(repo)[0] == []


def test_uncommitted_change_without_fragment_fails_naming_the_file(repo):
    write(repo, "roles/nginx/tasks/main.yml", "- changed\n")
    errors = check(repo)[0]
    assert errors == [
        "the uncommitted changes touch roles/nginx/tasks/main.yml without a changelog fragment:"
        " add or change one in changelogs/fragments/"
    ]


def test_untracked_file_under_plugins_needs_a_fragment(repo):
    write(repo, "plugins/modules/new.py", "# new\n")
    assert len(check(repo)[0]) == 1
    write(repo, "changelogs/fragments/new.yml", FRAGMENT)  # untracked fragment
    assert check(repo)[0] == []


def test_staged_fragment_and_staged_change_pass(repo):
    write(repo, "roles/nginx/tasks/main.yml", "- changed\n")
    write(repo, "changelogs/fragments/n.yaml", FRAGMENT)
    git(repo, "add", "-A")
    assert check(repo)[0] == []


def test_ignored_files_are_no_change(repo):
    write(repo, ".gitignore", "__pycache__/\n")
    commit(repo, "ignore caches")
    write(repo, "plugins/modules/__pycache__/x.pyc", "bytes\n")
    assert check(repo)[0] == []


def test_deleting_a_role_file_is_a_change(repo):
    (repo / "roles/nginx/tasks/main.yml").unlink()
    errors = check(repo)[0]
    assert "roles/nginx/tasks/main.yml" in errors[0]


def test_many_files_are_named_up_to_a_limit(repo):
    for index in range(8):
        write(repo, f"roles/r/files/f{index}", "x\n")
    errors = check(repo)[0]
    assert "roles/r/files/f4 and 3 more" in errors[0]


def test_merge_commits_are_skipped_their_parents_are_checked(repo):
    git(repo, "checkout", "-q", "-b", "topic")
    commit(repo, "topic: with fragment", {"roles/a/x": "1\n", "changelogs/fragments/a.yml": FRAGMENT})
    git(repo, "checkout", "-q", "main")
    commit(repo, "main: docs", {"docs/y": "1\n"})
    git(repo, "merge", "-q", "--no-edit", "topic")
    assert check(repo)[0] == []


def test_start_commit_not_in_history_is_an_error(repo):
    write(repo, policy.SINCE_FILE, "0123456789abcdef0123456789abcdef01234567\n")
    with pytest.raises(policy.PolicyError, match="not a commit of this repository"):
        check(repo)


def test_start_file_without_commit_is_an_error(repo):
    write(repo, policy.SINCE_FILE, "# nothing\n")
    with pytest.raises(policy.PolicyError, match="names no commit"):
        check(repo)
    write(repo, policy.SINCE_FILE, "main\n")
    with pytest.raises(policy.PolicyError, match="is not a commit id"):
        check(repo)


def test_not_a_git_checkout_is_said_and_passes(tmp_path):
    write(tmp_path / "tree", "roles/x/tasks/main.yml", "- a\n")
    errors, notes = check(tmp_path / "tree")
    assert errors == []
    assert "is not the top of a git checkout" in notes[0]


def test_a_checkout_git_cannot_read_is_an_error_not_a_skip(tmp_path):
    write(tmp_path / "tree", ".git/HEAD", "not a reference\n")
    with pytest.raises(policy.PolicyError, match="git cannot read the checkout"):
        check(tmp_path / "tree")


def test_subdirectory_of_a_checkout_is_not_a_checkout(repo):
    write(repo, "sub/roles/x/tasks/main.yml", "- a\n")
    errors, notes = check(repo / "sub")
    assert errors == []
    assert "not the top of a git checkout" in notes[0]


def test_shallow_clone_checks_the_commits_it_has(repo, tmp_path):
    commit(repo, "old: no fragment", {"roles/a/x": "1\n"})
    commit(repo, "boundary", {"docs/z": "1\n"})
    commit(repo, "newest: no fragment", {"roles/a/x": "2\n"})
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{repo}", str(clone)], check=True, capture_output=True
    )
    errors, notes = check(clone)
    assert len(errors) == 1
    assert "(newest: no fragment)" in errors[0]
    assert any("shallow clone" in note for note in notes)


def test_full_clone_checks_every_commit_since_the_start(repo, tmp_path):
    commit(repo, "old: no fragment", {"roles/a/x": "1\n"})
    commit(repo, "newest: fragment", {"roles/a/x": "2\n", "changelogs/fragments/a.yml": FRAGMENT})
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, capture_output=True)
    errors = check(clone)[0]
    assert len(errors) == 1
    assert "(old: no fragment)" in errors[0]


def test_command_line_exit_status_and_output(repo):
    run = [sys.executable, str(SCRIPT), "fragments", str(repo)]
    passed = subprocess.run(run, capture_output=True, text=True, check=False)
    assert passed.returncode == 0, passed.stdout
    commit(repo, "bad", {"plugins/x.py": "1\n"})
    failed = subprocess.run(run, capture_output=True, text=True, check=False)
    assert failed.returncode == 1
    assert failed.stdout.startswith("ERROR: commit ")
    assert "(bad) changes plugins/x.py" in failed.stdout


# ---------------------------------------------------------------------------------------
# plan and announced
# ---------------------------------------------------------------------------------------
def collection(tmp_path: Path, version: str, releases: dict, fragments: dict[str, str]) -> Path:
    root = tmp_path / "collection"
    write(root, "galaxy.yml", f"namespace: ns\nname: c\nversion: {version}\n")
    write(root, policy.CHANGES_FILE, yaml.safe_dump({"ancestor": None, "releases": releases}))
    (root / policy.FRAGMENTS_DIR).mkdir(parents=True, exist_ok=True)
    for name, text in fragments.items():
        write(root, policy.FRAGMENTS_DIR + name, text)
    return root


def test_plan_previews_waiting_fragments_as_a_dev_release(tmp_path):
    root = collection(tmp_path, "0.1.0", {}, {"a.yml": FRAGMENT, "notes.txt": "x"})
    assert policy.plan(root) == "release 0.1.0-dev"


def test_plan_generates_when_everything_is_released(tmp_path):
    root = collection(tmp_path, "0.2.0", {"0.1.0": {"release_date": "2030-01-01"}}, {})
    assert policy.plan(root) == "generate"


def test_plan_refuses_fragments_for_a_released_version(tmp_path):
    root = collection(tmp_path, "0.1.0", {"0.1.0": {"release_date": "2030-01-01"}}, {"a.yml": FRAGMENT})
    with pytest.raises(policy.PolicyError, match=r"set galaxy\.yml's version to the next one"):
        policy.plan(root)


def test_plan_refuses_nothing_at_all(tmp_path):
    with pytest.raises(policy.PolicyError, match="nothing to render"):
        policy.plan(collection(tmp_path, "0.1.0", {}, {}))


MODULE = 'DOCUMENTATION = r"""\nmodule: {name}\nversion_added: {version}\n"""\n'


def test_announced_names_what_no_release_announces(tmp_path):
    releases = {
        "0.1.0-dev": {
            "modules": [{"name": "one", "description": "x", "namespace": ""}],
            "plugins": {"test": [{"name": "t", "description": "x", "namespace": None}]},
            "objects": {"role": [{"name": "web", "description": "x", "namespace": None}]},
        }
    }
    root = collection(tmp_path, "0.1.0", releases, {})
    write(root, "plugins/modules/one.py", MODULE.format(name="one", version="0.1.0"))
    write(root, "plugins/modules/two.py", MODULE.format(name="two", version="0.2.0"))
    write(root, "plugins/test/t.py", "x\n")
    write(root, "plugins/filter/f.py", "x\n")
    write(root, "roles/web/tasks/main.yml", "[]\n")
    write(root, "roles/db/meta/main.yml", "{}\n")
    errors = policy.check_announced(root)
    assert len(errors) == 3
    assert errors[0].startswith("module two (plugins/modules/two.py) is announced as new by no release")
    assert "version_added: 0.2.0; set it to the version it arrives in (0.1.0, galaxy.yml)" in errors[0]
    assert errors[1].startswith("filter f (plugins/filter/f.py)")
    assert errors[2].startswith("role db (roles/db)")
    assert "'add object.role'" in errors[2]


def test_this_collection_announces_every_module_plugin_and_role():
    """What the rendering of CHANGELOG.md checks, without antsibull-changelog: a module or plugin
    is announced by a release, or its version_added is galaxy.yml's version (the preview release
    announces it); a role by a release or by a fragment's 'add object.role'."""
    version = str(yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"])
    released = policy.announced(yaml.safe_load((ROOT / policy.CHANGES_FILE).read_text()) or {})
    fragment_roles = set()
    for name in policy.fragment_names(ROOT):
        content = yaml.safe_load((ROOT / policy.FRAGMENTS_DIR / name).read_text()) or {}
        fragment_roles.update(entry["name"] for entry in content.get("add object.role", []))
    missing = []
    for kind, names in policy.present(ROOT).items():
        for name, path in names.items():
            if name in released.get(kind, set()):
                continue
            if kind == "role" and name not in fragment_roles:
                missing.append(f"role {name}")
            if kind != "role" and policy.version_added(path) != version:
                missing.append(f"{kind} {name}: version_added {policy.version_added(path)}")
    assert missing == []
