"""The changelog's rules that antsibull-changelog does not check itself.

Usage:
  changelog_policy.py fragments ROOT
      Every change under plugins/ or roles/ comes with a changelog fragment: each commit after
      the one named in changelogs/.fragments-since that changes such a file adds or changes a
      fragment (changelogs/fragments/*.yml) or changelogs/changelog.yaml (a release), and the
      uncommitted changes (index, working tree and untracked files that git does not ignore)
      that touch plugins/ or roles/ hold an added or changed fragment as well.
  changelog_policy.py plan ROOT
      What antsibull-changelog does to render CHANGELOG.md: "release VERSION-dev" when
      fragments wait for galaxy.yml's VERSION (a preview release, made in a scratch copy only),
      "generate" when every change is released.
  changelog_policy.py announced ROOT
      Every module, test plugin, filter plugin and role of ROOT is announced as new in a
      release of ROOT's changelogs/changelog.yaml (run on the scratch copy after the preview
      release).

Prints the problems, one a line, and exits 1 when there is any; otherwise one summary line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

GUARDED = ("plugins/", "roles/")
FRAGMENTS_DIR = "changelogs/fragments/"
CHANGES_FILE = "changelogs/changelog.yaml"
SINCE_FILE = "changelogs/.fragments-since"
FRAGMENT_SUFFIXES = (".yml", ".yaml")
# How many of a change's files an error names.
SHOWN = 5


class PolicyError(Exception):
    """The rule cannot be checked as configured (a bad start commit, a broken repository)."""


def is_guarded(path: str) -> bool:
    return path.startswith(GUARDED)


def is_fragment(path: str) -> bool:
    """A fragment antsibull-changelog reads: a YAML file directly in changelogs/fragments/."""
    if not path.startswith(FRAGMENTS_DIR):
        return False
    name = path[len(FRAGMENTS_DIR) :]
    return "/" not in name and not name.startswith(".") and name.endswith(FRAGMENT_SUFFIXES)


def counts_as_changelog(path: str) -> bool:
    return is_fragment(path) or path == CHANGES_FILE


@dataclass
class Change:
    """One commit's, or the uncommitted, changed paths: what they touch and what they add."""

    label: str
    guarded: list[str] = field(default_factory=list)
    changelog: list[str] = field(default_factory=list)

    def add(self, path: str, removed: bool) -> None:
        if is_guarded(path):
            self.guarded.append(path)
        # A removed fragment says nothing about this change (a release removes all of them,
        # and changes changelog.yaml).
        if counts_as_changelog(path) and not removed:
            self.changelog.append(path)

    @property
    def violates(self) -> bool:
        return bool(self.guarded) and not self.changelog

    def files(self) -> str:
        shown = ", ".join(self.guarded[:SHOWN])
        more = len(self.guarded) - SHOWN
        return shown + (f" and {more} more" if more > 0 else "")


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PolicyError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def git_ok(root: Path, *args: str) -> bool:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    return result.returncode == 0


def checkout_root(root: Path) -> Path | None:
    """The top of the git work tree ROOT is, or None when ROOT is not the top of one."""
    try:
        top = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    if top.returncode != 0:
        if (root / ".git").exists():
            # A checkout git refuses to read (another owner: safe.directory) is no reason to skip.
            raise PolicyError(f"git cannot read the checkout {root}: {top.stderr.strip()}")
        return None
    path = Path(top.stdout.strip()).resolve()
    return path if path == root.resolve() else None


def read_since(root: Path) -> str:
    path = root / SINCE_FILE
    if not path.is_file():
        raise PolicyError(f"{SINCE_FILE} is missing: it names the commit the fragment rule starts after")
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            if not re.fullmatch(r"[0-9a-f]{7,40}", line):
                raise PolicyError(f"{SINCE_FILE}: {line!r} is not a commit id")
            return line
    raise PolicyError(f"{SINCE_FILE} names no commit")


def parse_name_status(output: str) -> list[tuple[str, str]]:
    """(status, path) pairs of `git diff-tree -z --name-status --no-renames`."""
    parts = output.split("\0")
    pairs = []
    for index in range(0, len(parts) - 1, 2):
        if parts[index]:
            pairs.append((parts[index], parts[index + 1]))
    return pairs


def commit_change(root: Path, commit: str) -> Change:
    subject = git(root, "log", "-1", "--format=%h (%s)", commit).strip()
    change = Change(f"commit {subject}")
    output = git(
        root, "diff-tree", "-r", "-z", "--root", "--no-commit-id", "--no-renames", "--name-status", commit
    )
    for status, path in parse_name_status(output):
        change.add(path, removed=status.startswith("D"))
    return change


def uncommitted_change(root: Path) -> Change:
    change = Change("the uncommitted changes")
    output = git(root, "status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all")
    for entry in output.split("\0"):
        if entry:
            # "XY PATH": X the index's status, Y the working tree's ("??" untracked).
            change.add(entry[3:], removed="D" in entry[:2])
    return change


def commits_to_check(root: Path, since: str) -> tuple[list[str], list[str]]:
    """The commits after SINCE up to HEAD, oldest first, without merges; and notes."""
    if not git_ok(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"):
        return [], ["no commit yet: only the uncommitted changes are checked"]
    if git_ok(root, "cat-file", "-e", f"{since}^{{commit}}"):
        return git(root, "rev-list", "--reverse", "--no-merges", f"{since}..HEAD").split(), []
    if git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        # The history is cut before the start commit: check every commit there is, except the
        # boundary commits, whose parents (and so whose changes) are not here.
        shallow = Path(git(root, "rev-parse", "--absolute-git-dir").strip()) / "shallow"
        boundary = set(shallow.read_text(encoding="utf-8").split())
        commits = [
            c for c in git(root, "rev-list", "--reverse", "--no-merges", "HEAD").split() if c not in boundary
        ]
        return commits, [
            f"shallow clone without {since[:12]} ({SINCE_FILE}): the {len(commits)} commit(s) after its"
            " boundary are checked (git fetch --unshallow checks the rest)"
        ]
    raise PolicyError(f"{SINCE_FILE} names {since}, which is not a commit of this repository")


def check_fragments(root: Path) -> tuple[list[str], list[str]]:
    """(errors, notes) of the fragment rule for the checkout at ROOT."""
    if checkout_root(root) is None:
        return [], [
            f"{root} is not the top of a git checkout: the rule that changes under plugins/ and"
            " roles/ come with a changelog fragment is not checked"
        ]
    since = read_since(root)
    commits, notes = commits_to_check(root, since)
    errors = []
    guarded_commits = 0
    for commit in commits:
        change = commit_change(root, commit)
        guarded_commits += bool(change.guarded)
        if change.violates:
            errors.append(
                f"{change.label} changes {change.files()} without a changelog fragment: add one"
                f" ({FRAGMENTS_DIR}<name>.yml) to that commit"
            )
    pending = uncommitted_change(root)
    if pending.violates:
        errors.append(
            f"{pending.label} touch {pending.files()} without a changelog fragment: add or change"
            f" one in {FRAGMENTS_DIR}"
        )
    notes.append(
        f"{len(commits)} commit(s) after {since[:12]} checked, {guarded_commits} of them change"
        f" plugins/ or roles/; uncommitted files under plugins/ or roles/: {len(pending.guarded)},"
        f" uncommitted fragments: {len(pending.changelog)}"
    )
    return errors, notes


# ---------------------------------------------------------------------------------------
# What antsibull-changelog renders, and whether everything is announced
# ---------------------------------------------------------------------------------------
def load_yaml(path: Path):
    with path.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def fragment_names(root: Path) -> list[str]:
    directory = root / FRAGMENTS_DIR
    if not directory.is_dir():
        return []
    return sorted(
        p.name for p in directory.iterdir() if p.is_file() and is_fragment(f"{FRAGMENTS_DIR}{p.name}")
    )


def plan(root: Path) -> str:
    version = str(load_yaml(root / "galaxy.yml")["version"])
    releases = (load_yaml(root / CHANGES_FILE) or {}).get("releases") or {}
    fragments = fragment_names(root)
    if version in releases:
        if fragments:
            raise PolicyError(
                f"galaxy.yml's version {version} is released already (changelogs/changelog.yaml),"
                f" but {len(fragments)} fragment(s) wait for a release: set galaxy.yml's version to"
                " the next one"
            )
        return "generate"
    if fragments:
        return f"release {version}-dev"
    if not releases:
        raise PolicyError("no release in changelogs/changelog.yaml and no fragment: nothing to render")
    return "generate"


def announced(changes: dict) -> dict[str, set[str]]:
    """The names each release of changelog.yaml announces as new, by kind."""
    found: dict[str, set[str]] = {}
    for release in (changes.get("releases") or {}).values():
        for entry in release.get("modules") or []:
            found.setdefault("module", set()).add(entry["name"])
        for group in ("plugins", "objects"):
            for kind, entries in (release.get(group) or {}).items():
                found.setdefault(kind, set()).update(entry["name"] for entry in entries or [])
    return found


def present(root: Path) -> dict[str, dict[str, Path]]:
    """The modules, test and filter plugins and roles of the tree, by kind: name -> path."""
    found: dict[str, dict[str, Path]] = {"module": {}, "test": {}, "filter": {}, "role": {}}
    for kind, directory in (("module", "modules"), ("test", "test"), ("filter", "filter")):
        for path in sorted((root / "plugins" / directory).glob("*")):
            if path.suffix in (".py", ".yml", ".yaml") and not path.name.startswith("_"):
                found[kind].setdefault(path.stem, path)
    for path in sorted((root / "roles").glob("*")):
        if path.is_dir() and ((path / "tasks").is_dir() or (path / "meta").is_dir()):
            found["role"][path.name] = path
    return found


def version_added(path: Path) -> str | None:
    match = re.search(r"^version_added:\s*['\"]?([^'\"\s]+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    return match.group(1) if match else None


def check_announced(root: Path) -> list[str]:
    news = announced(load_yaml(root / CHANGES_FILE) or {})
    version = str(load_yaml(root / "galaxy.yml")["version"])
    errors = []
    for kind, names in present(root).items():
        for name, path in names.items():
            if name in news.get(kind, set()):
                continue
            where = path.relative_to(root)
            if kind == "role":
                hint = "add it to a fragment's 'add object.role' list (name and description)"
            else:
                hint = (
                    f"its DOCUMENTATION says version_added: {version_added(path)}; set it to the"
                    f" version it arrives in ({version}, galaxy.yml)"
                )
            errors.append(
                f"{kind} {name} ({where}) is announced as new by no release and no fragment: {hint}"
            )
    return errors


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("fragments", "plan", "announced"):
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[2])
    try:
        if argv[1] == "plan":
            print(plan(root))
            return 0
        if argv[1] == "announced":
            errors, notes = (
                check_announced(root),
                ["every module, test plugin, filter plugin and role is announced"],
            )
        else:
            errors, notes = check_fragments(root)
    except PolicyError as error:
        print(f"ERROR: {error}")
        return 1
    for error in errors:
        print(f"ERROR: {error}")
    if errors:
        return 1
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
