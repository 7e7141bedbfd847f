# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Apache runs in the sandbox of its systemd drop-in, rated 5.0 or less by systemd-analyze,
and still reloads gracefully, serves, and runs its renewal hook; a changed drop-in is put back and
restarts Apache, once."""

from __future__ import annotations

import pytest
from conftest import recap_changed, run_playbook, site_variables
from weblib import assert_https_reaches_both_backends_in_turn

pytest.register_assert_rewrite("sandboxlib")
import sandboxlib  # noqa: E402

testinfra_hosts = ["ansible://apache-proxy"]
UNIT = "apache2.service"


def test_apache_runs_in_its_sandbox(host):
    assert sandboxlib.assert_sandboxed(host, UNIT) <= sandboxlib.LIMIT


def test_a_reload_and_the_renewal_hook_keep_the_sandboxed_master(host, curl):
    sandboxlib.assert_hook_keeps_the_sandboxed_master(
        host, UNIT, f"systemctl reload {UNIT}", "/etc/groundwork/tls/hooks/shop.d/apache"
    )
    assert_https_reaches_both_backends_in_turn(curl)


def test_a_changed_drop_in_is_put_back_with_one_restart(host, curl, tmp_path):
    sandboxlib.assert_changed_drop_in_put_back(
        host, UNIT, "Apache", lambda: run_playbook(site_variables(), tmp_path)
    )
    assert_https_reaches_both_backends_in_turn(curl)
    rc, output = run_playbook(site_variables(), tmp_path)
    assert rc == 0 and recap_changed(output) == 0, output
