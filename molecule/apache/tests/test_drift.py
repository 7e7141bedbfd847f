# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes made by hand on a converged proxy are found by the inspection and put back."""

from __future__ import annotations

from conftest import recap_changed, run_playbook, site_variables, snapshot

testinfra_hosts = ["ansible://apache-proxy"]


def test_edited_files_modes_leftovers_and_modules_are_put_back(host, tmp_path):
    rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    before = snapshot(host)["files"]
    result = host.run(
        "echo '# edited by hand' >> /etc/apache2/sites-enabled/shop.conf;"
        " chmod 0600 /etc/apache2/ports.conf; touch /etc/apache2/conf-enabled/leftover.conf;"
        " a2enmod -q autoindex"
    )
    assert result.rc == 0, result.stdout + result.stderr
    assert host.file("/etc/apache2/mods-enabled/autoindex.load").is_symlink
    rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) > 0, output
    assert "Show the plan" in output
    assert snapshot(host)["files"] == before
    assert host.file("/etc/apache2/ports.conf").mode == 0o644
    assert not host.file("/etc/apache2/conf-enabled/leftover.conf").exists
    assert not host.file("/etc/apache2/mods-enabled/autoindex.load").exists
    assert not host.file("/etc/apache2/mods-enabled/autoindex.conf").exists
    assert "autoindex_module" not in host.check_output("apache2ctl -M 2>/dev/null")
    rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) == 0, output
