# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the groundwork.server.iana_timezone test plugin."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleError
from ansible_collections.groundwork.server.plugins.test import iana_timezone as plugin


@pytest.mark.parametrize("name", ["Etc/UTC", "UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_known_zones(name):
    assert plugin.iana_timezone(name) is True


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Mars/Olympus_Mons",
        "CEST+2",
        "+02:00",
        "europe/berlin",
        "/etc/localtime",
        "../etc/passwd",
        None,
        1,
    ],
)
def test_unknown_zones(name):
    assert plugin.iana_timezone(name) is False


def test_missing_database_is_an_error_not_a_verdict(monkeypatch):
    monkeypatch.setattr(plugin, "_zone_file", lambda key: False)
    monkeypatch.setattr(plugin, "_packaged_zones", frozenset)
    monkeypatch.setattr(plugin, "_has_database", lambda: False)
    with pytest.raises(AnsibleError, match="No IANA time zone database"):
        plugin.iana_timezone("Etc/UTC")


def test_the_same_names_as_zoneinfo_knows():
    import zoneinfo

    known = zoneinfo.available_timezones()
    assert all(plugin.iana_timezone(name) for name in known)
    others = [
        "posixrules",
        "right/UTC",
        "posix/UTC",
        "Europe",
        "Europe/",
        "Etc//UTC",
        "zone.tab",
        "tzdata.zi",
        "Europe/../Etc/UTC",
        "./UTC",
    ]
    assert [name for name in others if plugin.iana_timezone(name)] == [
        name for name in others if name in known
    ]


def test_plugin_exports_the_test():
    assert plugin.TestModule().tests() == {"iana_timezone": plugin.iana_timezone}
