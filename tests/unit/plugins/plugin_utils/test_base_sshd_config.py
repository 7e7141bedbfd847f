# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which wanted sshd settings the effective configuration (sshd -T) does not apply."""

from __future__ import annotations

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils._sshd_config_mismatches import (
    parse_sshd_t,
    sshd_config_mismatches,
)

SSHD_T = """\
port 22
port 2222
listenaddress [::]:22
permitrootlogin no
passwordauthentication yes
ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com
clientaliveinterval 300
loglevel VERBOSE
"""


def test_parse_collects_repeated_keywords():
    parsed = parse_sshd_t(SSHD_T)
    assert parsed["port"] == ["22", "2222"]
    assert parsed["permitrootlogin"] == ["no"]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ({"PermitRootLogin": "no"}, []),
        ({"PermitRootLogin": False}, []),
        ({"ClientAliveInterval": 300}, []),
        ({"LogLevel": "verbose"}, []),
        ({"Ciphers": ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"]}, []),
        (
            {"PasswordAuthentication": "no"},
            [{"key": "passwordauthentication", "wanted": "no", "effective": "yes"}],
        ),
        ({"Port": 22}, [{"key": "port", "wanted": "22", "effective": "22 2222"}]),
        (
            {"Ciphers": ["chacha20-poly1305@openssh.com"]},
            [
                {
                    "key": "ciphers",
                    "wanted": "chacha20-poly1305@openssh.com",
                    "effective": "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com",
                },
            ],
        ),
        ({"X11Forwarding": True}, [{"key": "x11forwarding", "wanted": "yes", "effective": None}]),
        (
            {"PubkeyAuthentication": "yes", "PasswordAuthentication": "no"},
            [
                {"key": "passwordauthentication", "wanted": "no", "effective": "yes"},
                {"key": "pubkeyauthentication", "wanted": "yes", "effective": None},
            ],
        ),
    ],
)
def test_mismatches(wanted, expected):
    assert sshd_config_mismatches(SSHD_T, wanted) == expected


@pytest.mark.parametrize(("output", "wanted"), [(None, {}), (["port 22"], {}), ("port 22", ["Port"])])
def test_bad_arguments(output, wanted):
    with pytest.raises(TypeError):
        sshd_config_mismatches(output, wanted)


def test_a_keyword_some_releases_do_not_dump_is_checked_only_when_dumped():
    # Debian 12's sshd -T leaves DebianBanner out; 13's prints it.
    assert sshd_config_mismatches("port 22\n", {"DebianBanner": False}) == []
    assert sshd_config_mismatches("debianbanner yes\n", {"DebianBanner": False}) == [
        {"key": "debianbanner", "wanted": "no", "effective": "yes"}
    ]
