# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' inspection programs run as groundwork.server.host_info runs them, on this machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import (
    PROBE,
    build_command,
    parse_answer,
)

ROLES = Path(__file__).resolve().parents[2] / "roles"


def inspect(role, argv):
    program = (ROLES / role / "files" / "inspect.py").read_text()
    command = build_command(sys.executable, PROBE.read(), {"program": program, "argv": argv})
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False)
    answer, error = parse_answer(done.returncode, done.stdout, done.stderr)
    assert error is None, error
    return answer["info"]


def test_the_app_inspection_of_a_host_without_the_app(tmp_path):
    args = {
        "app_dir": str(tmp_path / "srv" / "demo"),
        "unit": "groundwork-test-none.service",
        "user": "nobody-x",
        "group": "nogroup-x",
        "packages": ["python3-apt"],
    }
    info = inspect("app", [json.dumps(args)])
    assert info["current"] is None and info["releases"] == [] and info["history"] == []
    assert info["account"] == {"user": None, "group": False}
    assert info["active"] is False
