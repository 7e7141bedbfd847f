# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one file comparison: the plans (from an inspection) and service_config (from the
files) ask it, so they cannot disagree."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.module_utils._files.compare import (
    digest,
    file_action,
    files_plan,
)

TEXT = "worker_processes 2;\n"
SHA = digest(TEXT)
FILE = {"state": "file", "sha256": SHA, "owner": "root", "uid": 0, "group": "root", "gid": 0, "mode": "0644"}


def _with(**changes):
    return {**FILE, **changes}


@pytest.mark.parametrize(
    ("spec", "observed", "action"),
    [
        ({"content": TEXT}, FILE, None),
        ({"sha256": SHA}, FILE, None),
        ({"content": TEXT}, {"state": "absent"}, "create"),
        ({"content": TEXT + "#"}, FILE, "update"),
        ({"content": TEXT}, _with(mode="0600"), "attributes"),
        ({"content": TEXT, "mode": "0600"}, _with(mode="0600"), None),
        ({"content": TEXT, "mode": 0o600}, _with(mode="0600"), None),
        ({"content": TEXT, "owner": "postgres"}, FILE, "attributes"),
        ({"content": TEXT, "owner": "postgres"}, _with(owner="postgres", uid=104), None),
        # numbers (service_config resolves names on the host) compare with the uid and gid
        ({"content": TEXT, "owner": "104", "group": "0"}, _with(owner="postgres", uid=104), None),
        ({"content": TEXT, "owner": "105"}, _with(owner="postgres", uid=104), "attributes"),
        ({"content": TEXT}, {"state": "link", "target": "/x"}, "update"),
        ({"content": TEXT}, {"state": "directory", "mode": "0755"}, "update"),
        ({"content": TEXT}, {"state": "error", "error": "Permission denied"}, "update"),
        ({"content": TEXT}, None, "update"),
        ({"state": "absent"}, {"state": "absent"}, None),
        ({"state": "absent"}, FILE, "remove"),
        ({"state": "absent"}, {"state": "link", "target": "/x"}, "remove"),
        ({"state": "directory", "mode": "0755"}, {"state": "directory", "mode": "0755", "owner": "x"}, None),
        ({"state": "directory", "mode": "0700"}, {"state": "directory", "mode": "0755"}, "attributes"),
        ({"state": "directory"}, {"state": "absent"}, "create"),
        ({"state": "directory"}, FILE, "update"),
        ({"state": "link", "src": "/a"}, {"state": "link", "target": "/a"}, None),
        ({"state": "link", "src": "/a"}, {"state": "link", "target": "/b"}, "update"),
        ({"state": "link", "src": "/a"}, {"state": "absent"}, "create"),
        # bytes (service_config's side) and text digest alike
        ({"content": TEXT.encode()}, FILE, None),
    ],
)
def test_file_action(spec, observed, action):
    assert file_action({"path": "/etc/x", **spec}, observed) == action


def test_files_plan_lists_changed_and_stray_files():
    specs = [
        {"path": "/etc/nginx/sites-enabled/shop.conf", "content": TEXT},
        {"path": "/etc/nginx/nginx.conf", "content": TEXT},
        {"path": "/etc/nginx/groundwork/gone", "state": "absent"},
    ]
    observed = {
        "/etc/nginx/sites-enabled/shop.conf": FILE,
        "/etc/nginx/nginx.conf": _with(sha256="0" * 64),
        "/etc/nginx/groundwork/gone": {"state": "absent"},
    }
    entries = {
        "/etc/nginx/sites-enabled": {
            "shop.conf": "file",
            "default": "link",
            "old.conf": "file",
            "sub": "dir",
        },
    }
    assert files_plan(specs, observed, ["/etc/nginx/sites-enabled", "/etc/nginx/conf.d"], entries) == [
        ("/etc/nginx/nginx.conf", "update"),
        ("/etc/nginx/sites-enabled/default", "remove"),
        ("/etc/nginx/sites-enabled/old.conf", "remove"),
        ("/etc/nginx/conf.d", "unknown"),
    ]


def test_paths_are_normalised():
    assert files_plan([{"path": "/etc//nginx/./x.conf", "content": TEXT}], {"/etc/nginx/x.conf": FILE}) == []
