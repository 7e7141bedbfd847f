# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A rule added by hand, or an edited boot file, is found by the inspection and put back."""

from __future__ import annotations

from conftest import firewall_variables, recap_changed, run_playbook, snapshot, table

testinfra_hosts = ["ansible://fw-target"]


def test_a_rule_added_by_hand_and_an_edited_boot_file_are_put_back(host, tmp_path):
    rc, output = run_playbook(firewall_variables(), tmp_path)
    assert rc == 0, output
    before = snapshot(host)
    host.run("nft add rule inet groundwork input tcp dport 4444 accept")
    assert "4444" in table(host)
    rc, output = run_playbook(firewall_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) > 0, output
    assert "4444" not in table(host)
    assert snapshot(host) == before
    host.run("echo '# edited by hand' >> /etc/groundwork/firewall/groundwork.nft")
    rc, output = run_playbook(firewall_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) > 0, output
    assert snapshot(host) == before
    rc, output = run_playbook(firewall_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) == 0, output
