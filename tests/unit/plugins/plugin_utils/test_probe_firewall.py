# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall's probe (plugin_utils/_probes/firewall.py), run as role_plan runs it, on this machine."""

from __future__ import annotations

import importlib

from ansible_collections.groundwork.server.plugins.module_utils._nftables import core, host
from ansible_collections.groundwork.server.plugins.plugin_utils._flows import parse_report
from ansible_collections.groundwork.server.plugins.plugin_utils._role_action import probe_source
from ansible_collections.groundwork.server.tests.unit.probe_runner import run_role_probe

probe = importlib.import_module("ansible_collections.groundwork.server.plugins.plugin_utils._probes.firewall")
BODY = "chain input {\n  type filter hook input priority filter; policy drop;\n}"


def inspect(args):
    return run_role_probe("firewall", args)


def arguments(tmp_path):
    return {
        "table": "groundwork",
        "family": "inet",
        "state_dir": str(tmp_path),
        "persist": str(tmp_path / "t.nft"),
        "unit": str(tmp_path / "groundwork-firewall.service"),
        "packages": ["nftables", "python3-apt"],
    }


def test_the_report_and_the_table_of_a_host_without_the_firewall(tmp_path):
    args = arguments(tmp_path)
    info = inspect(args)
    report = parse_report(info["report"])
    assert set(report) == {"controller", "connection_port", "addresses", "packages"}
    assert all(":" in a or a.count(".") == 3 for a in report["addresses"])
    table = info["table"]
    assert table["paths"] == {k: args[k] for k in ("state_dir", "persist", "unit")}
    assert table["applied"] is None and table["pending"] is False and table["persist"] is None


def test_the_report_finds_the_ssh_connection_of_the_session(monkeypatch, tmp_path):
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.10 50000 192.0.2.20 22")
    info = inspect(arguments(tmp_path))
    assert parse_report(info["report"])["controller"] == "192.0.2.10"
    assert parse_report(info["report"])["connection_port"] == 22


def test_the_probe_normalizes_listings_like_the_module():
    listing = f"table inet groundwork {{\n{BODY}\n}}\n"
    for text in ("", "\n", "table inet x {\n\tchain c {  \n\t}\n}", "\n\ntable  \n\n", listing):
        assert probe.normalize(text) == core.normalize(text)
        assert probe.digest(probe.normalize(text)) == core.digest(core.normalize(text))
    assert probe.NFT_PATHS == host.NFT_PATHS


def test_the_probe_imports_nothing_of_ansible():
    assert "ansible" not in probe_source("firewall").replace("groundwork.server", "")
