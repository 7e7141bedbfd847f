# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes made by hand on a converged server are found by the inspection and put back:
an edited file of the live release, a wrong mode, a stopped service."""

from __future__ import annotations

from conftest import get, run_playbook, snapshot, variables

testinfra_hosts = ["ansible://app-server"]


def files(host):
    return snapshot(host)["files"]


def test_an_edited_release_a_wrong_mode_and_a_stopped_service_are_put_back(host, tmp_path):
    rc, output = run_playbook(variables(), tmp_path)
    assert rc == 0, output
    before = files(host)
    live = host.check_output("readlink -f /srv/demo/current")
    host.run(
        f"echo '# edited by hand' >> {live}/app.py; chmod 0644 /etc/demo/env; systemctl stop demo.service"
    )
    rc, output = run_playbook(variables(), tmp_path)
    assert rc == 0, output
    assert "changed=0" not in output, output
    assert files(host) == before
    assert host.file("/etc/demo/env").mode == 0o600
    assert get(host, "http://127.0.0.1:8000/healthz") == (200, "ok")
    rc, output = run_playbook(variables(), tmp_path)
    assert rc == 0, output
    assert "app-server                 : ok" in output and "changed=0" in output, output
