# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The topology_graph module's glue: arguments in, files and results out, dot missing named."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.groundwork.server.plugins.modules import topology_graph

GROUPS = {"all": ["lb"], "loadbalancers": ["lb"]}
REPORT = "address=10.0.0.2\nrelease=12.8\nunit=nginx.service loaded active running nginx\n"


def fake_dot(module, argv, **_kwargs):
    _program, fmt, _o, out, _source = argv
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(fmt)
    return 0, "", ""


def run_module(monkeypatch, capsys, args, dot="/usr/bin/dot"):
    warned = []
    monkeypatch.setattr(topology_graph.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: dot)
    monkeypatch.setattr(topology_graph.AnsibleModule, "run_command", fake_dot)
    monkeypatch.setattr(topology_graph.AnsibleModule, "warn", lambda self, text: warned.append(text))
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        topology_graph.main()
    return exited.value.code, json.loads(capsys.readouterr().out), warned


def test_draws_writes_and_then_reports_no_change(monkeypatch, capsys, tmp_path):
    args = {
        "dest": str(tmp_path / "pic"),
        "groups": GROUPS,
        "hosts": [{"name": "lb", "report": REPORT}],
        "flows": [{"name": "web", "from": "any", "to": "loadbalancers", "port": 443}],
        "_ansible_diff": True,
    }
    code, out, warned = run_module(monkeypatch, capsys, args)
    assert code == 0 and warned == []
    assert out["changed"] is True
    assert out["dot"] == str(tmp_path / "pic" / "architecture.dot")
    assert out["paths"] == {
        "svg": str(tmp_path / "pic" / "architecture.svg"),
        "png": str(tmp_path / "pic" / "architecture.png"),
    }
    assert (out["hosts"], out["flows"]) == (1, 1)
    assert out["diff"]["before"] == "" and "web: 443/tcp" in out["diff"]["after"]
    assert (tmp_path / "pic" / "architecture.svg").read_text() == "-Tsvg"
    assert "nginx" in (tmp_path / "pic" / "architecture.dot").read_text()

    code, out, _warned = run_module(monkeypatch, capsys, args)
    assert code == 0 and out["changed"] is False and "diff" not in out


def test_check_mode_writes_nothing_and_warnings_reach_the_user(monkeypatch, capsys, tmp_path):
    args = {
        "dest": str(tmp_path / "pic"),
        "name": "topo",
        "formats": ["svg"],
        "groups": GROUPS,
        "_ansible_check_mode": True,
    }
    code, out, warned = run_module(monkeypatch, capsys, args)
    assert code == 0 and out["changed"] is True
    assert out["paths"] == {"svg": str(tmp_path / "pic" / "topo.svg")}
    assert not (tmp_path / "pic").exists()
    assert warned == ["host 'lb' was not inspected; it is drawn without services"]


def test_missing_dot_names_the_package(monkeypatch, capsys, tmp_path):
    code, out, _warned = run_module(monkeypatch, capsys, {"dest": str(tmp_path), "groups": GROUPS}, dot=None)
    assert code == 1
    assert out["msg"] == "Graphviz's dot was not found on the controller: install the package graphviz"
    assert list(tmp_path.iterdir()) == []


def test_bad_input_fails_with_the_message(monkeypatch, capsys, tmp_path):
    args = {"dest": str(tmp_path), "groups": GROUPS, "formats": ["gif"]}
    code, out, _warned = run_module(monkeypatch, capsys, args)
    assert code == 1 and "formats" in out["msg"] and "gif" in out["msg"]
    args = {"dest": str(tmp_path / "x"), "groups": GROUPS}
    (tmp_path / "x").write_text("")
    code, out, _warned = run_module(monkeypatch, capsys, args)
    assert code == 1 and out["msg"] == f"the output directory {tmp_path / 'x'} exists and is not a directory"
