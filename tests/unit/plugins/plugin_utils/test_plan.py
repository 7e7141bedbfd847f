# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._plan import (
    Change,
    Plan,
    file_changes,
    missing_packages,
    package_changes,
    release_problem,
    start_needed,
    unit_changes,
)


@pytest.mark.parametrize(
    ("wanted", "states", "missing"),
    [
        (["nginx"], {"nginx": "installed"}, []),
        (["nginx", "openssl"], {"nginx": "installed", "openssl": "not-installed"}, ["openssl"]),
        (["nginx"], {"nginx": "config-files"}, ["nginx"]),
        (["nginx=1.22.1-9"], {"nginx": "installed"}, ["nginx=1.22.1-9"]),
        (["nginx"], None, ["nginx"]),
    ],
)
def test_missing_packages(wanted, states, missing):
    assert missing_packages(wanted, states) == missing
    assert package_changes(wanted, states) == [Change("package", name, "not installed") for name in missing]


@pytest.mark.parametrize(
    ("state", "reasons"),
    [
        ({"enabled": "enabled", "active": "active"}, []),
        ({"enabled": "disabled", "active": "active"}, ["not enabled (disabled)"]),
        ({"enabled": "enabled", "active": "failed"}, ["not running (failed)"]),
        ({}, ["not enabled (unknown), not running (unknown)"]),
    ],
)
def test_unit_changes(state, reasons):
    assert [change.reason for change in unit_changes("nginx.service", state)] == reasons


@pytest.mark.parametrize(
    ("state", "activated", "needed"),
    [
        # enabled and running: nothing to do, whatever the transaction does
        ({"enabled": "enabled", "active": "active"}, False, False),
        ({"enabled": "enabled", "active": "active"}, True, False),
        # stopped: the transaction starts it when it changes files, else a task of its own
        ({"enabled": "enabled", "active": "inactive"}, True, False),
        ({"enabled": "enabled", "active": "failed"}, False, True),
        # not enabled: only a task of its own enables it
        ({"enabled": "disabled", "active": "active"}, True, True),
        ({"enabled": "not-found", "active": "inactive"}, True, True),
        (None, True, True),
    ],
)
def test_a_unit_is_started_apart_only_for_what_its_transaction_leaves_undone(state, activated, needed):
    assert start_needed("unbound.service", state, activated) is needed


def test_file_changes_explain_each_file():
    changes = file_changes([{"path": "/etc/x", "content": "a"}], {"/etc/x": {"state": "absent"}})
    assert [str(change) for change in changes] == ["file /etc/x: does not exist"]


@pytest.mark.parametrize(
    ("os_release", "problem"),
    [
        ({"id": "debian", "version_id": "12", "version": "12.8", "name": "Debian GNU/Linux"}, None),
        ({"id": "debian", "version_id": "13", "version": "13.1", "name": "Debian GNU/Linux"}, None),
        (
            {"id": "debian", "version_id": "11", "version": "11.9", "name": "Debian GNU/Linux"},
            "groundwork.server.nginx supports Debian 12 and 13; this host runs Debian GNU/Linux 11.9.",
        ),
        ({"id": "ubuntu", "version_id": "24.04", "version": "", "name": ""}, "this host runs ubuntu ?."),
    ],
)
def test_release_problem(os_release, problem):
    found = release_problem("nginx", os_release)
    assert found == problem if problem is None or problem.startswith("groundwork") else problem in found


def test_plan_result_lists_changes_kinds_and_data():
    plan = Plan()
    plan.add("package", "nginx", "not installed")
    plan.add("file", "/etc/nginx/nginx.conf", "content differs")
    plan.data["packages"] = ["nginx"]
    assert plan.result() == {
        "changes": [
            {"kind": "package", "target": "nginx", "reason": "not installed"},
            {"kind": "file", "target": "/etc/nginx/nginx.conf", "reason": "content differs"},
        ],
        "summary": ["package nginx: not installed", "file /etc/nginx/nginx.conf: content differs"],
        "kinds": ["file", "package"],
        "problems": [],
        "packages": ["nginx"],
    }
