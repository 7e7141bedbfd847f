# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A configuration that "sshd -t" rejects, or whose effect ("sshd -T") is not the hardened
one, is never activated and leaves no trace."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import testinfra
from conftest import valid_vars

testinfra_hosts = ["ansible://base-target"]

SCENARIO = Path(__file__).resolve().parents[1]
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
DROPIN = "/etc/ssh/sshd_config.d/00-groundwork.conf"
BROKEN = "/etc/ssh/sshd_config.d/50-broken.conf"


# The scenario's valid input, with one sshd setting changed (MaxAuthTries 3 -> 5).
EXTRA = {**valid_vars(), "base_sshd_max_auth_tries": 5}


def converge_refused(host):
    """Apply a changed sshd setting (MaxAuthTries 5); the run must fail and change nothing of sshd."""
    before = host.file(DROPIN).sha256sum
    result = subprocess.run(
        ["ansible-playbook", "-i", INVENTORY, str(SCENARIO / "bad_input.yml"), "-e", json.dumps(EXTRA)],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | {"ANSIBLE_NOCOLOR": "1"},
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "sshd rejected the new configuration" in output
    assert "RUNNING HANDLER [groundwork.server.base : Reload the SSH service]" not in output
    assert host.file(DROPIN).sha256sum == before
    return output


def assert_sshd_runs_as_before(host):
    assert host.check_output("/usr/sbin/sshd -T | grep -i '^maxauthtries'") == "maxauthtries 3"
    peer = testinfra.get_host("ansible://base-peer", ansible_inventory=INVENTORY)
    login = peer.run(
        "ssh -i /root/.ssh/id_base -o BatchMode=yes -o StrictHostKeyChecking=no "
        "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR alice@base-target true"
    )
    assert login.rc == 0, login.stderr


def test_rejected_sshd_configuration_is_rolled_back(host):
    # Another drop-in that sshd cannot parse: the role's own drop-in is fine on its own,
    # the complete configuration is not.
    host.run(f"printf 'NoSuchOption yes\\n' > {BROKEN}")
    try:
        output = converge_refused(host)
        assert "NoSuchOption" in output  # sshd's own verdict is passed on
        leftovers = host.run("ls /etc/ssh/sshd_config.d").stdout.split()
        assert sorted(leftovers) == ["00-cloud-init.conf", "00-groundwork.conf", "50-broken.conf"]
    finally:
        host.run(f"rm -f {BROKEN}")
    assert_sshd_runs_as_before(host)


def test_a_configuration_whose_effect_differs_is_rolled_back(host):
    # A setting in sshd_config before its Include line wins over every drop-in: sshd accepts
    # the files, but their effect is not the hardened one.
    main = "/etc/ssh/sshd_config"
    original = host.file(main).content_string
    host.run(f"cp -p {main} {main}.test-backup && sed -i '1i MaxAuthTries 4' {main}")
    try:
        output = converge_refused(host)
        assert 'maxauthtries is "4", wanted "5"' in output
    finally:
        host.run(f"mv -f {main}.test-backup {main}")
    assert host.file(main).content_string == original
    assert_sshd_runs_as_before(host)
