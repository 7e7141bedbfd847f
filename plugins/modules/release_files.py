#!/usr/bin/python
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: release_files
short_description: Copy a directory tree from the controller to a host in one module run
version_added: 0.1.0
description:
  - Makes the directory O(dest) on the host hold the files and directories of the directory
    O(src) on the controller, with their content and file modes, owned by O(owner) and O(group).
    Files in O(dest) that O(src) does not have are left alone, as M(ansible.builtin.copy) leaves
    them.
  - Where M(ansible.builtin.copy) costs one or more round trips per file, this costs one module
    run for a tree of up to 4 MiB, and for a larger one a module run that compares checksums,
    then the content of only the files that differ (in runs of up to 4 MiB; a file over 1 MiB is
    transferred on its own, as M(ansible.builtin.copy) would).
  - Each file is written next to its place and renamed over it, so a reader sees the old or the
    new content, never part of it. Content is checked against its SHA-256 before it is written.
  - Symbolic links in O(src) are followed (their targets are copied); O(dest) and the
    directories below it must not be symbolic links on the host, so nothing is written outside
    O(dest).
  - The P(groundwork.server.app#role) role copies each release of the application with it.
author: groundwork developers (@groundwork)
attributes:
  check_mode:
    support: full
    description: Compares checksums, modes and owners, reports what a real run would change, and
      sends and writes nothing.
  diff_mode:
    support: partial
    description: The diff lists each changed path with its checksum, mode and owner before and
      after; the content of files is not shown.
  idempotent:
    support: full
    description: A second run finds every file as the first left it and changes nothing.
options:
  src:
    description: The directory on the controller whose content is copied (not the directory
      itself). Relative paths are looked up as M(ansible.builtin.copy) looks up its O(src).
    type: path
    required: true
  dest:
    description: The directory on the host. Its parent must exist; O(dest) is created when missing.
    type: path
    required: true
  owner:
    description: The user that owns every file and directory written, by name or number.
    type: str
    default: root
  group:
    description: The group of every file and directory written, by name or number.
    type: str
    default: root
  directory_mode:
    description: The mode of O(dest) and of every directory below it, as an octal string.
    type: str
    default: "0750"
  entries:
    description:
      - Internal, set by the action plugin from O(src); not to be given in a task.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The path relative to O(dest).
        type: str
        required: true
      state:
        description: A regular file or a directory.
        type: str
        choices: [file, directory]
        default: file
      mode:
        description: The file's mode, an octal string (files only).
        type: str
      sha256:
        description: The SHA-256 of the file's content (files only).
        type: str
      content:
        description: The file's content, base64-encoded, when it is sent inline.
        type: str
      staged:
        description: A file on the host holding the content, when it was transferred on its own.
        type: path
"""

EXAMPLES = r"""
- name: Copy the application into its release directory
  groundwork.server.release_files:
    src: files/myapp/
    dest: /srv/myapp/releases/1.4.2
    owner: root
    group: myapp
    directory_mode: "0750"
"""

RETURN = r"""
written:
  description: The paths (relative to O(dest)) whose content was written, or would be in check mode.
  returned: always
  type: list
  elements: str
  sample: [app.py, static/site.css]
fixed:
  description: The paths whose mode or owner was corrected (their content was already right).
  returned: always
  type: list
  elements: str
  sample: [bin/run]
created:
  description: The directories created (V(.) is O(dest) itself).
  returned: always
  type: list
  elements: str
  sample: [., static]
missing:
  description: Internal - the files whose content the module needs and was not sent; the action
    plugin sends them. Empty in the result of the task.
  returned: always
  type: list
  elements: str
  sample: []
"""

import base64
import binascii
import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import (
    digest,
    file_digest,
    octal_mode,
)
from ansible_collections.groundwork.server.plugins.module_utils._files.write import (
    group_id,
    replace_file,
    user_id,
)

ARGUMENTS = {
    "src": {"type": "path", "required": True},
    "dest": {"type": "path", "required": True},
    "owner": {"type": "str", "default": "root"},
    "group": {"type": "str", "default": "root"},
    "directory_mode": {"type": "str", "default": "0750"},
    "entries": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "path": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["file", "directory"], "default": "file"},
            "mode": {"type": "str"},
            "sha256": {"type": "str"},
            # The content is not shown in the invocation (it may be large, and an application's
            # files may hold what should not be logged).
            "content": {"type": "str", "no_log": True},
            "staged": {"type": "path"},
        },
    },
}
SHA256 = re.compile(r"[0-9a-f]{64}")


class ReleaseFilesError(Exception):
    pass


def parse_mode(value, what):
    mode = octal_mode(value) if isinstance(value, str) else None
    if mode is None:
        raise ReleaseFilesError(
            f"{what}: {value!r} is not a mode (an octal string such as '0644', at most 07777)"
        )
    return mode


def relative(path):
    """The path split in parts, refused when it could leave the destination."""
    parts = path.split("/") if isinstance(path, str) else []
    if not path or path.startswith("/") or "\0" in path or any(part in ("", ".", "..") for part in parts):
        raise ReleaseFilesError(
            f"entries: {path!r} is not a path inside dest (relative, without '.', '..' or empty parts)"
        )
    return parts


def check_entries(entries):
    """The entries, directories first (shallowest first), each with its parsed mode."""
    checked = []
    seen = set()
    for entry in entries:
        parts = relative(entry["path"])
        if entry["path"] in seen:
            raise ReleaseFilesError(f"entries: {entry['path']!r} is listed twice")
        seen.add(entry["path"])
        item = {"path": entry["path"], "parts": parts, "state": entry["state"]}
        if entry["state"] == "file":
            item["mode"] = parse_mode(entry.get("mode"), f"entries: mode of {entry['path']!r}")
            if not isinstance(entry.get("sha256"), str) or not SHA256.fullmatch(entry["sha256"]):
                raise ReleaseFilesError(
                    f"entries: the sha256 of {entry['path']!r} is not 64 lowercase hex digits"
                )
            item["sha256"] = entry["sha256"]
            item["content"] = entry.get("content")
            item["staged"] = entry.get("staged")
        checked.append(item)
    checked.sort(key=lambda item: (item["state"] != "directory", len(item["parts"]), item["path"]))
    return checked


def ids(owner, group):
    uid = user_id(owner)
    if uid is None:
        raise ReleaseFilesError(f"owner: the user {owner!r} does not exist on the host")
    gid = group_id(group)
    if gid is None:
        raise ReleaseFilesError(f"group: the group {group!r} does not exist on the host")
    return uid, gid


def describe(info, sha256=None):
    if info is None:
        return "absent"
    text = f"mode {stat.S_IMODE(info.st_mode):04o}, owner {info.st_uid}:{info.st_gid}"
    return f"sha256 {sha256[:12]}, {text}" if sha256 else text


class Tree:
    def __init__(self, dest, uid, gid, directory_mode, check_mode):
        self.dest = dest
        self.uid = uid
        self.gid = gid
        self.directory_mode = directory_mode
        self.check_mode = check_mode
        self.result = {"changed": False, "written": [], "fixed": [], "created": [], "missing": []}
        self.before = []
        self.after = []
        self.seen = set()

    def _lstat(self, path):
        try:
            return os.lstat(path)
        except FileNotFoundError:
            return None

    def _attributes_differ(self, info, mode):
        return stat.S_IMODE(info.st_mode) != mode or info.st_uid != self.uid or info.st_gid != self.gid

    def _set_attributes(self, path, mode):
        os.chown(path, self.uid, self.gid, follow_symlinks=False)
        os.chmod(path, mode)

    def _note(self, key, name, before, after):
        self.result[key].append(name)
        self.result["changed"] = True
        self.before.append(f"{name}: {before}\n")
        self.after.append(f"{name}: {after}\n")

    def directory(self, name, path):
        """A directory with the directory mode and owner; created when missing."""
        if name in self.seen:
            return
        self.seen.add(name)
        info = self._lstat(path)
        wanted = f"directory, mode {self.directory_mode:04o}, owner {self.uid}:{self.gid}"
        if info is None:
            if not self.check_mode:
                os.mkdir(path, self.directory_mode)
                self._set_attributes(path, self.directory_mode)
            self._note("created", name, "absent", wanted)
            return
        if not stat.S_ISDIR(info.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "a file"
            raise ReleaseFilesError(
                f"{path} is not a directory on the host ({kind}): nothing is written through it"
            )
        if self._attributes_differ(info, self.directory_mode):
            if not self.check_mode:
                self._set_attributes(path, self.directory_mode)
            self._note("fixed", name, describe(info), wanted)

    def parents(self, item):
        """Every directory between dest and the file exists (as a real directory) or is made."""
        for depth in range(1, len(item["parts"])):
            name = "/".join(item["parts"][:depth])
            self.directory(name, os.path.join(self.dest, name))

    def file(self, item):
        name = item["path"]
        path = os.path.join(self.dest, name)
        self.parents(item)
        info = self._lstat(path)
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise ReleaseFilesError(f"{path} is a directory on the host, where a file belongs")
        regular = info is not None and stat.S_ISREG(info.st_mode)
        found = file_digest(path) if regular else None
        wanted = f"sha256 {item['sha256'][:12]}, mode {item['mode']:04o}, owner {self.uid}:{self.gid}"
        if found == item["sha256"]:
            if self._attributes_differ(info, item["mode"]):
                if not self.check_mode:
                    self._set_attributes(path, item["mode"])
                self._note("fixed", name, describe(info, found), wanted)
            return
        before = describe(info, found) if regular else ("absent" if info is None else "not a regular file")
        if self.check_mode:
            self._note("written", name, before, wanted)
            return
        data = self._content(item)
        if data is None and item["staged"] is None:
            self.result["missing"].append(name)
            return
        self._write(path, item, data)
        self._note("written", name, before, wanted)

    def _content(self, item):
        if item["content"] is None:
            return None
        try:
            data = base64.b64decode(item["content"], validate=True)
        except (binascii.Error, ValueError):
            raise ReleaseFilesError(f"entries: the content of {item['path']!r} is not base64") from None
        if digest(data) != item["sha256"]:
            raise ReleaseFilesError(
                f"the content sent for {item['path']!r} does not match its sha256: nothing written"
            )
        return data

    def _write(self, path, item, data):
        if data is None and file_digest(item["staged"]) != item["sha256"]:
            raise ReleaseFilesError(
                f"the file transferred for {item['path']!r} does not match its sha256: nothing written"
            )
        replace_file(
            path,
            self.uid,
            self.gid,
            item["mode"],
            data=data,
            source=item["staged"] if data is None else None,
            prefix=".release_files-",
            # a release is many files: the file system writes them back as it does
            durable=False,
        )


def run(params, check_mode):
    directory_mode = parse_mode(params["directory_mode"], "directory_mode")
    entries = check_entries(params["entries"])
    uid, gid = ids(params["owner"], params["group"])
    dest = params["dest"]
    if not os.path.isabs(dest):
        raise ReleaseFilesError(f"dest: {dest!r} is not an absolute path")
    dest = os.path.normpath(dest)
    if not os.path.isdir(os.path.dirname(dest)) and not check_mode:
        # (check mode on a fresh host: the parent is made by an earlier task of the real run)
        raise ReleaseFilesError(f"dest: the parent of {dest} is not a directory on the host")
    tree = Tree(dest, uid, gid, directory_mode, check_mode)
    tree.directory(".", dest)
    if not os.path.isdir(dest):
        # check mode with dest still to create: everything in it is new
        for item in entries:
            tree.before.append(f"{item['path']}: absent\n")
            tree.after.append(f"{item['path']}: {'directory' if item['state'] == 'directory' else 'file'}\n")
            tree.result["created" if item["state"] == "directory" else "written"].append(item["path"])
    else:
        for item in entries:
            if item["state"] == "directory":
                tree.parents(item)
                tree.directory(item["path"], os.path.join(dest, item["path"]))
            else:
                tree.file(item)
    result = tree.result
    result["diff"] = {
        "before_header": dest,
        "after_header": dest,
        "before": "".join(tree.before),
        "after": "".join(tree.after),
    }
    count = len(result["written"])
    result["msg"] = (
        f"{'would write' if check_mode else 'wrote'} {count} file{'s' if count != 1 else ''} in {dest}"
        if result["changed"]
        else f"{dest} holds every file as sent"
    )
    return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENTS, supports_check_mode=True)
    try:
        result = run(module.params, module.check_mode)
    except ReleaseFilesError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=f"writing the files in {module.params['dest']} failed: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
