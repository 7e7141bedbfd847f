# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes made by hand on a converged host are found by the inspection and put back."""

from __future__ import annotations

from conftest import recap_changed, run_playbook, snapshot, target_variables

testinfra_hosts = ["ansible://tls-target"]


def test_edited_certificate_files_and_trust_store_are_put_back(host, tmp_path):
    rc, output = run_playbook(target_variables(), tmp_path)
    assert rc == 0, output
    before = snapshot(host)["files"]
    trusted = host.check_output("ls /usr/local/share/ca-certificates/groundwork-*.crt").split()[0]
    # intranet (internal CA) and legacy (self-signed): the role writes their files; the ACME
    # certificate's belong to the renewal program on the host
    host.run(
        "chmod 0600 /etc/ssl/groundwork/intranet/fullchain.pem /etc/ssl/groundwork/legacy/cert.pem;"
        f" echo '# edited by hand' >> {trusted};"
        " touch /etc/groundwork/tls/certificates/leftover.json"
    )
    rc, output = run_playbook(target_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) > 0, output
    assert snapshot(host)["files"] == before
    for path in ("/etc/ssl/groundwork/intranet/fullchain.pem", "/etc/ssl/groundwork/legacy/cert.pem"):
        assert host.file(path).mode == 0o644, path
    rc, output = run_playbook(target_variables(), tmp_path)
    assert rc == 0, output
    assert recap_changed(output) == 0, output
