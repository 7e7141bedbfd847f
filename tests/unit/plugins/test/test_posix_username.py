# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the groundwork.server.posix_username test plugin."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.test import posix_username as plugin


@pytest.mark.parametrize("name", ["alice", "a", "_svc", "deploy-bot", "user_1", "x" * 32, "root"])
def test_valid_names(name):
    assert plugin.posix_username(name) is True


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Alice",
        "alice admin",
        "1alice",
        "123",
        "-alice",
        "alice.admin",
        "alice$",
        "x" * 33,
        "al:ice",
        "ä",
        None,
        7,
    ],
)
def test_invalid_names(name):
    assert plugin.posix_username(name) is False


def test_plugin_exports_the_test():
    assert plugin.TestModule().tests() == {"posix_username": plugin.posix_username}
