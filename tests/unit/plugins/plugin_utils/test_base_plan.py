# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the base role changes, decided from an inspection: nothing on a host as configured,
and every kind of difference named."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.groundwork.server.plugins.plugin_utils import _base_plan as plan_module
from ansible_collections.groundwork.server.plugins.plugin_utils._base_plan import base_plan, sshd_settings

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKbNbLnVZ1qNNpZb6Sgq8XmPQBB8o8p3N7dkm1GHUaOF alice@laptop"
ALGORITHMS = {
    "kex": ["sntrup761x25519-sha512", "curve25519-sha256"],
    "cipher": ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"],
    "mac": ["hmac-sha2-512-etm@openssh.com"],
    "key-sig": ["ssh-ed25519", "rsa-sha2-512"],
}
OPTIONS = {
    "base_hostname": "",
    "base_timezone": "Etc/UTC",
    "base_locale": "C.UTF-8",
    "base_timesync": "none",
    "base_unattended_upgrades": True,
    "base_sshd_port": 22,
    "base_sshd_kex_algorithms": ["mlkem768x25519-sha256", "sntrup761x25519-sha512", "curve25519-sha256"],
    "base_sshd_ciphers": ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com"],
    "base_sshd_macs": ["hmac-sha2-512-etm@openssh.com"],
    "base_sshd_host_key_algorithms": ["ssh-ed25519"],
    "base_sshd_client_alive_interval": 300,
    "base_sshd_client_alive_count_max": 3,
    "base_sshd_login_grace_time": 30,
    "base_sshd_max_auth_tries": 3,
    "base_sshd_allow_tcp_forwarding": False,
    "base_sshd_allow_agent_forwarding": False,
    "packages_missing": [],
    "unit_ok": ["ssh.service", "apt-daily.timer", "apt-daily-upgrade.timer"],
    "builtin_locales": ["C", "C.UTF-8", "C.utf8", "POSIX"],
    "apt_timers": ["apt-daily.timer", "apt-daily-upgrade.timer"],
}
DROPIN = "/etc/ssh/sshd_config.d/00-groundwork.conf"
SPECS = {
    "system": [
        {
            "path": "/etc/default/locale",
            "template": "locale",
            "owner": "root",
            "group": "root",
            "mode": "0644",
        }
    ],
    "sudoers": [
        {
            "path": "/etc/sudoers.d/groundwork-admins",
            "template": "sudoers",
            "owner": "root",
            "group": "root",
            "mode": "0440",
        }
    ],
    "chrony": [
        {
            "path": "/etc/chrony/chrony.conf",
            "template": "chrony_conf",
            "owner": "root",
            "group": "root",
            "mode": "0644",
        },
        {
            "path": "/etc/systemd/system/chrony.service.d/groundwork.conf",
            "state": "absent",
            "template": "chrony_unit",
            "owner": "root",
            "group": "root",
            "mode": "0644",
        },
    ],
    "timesyncd": [],
    "sshd": [{"path": DROPIN, "template": "sshd", "owner": "root", "group": "root", "mode": "0644"}],
}
RENDERED = {
    "locale": "LANG=C.UTF-8\n",
    "sudoers": "alice ALL=(ALL:ALL) NOPASSWD: ALL\n",
    "sshd": "Port 22\n",
    "chrony_conf": "pool 2.debian.pool.ntp.org\n",
}
MODEL = {
    "users_present": [
        {"name": "alice", "ssh_keys": [KEY], "shell": "/bin/bash", "comment": "Alice", "groups": ["adm"]}
    ],
    "users_absent": [{"name": "carol"}],
}
SETTINGS = sshd_settings(ALGORITHMS, OPTIONS)
EFFECTIVE = "\n".join(f"{key.lower()} {value}" for key, value in SETTINGS.items()) + "\n"


def file_state(content, mode="0644"):
    return {"content": content, "owner": "root", "group": "root", "mode": mode}


def converged_host():
    return {
        "files": {
            "/etc/default/locale": file_state("LANG=C.UTF-8\n"),
            "/etc/sudoers.d/groundwork-admins": file_state("alice ALL=(ALL:ALL) NOPASSWD: ALL\n", "0440"),
            "/etc/chrony/chrony.conf": None,
            "/etc/systemd/system/chrony.service.d/groundwork.conf": None,
            DROPIN: file_state("Port 22\n"),
        },
        "sshd_dropins": {DROPIN: file_state("Port 22\n")},
        "ssh_algorithms": ALGORITHMS,
        "sshd_effective": EFFECTIVE,
        "hostname": {"current": "web1", "static": "web1"},
        "localtime": "/usr/share/zoneinfo/Etc/UTC",
        "locales": [],
        "users": {
            "alice": {
                "shell": "/bin/bash",
                "gecos": "Alice",
                "home_exists": True,
                "groups": ["adm", "sudo"],
                "authorized_keys": {"content": KEY + "\n"},
            },
            "carol": None,
        },
    }


def decide(host, **option_changes):
    return base_plan(
        host,
        model=MODEL,
        specs=SPECS,
        rendered=RENDERED,
        settings=SETTINGS,
        options={**OPTIONS, **option_changes},
    )


def test_a_host_as_configured_changes_nothing():
    plan = decide(converged_host())
    assert plan["todo"] == []
    assert plan["changed"] == [] and plan["users"] == [] and plan["key_updates"] == []
    assert plan["algorithm_problems"] == [] and plan["sshd_mismatches"] == []
    # the unused time daemon's files are not part of it
    assert plan["files"]["chrony"] == [] and plan["files"]["timesyncd"] == []
    assert plan["files"]["system"] == [
        {
            "path": "/etc/default/locale",
            "owner": "root",
            "group": "root",
            "mode": "0644",
            "content": "LANG=C.UTF-8\n",
        }
    ]


def changed(change):
    host = converged_host()
    change(host)
    return host


CASES = {
    "content": (
        lambda h: h["files"]["/etc/default/locale"].update(content="LANG=de_DE\n"),
        {},
        "files: /etc/default/locale",
    ),
    "mode": (
        lambda h: h["files"]["/etc/sudoers.d/groundwork-admins"].update(mode="0644"),
        {},
        "files: /etc/sudoers.d/groundwork-admins",
    ),
    "missing file": (
        lambda h: h["files"].update({"/etc/default/locale": None}),
        {},
        "files: /etc/default/locale",
    ),
    "link instead of file": (
        lambda h: h["files"].update({"/etc/default/locale": {"link": "/tmp/x"}}),
        {},
        "files: /etc/default/locale",
    ),
    "our drop-in": (lambda h: h["files"][DROPIN].update(content="Port 2222\n"), {}, f"files: {DROPIN}"),
    "packages": (lambda h: None, {"packages_missing": ["less"]}, "packages: less"),
    "host name": (lambda h: h["hostname"].update(static="old"), {"base_hostname": "web1"}, "host name"),
    "time zone": (lambda h: h.update(localtime="/usr/share/zoneinfo/Europe/Berlin"), {}, "time zone"),
    "locale": (lambda h: None, {"base_locale": "de_DE.UTF-8"}, "locale de_DE.UTF-8"),
    "ssh unit": (
        lambda h: None,
        {"unit_ok": ["apt-daily.timer", "apt-daily-upgrade.timer"]},
        "units not enabled and running: ssh.service",
    ),
    "chrony files and unit": (lambda h: None, {"base_timesync": "chrony"}, "files: /etc/chrony/chrony.conf"),
    "user shell": (lambda h: h["users"]["alice"].update(shell="/bin/sh"), {}, "users: alice"),
    "user group": (lambda h: h["users"]["alice"].update(groups=["sudo"]), {}, "users: alice"),
    "new user": (lambda h: h["users"].update(alice=None), {}, "users: alice"),
    "keys": (
        lambda h: h["users"]["alice"]["authorized_keys"].update(content="ssh-ed25519 OTHER\n"),
        {},
        "SSH keys of alice",
    ),
    "user to remove": (
        lambda h: h["users"].update(carol={"shell": "/bin/bash"}),
        {},
        "users to remove: carol",
    ),
    "sshd -T failed": (
        lambda h: h.update(sshd_effective=None),
        {},
        "the effective sshd configuration could not",
    ),
}


@pytest.mark.parametrize(("change", "options", "entry"), CASES.values(), ids=CASES.keys())
def test_every_difference_is_named(change, options, entry):
    todo = decide(changed(change), **options)["todo"]
    assert any(item.startswith(entry) for item in todo), todo


def test_debian_13_keeps_the_locale_link():
    host = converged_host()
    host["files"]["/etc/default/locale"] = {
        "content": "LANG=C.UTF-8\n",
        "owner": "root",
        "group": "root",
        "mode": "0644",
    }
    assert "link /etc/default/locale to ../locale.conf" in decide(host, locale_link=True)["todo"]
    host["files"]["/etc/default/locale"] = {"link": "../locale.conf"}
    # the content lives in /etc/locale.conf, which the link points to
    host["files"]["/etc/locale.conf"] = {
        "content": "LANG=C.UTF-8\n",
        "owner": "root",
        "group": "root",
        "mode": "0644",
    }
    plan = base_plan(
        host,
        model=MODEL,
        specs={**SPECS, "system": [{**SPECS["system"][0], "path": "/etc/locale.conf"}]},
        rendered=RENDERED,
        settings=SETTINGS,
        options={**OPTIONS, "locale_link": True},
    )
    assert plan["todo"] == []


def test_keys_compare_by_their_words():
    host = converged_host()
    host["users"]["alice"]["authorized_keys"]["content"] = KEY.replace(" ", "   ") + "\n"
    assert decide(host)["key_updates"] == []


def test_chrony_files_are_compared_when_chrony_is_used():
    host = converged_host()
    host["files"]["/etc/chrony/chrony.conf"] = file_state("pool 2.debian.pool.ntp.org\n")
    plan = decide(host, base_timesync="chrony", unit_ok=[*OPTIONS["unit_ok"], "chrony.service"])
    assert plan["todo"] == []
    absent = plan["files"]["chrony"][1]
    assert absent["state"] == "absent" and absent["content"] is None


def test_contradicting_lines_in_other_dropins_are_commented_out():
    host = converged_host()
    cloud = "/etc/ssh/sshd_config.d/50-cloud-init.conf"
    text = (
        "PasswordAuthentication yes\n# PasswordAuthentication yes\nPermitRootLogin no\n"
        "challengeresponseauthentication  yes\n"
    )
    host["sshd_dropins"][cloud] = {"content": text, "owner": "root", "group": "root", "mode": "0600"}
    plan = decide(host)
    assert plan["sshd_changes"] == [cloud]
    assert plan["todo"] == [f"files: {cloud}"]
    corrected = plan["files_sshd"][1]
    assert corrected["mode"] == "0600"
    assert corrected["content"] == (
        "# Disabled by groundwork.server.base (contradicts 00-groundwork.conf): PasswordAuthentication yes\n"
        "# PasswordAuthentication yes\n"
        "PermitRootLogin no\n"
        "# Disabled by groundwork.server.base (contradicts 00-groundwork.conf):"
        " challengeresponseauthentication  yes\n"
    )
    # once corrected, it stays
    host["sshd_dropins"][cloud]["content"] = corrected["content"]
    assert decide(host)["todo"] == []


def test_sshd_settings_keep_only_what_the_host_supports():
    assert SETTINGS["KexAlgorithms"] == "sntrup761x25519-sha512,curve25519-sha256"
    assert SETTINGS["Ciphers"] == "chacha20-poly1305@openssh.com"
    assert SETTINGS["Port"] == "22" and SETTINGS["AllowTcpForwarding"] == "no"
    assert list(SETTINGS)[:2] == ["PermitRootLogin", "PasswordAuthentication"]
    # without OpenSSH installed yet every listed algorithm is kept
    assert sshd_settings(None, OPTIONS)["KexAlgorithms"] == ",".join(OPTIONS["base_sshd_kex_algorithms"])
    assert base_plan(ALGORITHMS, options=OPTIONS, sshd=True) == SETTINGS


def test_an_algorithm_list_the_host_cannot_use_is_a_problem():
    settings = sshd_settings(ALGORITHMS, {**OPTIONS, "base_sshd_macs": ["umac-64@openssh.com"]})
    plan = base_plan(
        converged_host(), model=MODEL, specs=SPECS, rendered=RENDERED, settings=settings, options=OPTIONS
    )
    assert plan["algorithm_problems"] == [
        'base_sshd_macs: none of ["hmac-sha2-512-etm@openssh.com"] is supported by this host\'s OpenSSH'
        " (see 'ssh -Q mac')."
    ]


def test_the_effective_configuration_is_checked():
    host = converged_host()
    host["sshd_effective"] = EFFECTIVE.replace("passwordauthentication no", "passwordauthentication yes")
    mismatches = decide(host)["sshd_mismatches"]
    assert [m["key"] for m in mismatches] == ["passwordauthentication"]


def test_the_plan_does_not_change_its_input():
    host = converged_host()
    before = copy.deepcopy(host)
    decide(host)
    assert host == before
    assert plan_module.GROUPS == ("system", "sudoers", "chrony", "timesyncd", "sshd")
