# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The command groundwork.server.host_info runs, and how its answer is read.

The same one-command mechanism serves other action plugins of the collection that read a
host before they decide whether a module has to run at all (postgresql_objects).

Import inside the collection as
    from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import (
        PROBE, ProbeAction, build_command, interpreter, parse_answer, read_host)
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import zlib

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase


class _Source:
    """A program of this package, read once per process."""

    def __init__(self, name):
        self.path = os.path.join(os.path.dirname(__file__), name)
        self._text = None

    def read(self):
        if self._text is None:
            with open(self.path, encoding="utf-8") as handle:
                self._text = handle.read()
        return self._text


PROBE = _Source("_host_probe.py")
POSTGRESQL_READER = _Source("_postgresql_reader.py")

# Runs the probe given as argument 1; the probe reads its request from argument 2.
BOOTSTRAP = "import base64,sys,zlib;exec(zlib.decompress(base64.b64decode(sys.argv[1])))"


def pack(text):
    """Text as base64 of its zlib compression: only [A-Za-z0-9+/=], nothing for a shell to expand."""
    return base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")


def interpreter(task_vars, templar):
    """The host's Python: ansible_python_interpreter when set, else the discovered one, else python3."""
    configured = task_vars.get("ansible_python_interpreter")
    if configured is not None:
        configured = to_text(templar.template(configured))
        if configured and not configured.startswith("auto"):
            return configured
    discovered = (task_vars.get("ansible_facts") or {}).get("discovered_interpreter_python")
    return to_text(discovered) if discovered else "/usr/bin/python3"


def build_command(python, probe, args):
    """The one shell command: the interpreter, the bootstrap, the probe and the request."""
    request = {
        "program": args.get("program"),
        "argv": list(args.get("argv") or []),
        "files": list(args.get("files") or []),
        "dirs": list(args.get("dirs") or []),
        "packages": list(args.get("packages") or []),
        "units": list(args.get("units") or []),
        "probes": dict(args.get("probes") or {}),
    }
    words = [python, "-c", BOOTSTRAP, pack(probe), pack(json.dumps(request, sort_keys=True))]
    return " ".join(shlex.quote(word) for word in words)


def parse_answer(rc, stdout, stderr):
    """(answer, None) for a good answer, (None, message) otherwise."""
    detail = (stderr or "").strip() or (stdout or "").strip()
    if rc != 0:
        return None, f"The inspection failed on the host (exit code {rc}): {detail[-2000:] or 'no output'}"
    text = (stdout or "").strip()
    # A login banner or a become prompt may come first: the answer is the last line.
    last = text.splitlines()[-1] if text else ""
    try:
        answer = json.loads(last)
    except ValueError:
        return None, f"The inspection printed no JSON answer: {text[-500:]!r}"
    if not isinstance(answer, dict) or not {"os", "files", "dirs"} <= set(answer):
        return None, f"The inspection printed an unexpected answer: {last[:500]!r}"
    answer.setdefault("info", None)
    for key in ("packages", "units", "probes"):
        answer.setdefault(key, {})
    return answer, None


def read_host(action, task_vars, args):
    """Run the probe with the request ``args`` on the action's host, with one command:
    (answer, None), or (None, message) when it failed."""
    command = build_command(interpreter(task_vars, action._templar), PROBE.read(), args)
    done = action._low_level_execute_command(command, sudoable=True)
    return parse_answer(done.get("rc"), done.get("stdout", ""), done.get("stderr", ""))


class ProbeAction(ActionBase):
    """The base of the collection's action plugins that decide on the controller from what they
    read (host_info, role_plan, tier_server, postgresql_objects): they decide in check mode
    exactly as in a real run, and report no change of their own."""

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False

    def start(self, tmp, task_vars, argument_spec, **spec_options):
        """(result, args): the base result (changed false) and the validated task arguments."""
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=argument_spec, **spec_options)
        result["changed"] = False
        return result, args
