# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the picture: the DOT source next to the images it was rendered from.

Whether anything changed is decided from the DOT source alone: the images are rendered
again only when the source differs from the one kept beside them (``<name>.dot``) or an
image is missing. Graphviz renders the same source to the same SVG and PNG bytes, so
the images change exactly when the source does.

Side effects go through ``run`` (argv list -> (rc, stdout, stderr)) and ``move``
(temporary path, final path), AnsibleModule.run_command and atomic_move in the module,
fakes in the unit tests.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field


class RenderError(Exception):
    """Graphviz failed, or a file could not be written."""


@dataclass
class Outcome:
    changed: bool
    dot_path: str
    paths: dict = field(default_factory=dict)  # format -> path
    diff: dict = field(default_factory=dict)


def read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except UnicodeDecodeError:
        return ""
    except OSError as exc:
        raise RenderError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _temporary(directory, suffix):
    handle, path = tempfile.mkstemp(prefix=".topology-", suffix=suffix, dir=directory)
    os.close(handle)
    return path


def write(source, directory, name, formats, dot, run, move, check_mode=False):
    """Render ``source`` to ``directory``/``name``.<format> for each format when it changed."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise RenderError(f"the output directory {directory} exists and is not a directory")
    dot_path = os.path.join(directory, f"{name}.dot")
    paths = {fmt: os.path.join(directory, f"{name}.{fmt}") for fmt in formats}
    before = read_text(dot_path)
    changed = before != source or not all(os.path.exists(path) for path in paths.values())
    diff = {
        "before_header": dot_path,
        "after_header": dot_path,
        "before": before or "",
        "after": source,
    }
    outcome = Outcome(changed=changed, dot_path=dot_path, paths=paths, diff=diff)
    if not changed or check_mode:
        return outcome
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"cannot create the output directory {directory}: {exc}") from exc
    source_file = _temporary(directory, ".dot")
    try:
        with open(source_file, "w", encoding="utf-8") as handle:
            handle.write(source)
        for fmt, path in paths.items():
            image = _temporary(directory, f".{fmt}")
            try:
                rc, _out, err = run([dot, f"-T{fmt}", "-o", image, source_file])
                if rc != 0:
                    raise RenderError(f"dot could not render {fmt.upper()} (exit {rc}): {err.strip()}")
                move(image, path)
            finally:
                if os.path.exists(image):
                    os.unlink(image)
        # The source last: it records what the images show only once they all exist.
        move(source_file, dot_path)
    finally:
        if os.path.exists(source_file):
            os.unlink(source_file)
    return outcome
