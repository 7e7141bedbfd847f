# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of groundwork.server.release_files (documentation: plugins/modules/release_files.py).

Reads the tree on the controller (checksums and modes, plugin_utils/_tree_manifest.py) and
sends it in as few module runs as it can: a tree of up to INLINE_TOTAL bytes goes with its
content in one run; a larger one is first compared (one run without content), then only the
files that differ are sent, in runs of up to INLINE_TOTAL bytes, and a file over INLINE_FILE
bytes is transferred on its own through the connection. Check mode never sends content.
"""

from __future__ import annotations

import base64
import os

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible_collections.groundwork.server.plugins.modules.release_files import ARGUMENTS
from ansible_collections.groundwork.server.plugins.plugin_utils._tree_manifest import manifest

MODULE = "groundwork.server.release_files"
INLINE_TOTAL = 4 << 20
INLINE_FILE = 1 << 20
# What a task may give: the module's options but the entries, which this plugin makes.
ARGUMENT_SPEC = {name: spec for name, spec in ARGUMENTS.items() if name != "entries"}
LISTS = ("written", "fixed", "created")


def entries_of(tree):
    """The module's entries (without content) from a tree manifest."""
    entries = []
    for path, entry in tree.items():
        if entry["state"] == "directory":
            entries.append({"path": path, "state": "directory"})
        else:
            entries.append({"path": path, "state": "file", "mode": entry["mode"], "sha256": entry["sha256"]})
    return entries


def batches(paths, sizes, total=INLINE_TOTAL, single=INLINE_FILE):
    """(inline batches, files sent on their own): consecutive files in runs of at most
    ``total`` bytes, and those over ``single`` bytes apart."""
    groups, current, size, alone = [], [], 0, []
    for path in paths:
        if sizes[path] > single:
            alone.append(path)
            continue
        if current and size + sizes[path] > total:
            groups.append(current)
            current, size = [], 0
        current.append(path)
        size += sizes[path]
    if current:
        groups.append(current)
    return groups, alone


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def _source(self, src):
        """The source directory: an absolute path, or one looked up in the role's and the
        play's files/ directories as ansible.builtin.copy looks it up."""
        if not os.path.isabs(src):
            try:
                src = self._find_needle("files", src)
            except AnsibleError:
                raise AnsibleError(f"{src!r} is not in the files/ directories of the role or play") from None
        if not os.path.isdir(src):
            raise AnsibleError(f"{src!r} is not a directory on the controller")
        return src.rstrip("/") or "/"

    def _module(self, args, entries, task_vars):
        result = self._execute_module(
            module_name=MODULE, module_args={**args, "entries": entries}, task_vars=task_vars
        )
        result.pop("invocation", None)
        return result

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            root = self._source(args["src"])
            tree = manifest(root)
            sizes = {
                path: os.path.getsize(os.path.join(root, path))
                for path, entry in tree.items()
                if entry["state"] == "file"
            }
        except AnsibleError as exc:
            result.update(failed=True, msg=f"src: {exc.message}")
            return result
        except OSError as exc:
            result.update(failed=True, msg=f"src: cannot read {args['src']!r} ({exc.strerror})")
            return result
        args["src"] = root
        entries = entries_of(tree)
        total = sum(sizes.values())
        outcome = {key: [] for key in LISTS}
        diffs = []
        try:
            if (
                not self._task.check_mode
                and total <= INLINE_TOTAL
                and all(s <= INLINE_FILE for s in sizes.values())
            ):
                first = self._with_content(root, entries, set(sizes), {})
            else:
                first = entries
            answer = self._merge(self._module(args, first, task_vars), outcome, diffs)
            if answer.get("failed"):
                return self._finish(result, answer, outcome, diffs)
            missing = answer.get("missing") or []
            if missing and not self._task.check_mode:
                answer = self._send(args, root, entries, missing, sizes, task_vars, outcome, diffs)
                if answer.get("failed"):
                    return self._finish(result, answer, outcome, diffs)
        except (OSError, AnsibleError) as exc:
            result.update(failed=True, msg=f"copying {root} to {args['dest']} failed: {exc}")
            return result
        finally:
            if self._connection._shell.tmpdir:
                self._remove_tmp_path(self._connection._shell.tmpdir)
        return self._finish(result, answer, outcome, diffs)

    def _with_content(self, root, entries, send, staged):
        """The entries, the files in ``send`` with their content inline and those in
        ``staged`` with the path they were transferred to; the others without content."""
        out = []
        for entry in entries:
            if entry["path"] in staged:
                entry = {**entry, "staged": staged[entry["path"]]}
            elif entry["path"] in send:
                with open(os.path.join(root, entry["path"]), "rb") as handle:
                    entry = {**entry, "content": base64.b64encode(handle.read()).decode("ascii")}
            out.append(entry)
        return out

    def _send(self, args, root, entries, missing, sizes, task_vars, outcome, diffs):
        """The missing files' content, in batches; each batch's run also writes nothing else."""
        by_path = {entry["path"]: entry for entry in entries}
        groups, alone = batches(missing, sizes)
        answer = {}
        for group in groups:
            answer = self._merge(
                self._module(
                    args, self._with_content(root, [by_path[p] for p in group], set(group), {}), task_vars
                ),
                outcome,
                diffs,
            )
            if answer.get("failed"):
                return answer
        if alone:
            if not self._connection._shell.tmpdir:
                self._make_tmp_path()
            for index, path in enumerate(alone):
                staged = self._connection._shell.join_path(
                    self._connection._shell.tmpdir, f"release-file-{index}"
                )
                self._transfer_file(os.path.join(root, path), staged)
                self._fixup_perms2((self._connection._shell.tmpdir, staged))
                answer = self._merge(
                    self._module(
                        args, self._with_content(root, [by_path[path]], set(), {path: staged}), task_vars
                    ),
                    outcome,
                    diffs,
                )
                if answer.get("failed"):
                    return answer
        return answer

    def _merge(self, answer, outcome, diffs):
        for key in LISTS:
            known = set(outcome[key])
            for path in answer.get(key) or []:
                if path not in known:
                    known.add(path)
                    outcome[key].append(path)
        if answer.get("diff") and (answer["diff"].get("before") or answer["diff"].get("after")):
            diffs.append(answer["diff"])
        return answer

    def _finish(self, result, answer, outcome, diffs):
        result.update(outcome)
        result["missing"] = []
        result["changed"] = any(outcome[key] for key in LISTS)
        if answer.get("failed"):
            result["failed"] = True
            result["msg"] = answer.get("msg", "the module failed")
            # what the runs before the failure wrote
            return result
        count = len(outcome["written"])
        verb = "would write" if self._task.check_mode else "wrote"
        where = answer.get("diff", {}).get("after_header", "")
        result["msg"] = (
            f"{verb} {count} file{'' if count == 1 else 's'} in {where}"
            if result["changed"]
            else answer.get("msg", "")
        )
        if self._task.diff and diffs:
            result["diff"] = diffs
        return result
