# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the groundwork.server.hostname test plugin."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.test import hostname as plugin


@pytest.mark.parametrize(
    "name",
    ["web1", "web-1.example.com", "base-peer", "a" * 63 + ".example", "2.debian.pool.ntp.org", "EXAMPLE.org"],
)
def test_valid_names(name):
    assert plugin.hostname(name) is True


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-web",
        "web-",
        "web_1",
        "web..example",
        "example.com.",
        "a" * 64,
        ("a" * 60 + ".") * 5,
        "web 1",
        None,
        3,
    ],
)
def test_invalid_names(name):
    assert plugin.hostname(name) is False


@pytest.mark.parametrize(("address", "allowed"), [("192.0.2.1", True), ("2001:db8::1", True), ("::1", True)])
def test_addresses_need_allow_ip(address, allowed):
    assert plugin.hostname(address, allow_ip=True) is allowed
    assert plugin.hostname("2001:db8::1") is False


def test_plugin_exports_the_test():
    assert plugin.TestModule().tests() == {"hostname": plugin.hostname}
