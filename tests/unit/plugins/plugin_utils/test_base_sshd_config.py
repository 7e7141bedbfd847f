# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which wanted sshd settings the effective configuration (sshd -T) does not apply, and the
checker of the base role's sshd transaction built on it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _base_plan
from ansible_collections.groundwork.server.plugins.plugin_utils import _sshd_config_mismatches as check
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


DROPIN = "/etc/ssh/sshd_config.d/00-groundwork.conf"


def fake_sshd(test=(0, ""), dump=(0, SSHD_T)):
    calls = []

    def run(argv, **kwargs):
        calls.append(argv)
        code, text = test if argv[-1] == "-t" else dump
        return subprocess.CompletedProcess(argv, code, stdout=text if code == 0 else "", stderr=text)

    return run, calls


@pytest.mark.parametrize(
    ("test", "wanted", "expected"),
    [
        ((0, ""), {"PermitRootLogin": "no", "LogLevel": "VERBOSE"}, (0, "")),
        (
            (255, "/etc/ssh/sshd_config.d/50-x.conf line 1: Bad configuration option: Nope\n"),
            {"PermitRootLogin": "no"},
            (255, "/etc/ssh/sshd_config.d/50-x.conf line 1: Bad configuration option: Nope"),
        ),
        (
            (0, ""),
            {"PasswordAuthentication": False},
            (
                1,
                f"The effective sshd configuration ('sshd -T') differs from {DROPIN}: passwordauthentication"
                ' is "yes", wanted "no"; a setting in /etc/ssh/sshd_config before its Include line wins over'
                " the drop-ins; move or remove it.",
            ),
        ),
    ],
    ids=["applies", "sshd -t refuses", "effect differs"],
)
def test_the_transaction_checker_passes_on_sshd_s_verdict_and_the_effect(test, wanted, expected):
    run, calls = fake_sshd(test=test)
    assert check.check_candidate(wanted, DROPIN, run=run) == expected
    # sshd -T only once sshd -t accepted the files
    assert calls == (
        [["/usr/sbin/sshd", "-t"]] if test[0] else [["/usr/sbin/sshd", "-t"], ["/usr/sbin/sshd", "-T"]]
    )


def test_the_checker_runs_on_a_host_from_its_source_alone():
    # What the transaction runs: python3 -c <the file> <wanted> <drop-in>, in a clean interpreter
    # with only the standard library (-S: no site-packages), sshd replaced by a stand-in that
    # prints SSHD_T.
    argv = _base_plan.sshd_validate({"PasswordAuthentication": False})
    assert argv[:2] == ["/usr/bin/python3", "-c"] and argv[-1] == DROPIN
    stand_in = (
        "import subprocess, sys\n"
        "subprocess.run = lambda argv, **kw: subprocess.CompletedProcess(\n"
        "    argv, 0, stdout=sys.argv[-1], stderr='')\n"
    )
    program = (
        stand_in + "exec(compile(" + json.dumps(argv[2]) + ", 'check', 'exec'), {'__name__': '__main__'})"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", program, *argv[3:], SSHD_T],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert 'passwordauthentication is "yes", wanted "no"' in done.stderr
