# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nftables_table module's glue: arguments in, results and failures out."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.groundwork.server.plugins.module_utils._nftables.core import NftablesError, Result
from ansible_collections.groundwork.server.plugins.modules import nftables_table

BODY = "chain input {\n  type filter hook input priority filter; policy drop;\n}"


class StubHost:
    def __init__(self, run, which):
        self.nft = "/usr/sbin/nft"


class NoNftHost(StubHost):
    def __init__(self, run, which):
        self.nft = None


def run_module(monkeypatch, capsys, args, outcome=None, host=StubHost):
    """Run main() with ``args``; ``outcome`` is the Result (or exception) of the backend."""
    calls = []

    def fake_run_state(_host, spec, state, check_mode=False):
        calls.append((spec, state, check_mode))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(nftables_table, "LocalHost", host)
    monkeypatch.setattr(nftables_table, "run_state", fake_run_state)
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        nftables_table.main()
    return exited.value.code, json.loads(capsys.readouterr().out), calls


def test_present_returns_the_interface_values(monkeypatch, capsys):
    result = Result(
        changed=True,
        armed=True,
        comparison="namespace",
        diff={"before": "", "after": "table inet groundwork {\n}\n"},
        applied_digest="ab",
        msg="table inet groundwork applied",
        warnings=["a warning"],
    )
    warned = []
    # Where the warning goes depends on whether controller code was loaded in this process.
    monkeypatch.setattr(nftables_table.AnsibleModule, "warn", lambda self, text: warned.append(text))
    code, out, calls = run_module(monkeypatch, capsys, {"content": BODY}, result)
    assert code == 0
    assert warned == ["a warning"]
    spec, state, check_mode = calls[0]
    assert (spec.name, spec.family, spec.content, spec.confirm_timeout, spec.persist_path) == (
        "groundwork",
        "inet",
        BODY,
        60,
        None,
    )
    assert (state, check_mode) == ("present", False)
    assert out["changed"] is True and out["armed"] is True and out["rolled_back"] is False
    assert out["rollback_unit"] == "groundwork-firewall-rollback"
    assert out["boot_unit"] == "groundwork-firewall.service"
    assert out["persist_path"] == "/etc/groundwork/firewall/groundwork.nft"
    assert out["comparison"] == "namespace"
    assert out["diff"]["after"] == "table inet groundwork {\n}\n"
    assert out["previous_digest"] is None and out["applied_digest"] == "ab"


def test_other_name_and_check_mode(monkeypatch, capsys):
    args = {"name": "lab", "family": "ip6", "state": "absent", "_ansible_check_mode": True}
    code, out, calls = run_module(monkeypatch, capsys, args, Result(changed=True))
    assert code == 0
    assert calls[0][1:] == ("absent", True)
    assert out["rollback_unit"] == "groundwork-firewall-rollback-lab"
    assert out["boot_unit"] == "groundwork-firewall-lab.service"
    assert out["persist_path"] == "/etc/groundwork/firewall/lab.nft"
    assert "comparison" not in out


def test_rolled_back_confirmation_fails_with_the_message(monkeypatch, capsys):
    result = Result(failed=True, rolled_back=True, msg="the host restored the previous table by itself")
    code, out, _calls = run_module(monkeypatch, capsys, {"state": "confirmed"}, result)
    assert code == 1
    assert out["failed"] is True and out["rolled_back"] is True and out["changed"] is False
    assert out["msg"] == "the host restored the previous table by itself"


def test_backend_errors_fail_with_their_message_and_changed(monkeypatch, capsys):
    error = NftablesError("nft rejected table inet groundwork (nothing was changed): content line 2: Error")
    code, out, _calls = run_module(monkeypatch, capsys, {"content": "bogus"}, error)
    assert code == 1 and out["changed"] is False
    assert out["msg"].startswith("nft rejected table inet groundwork")
    code, out, _calls = run_module(monkeypatch, capsys, {"content": BODY}, NftablesError("x", changed=True))
    assert code == 1 and out["changed"] is True


def test_content_is_required_with_present(monkeypatch, capsys):
    code, out, calls = run_module(monkeypatch, capsys, {}, Result())
    assert code == 1 and not calls
    assert "state is present but all of the following are missing: content" in out["msg"]


def test_missing_nft_is_named(monkeypatch, capsys):
    code, out, calls = run_module(monkeypatch, capsys, {"content": BODY}, Result(), host=NoNftHost)
    assert code == 1 and not calls
    assert out["msg"] == "nft was not found on the host: install the nftables package"
