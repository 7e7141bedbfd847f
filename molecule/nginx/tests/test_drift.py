# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes made by hand on a converged proxy are found by the inspection and put back."""

from __future__ import annotations

from conftest import recap_changed, run_playbook, site_variables, snapshot

testinfra_hosts = ["ansible://nginx-proxy"]


def test_edited_files_modes_and_leftovers_are_put_back(host, tmp_path):
    rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    before = snapshot(host)["files"]
    host.run(
        "echo '# edited by hand' >> /etc/nginx/sites-enabled/shop.conf;"
        " chmod 0600 /etc/nginx/nginx.conf; touch /etc/nginx/conf.d/leftover.conf"
    )
    rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) > 0, output
    assert "Show the plan" in output
    assert snapshot(host)["files"] == before
    assert host.file("/etc/nginx/nginx.conf").mode == 0o644
    assert not host.file("/etc/nginx/conf.d/leftover.conf").exists
    rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) == 0, output
