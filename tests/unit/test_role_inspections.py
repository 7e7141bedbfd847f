# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' inspection programs run as groundwork.server.host_info runs them, on this machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ansible_collections.groundwork.server.plugins.plugin_utils._firewall_model import parse_report
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


def test_the_firewall_report_reads_like_the_shell_version(tmp_path):
    args = {
        "table": "groundwork",
        "family": "inet",
        "state_dir": str(tmp_path),
        "persist": str(tmp_path / "t.nft"),
        "unit": str(tmp_path / "groundwork-firewall.service"),
    }
    info = inspect("firewall", [json.dumps(args)])
    report = parse_report(info["report"])
    assert set(report) == {"controller", "connection_port", "addresses", "packages"}
    assert all(":" in a or a.count(".") == 3 for a in report["addresses"])
    table = info["table"]
    assert table["paths"] == {k: args[k] for k in ("state_dir", "persist", "unit")}
    assert table["applied"] is None and table["pending"] is False and table["persist"] is None


def test_the_firewall_report_finds_ssh_connection_of_the_session(monkeypatch, tmp_path):
    args = {
        "table": "groundwork",
        "family": "inet",
        "state_dir": str(tmp_path),
        "persist": str(tmp_path / "t.nft"),
        "unit": str(tmp_path / "u.service"),
    }
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.10 50000 192.0.2.20 22")
    info = inspect("firewall", [json.dumps(args)])
    assert parse_report(info["report"])["controller"] == "192.0.2.10"
