"""Check what ansible-builder made of execution-environment.yml (scripts/lib/ee.sh runs it).

Usage: check_ee.py ROOT CONTEXT TARBALL INTROSPECT_OUTPUT COMBINED_PIP COMBINED_BINDEP

ROOT              the collection's working tree (galaxy.yml, requirements*.txt, bindep.txt ...)
CONTEXT           the build context of `ansible-builder create` (Containerfile, _build/)
TARBALL           the collection tarball the context was created with
INTROSPECT_OUTPUT what `ansible-builder introspect` printed for the collection alone,
                  installed from TARBALL into an empty path
COMBINED_PIP/_BINDEP  what the context's own introspect.py wrote for the replayed galaxy
                  stage (this collection and its dependencies)

Prints the problems, one a line, and exits 1 when there is any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

COLLECTION = "groundwork.server"
COLLECTIONS_PATH = "/usr/share/ansible/collections"
COMMENT = re.compile(r"(?:^|\s+)#.*$")


def declared(path: Path) -> list[str]:
    """The requirement lines of a requirements.txt or bindep.txt, as introspect reads them."""
    lines = (COMMENT.sub("", line).strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def pinned(requirements_dev: Path, package: str) -> str | None:
    for line in declared(requirements_dev):
        if re.fullmatch(rf"{re.escape(package)}==\S+", line):
            return line
    return None


def check_introspect(root: Path, output: str) -> list[str]:
    """Every line of requirements.txt and bindep.txt, attributed to this collection, and nothing else."""
    problems = []
    data = yaml.safe_load(output.split("---", 1)[1]) if "---" in output else None
    if not isinstance(data, dict):
        return [f"ansible-builder introspect printed no dependency data: {output[:200]!r}"]
    for kind, source in (("python", "requirements.txt"), ("system", "bindep.txt")):
        got = data.get(kind) or []
        want = [f"{line}  # from collection {COLLECTION}" for line in declared(root / source)]
        if not want:
            problems.append(f"{source}: declares nothing")
        problems += [f"introspect {kind}: {line!r} of {source} missing" for line in want if line not in got]
        problems += [f"introspect {kind}: {line!r} is not in {source}" for line in got if line not in want]
    return problems


def check_combined(root: Path, pip_file: Path, bindep_file: Path) -> list[str]:
    """The builder stage's combined files carry this collection's lines and its dependencies'."""
    problems = []
    for source, combined in (("requirements.txt", pip_file), ("bindep.txt", bindep_file)):
        lines = combined.read_text().splitlines() if combined.is_file() else []
        for line in declared(root / source):
            if f"{line}  # from collection {COLLECTION}" not in lines:
                problems.append(f"builder stage {combined.name}: {line!r} of {source} missing")
    # community.crypto declares its own (cryptography for the internal CA on the controller).
    bindep_lines = bindep_file.read_text() if bindep_file.is_file() else ""
    if "# from collection community.crypto" not in bindep_lines:
        problems.append(f"builder stage {bindep_file.name}: nothing from community.crypto, a dependency")
    return problems


def check_containerfile(root: Path, context: Path) -> list[str]:
    problems = []
    definition = yaml.safe_load((root / "execution-environment.yml").read_text())
    text = (context / "Containerfile").read_text()
    deps = definition["dependencies"]
    refs = [deps["ansible_core"]["package_pip"], deps["ansible_runner"]["package_pip"]]
    for package, ref in zip(("ansible-core", "ansible-runner"), refs, strict=True):
        pin = pinned(root / "requirements-dev.txt", package)
        if ref != pin:
            problems.append(f"execution-environment.yml installs {ref!r}, requirements-dev.txt pins {pin!r}")
    expected = [
        f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"',
        f'ARG PYCMD="{deps["python_interpreter"]["python_path"]}"',
        f'ARG ANSIBLE_INSTALL_REFS="{" ".join(refs)}"',
        "RUN $PYCMD -m pip install --no-cache-dir $ANSIBLE_INSTALL_REFS",
        "COPY _build /build",
        "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml "
        f'--collections-path "{COLLECTIONS_PATH}"',
        "RUN $PYCMD /output/scripts/introspect.py introspect",
        "RUN /output/scripts/assemble",
        "RUN /output/scripts/check_ansible $PYCMD",
        "COPY --from=galaxy /usr/share/ansible /usr/share/ansible",
        "RUN /output/scripts/install-from-bindep",
    ]
    problems += [f"Containerfile: no {line!r}" for line in expected if line not in text]
    return problems


def check_galaxy_requirements(root: Path, context: Path, tarball: Path) -> list[str]:
    """The context's requirements.yml installs this tarball (present in the context, the same
    bytes) and the dependencies with the ranges of galaxy.yml and requirements.yml."""
    problems = []
    galaxy = yaml.safe_load((root / "galaxy.yml").read_text())
    wanted_name = f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
    entries = yaml.safe_load((context / "_build" / "requirements.yml").read_text())["collections"]
    files = [entry for entry in entries if entry.get("type") == "file"]
    if len(files) != 1:
        return [*problems, f"_build/requirements.yml: {len(files)} file entries, expected this collection's"]
    name = files[0]["name"]
    if Path(name).name != wanted_name:
        problems.append(f"execution-environment.yml installs {name}, galaxy.yml builds {wanted_name}")
    copied = context / "_build" / name
    if not copied.is_file():
        problems.append(f"_build/{name}: not in the build context (additional_build_files)")
    elif copied.read_bytes() != tarball.read_bytes():
        problems.append(f"_build/{name}: not the tarball just built")
    ranges = {entry["name"]: entry.get("version", "*") for entry in entries if entry.get("type") != "file"}
    user = {
        entry["name"]: entry.get("version", "*")
        for entry in yaml.safe_load((root / "requirements.yml").read_text())["collections"]
    }
    if ranges != galaxy.get("dependencies"):
        problems.append(f"execution-environment.yml collections {ranges} differ from galaxy.yml's")
    if ranges != user:
        problems.append(
            f"execution-environment.yml collections {ranges} differ from requirements.yml's {user}"
        )
    return problems


def check_meta(root: Path) -> list[str]:
    meta = yaml.safe_load((root / "meta" / "execution-environment.yml").read_text())
    wanted = {"version": 1, "dependencies": {"python": "requirements.txt", "system": "bindep.txt"}}
    return [] if meta == wanted else [f"meta/execution-environment.yml: {meta}, expected {wanted}"]


def main(argv: list[str]) -> int:
    if len(argv) != 6:
        print(__doc__)
        return 2
    root, context, tarball, output, pip_file, bindep_file = (Path(arg) for arg in argv)
    problems = check_meta(root)
    problems += check_containerfile(root, context)
    problems += check_galaxy_requirements(root, context, tarball)
    problems += check_introspect(root, output.read_text())
    problems += check_combined(root, pip_file, bindep_file)
    for problem in problems:
        print(f"execution environment: {problem}")
    if problems:
        return 1
    print(
        f"execution environment: {len(declared(root / 'requirements.txt'))} Python and "
        f"{len(declared(root / 'bindep.txt'))} system requirements declared and introspected; the "
        "Containerfile installs the pinned ansible-core and ansible-runner and the collection's tarball"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
