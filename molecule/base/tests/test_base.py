# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Behaviour of groundwork.server.base, seen from the peer container and on the target."""

from __future__ import annotations

import os
import re
import time

import pytest
import testinfra

testinfra_hosts = ["ansible://base-target"]

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGET = "base-target"
KEY = "/root/.ssh/id_base"
# ssh keeps the first value of an option: the test's own options come first.
SSH = (
    "ssh {options} -i {key} -p 22 -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=no "
    "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR {user}@{target} {command}"
)


@pytest.fixture(scope="module")
def peer():
    return testinfra.get_host("ansible://base-peer", ansible_inventory=INVENTORY)


def ssh(peer, user, command="true", options=""):
    return peer.run(SSH.format(key=KEY, options=options, user=user, target=TARGET, command=command))


@pytest.fixture(scope="module")
def effective(host):
    """The sshd configuration sshd itself computes, as {keyword: value}."""
    out = host.check_output("/usr/sbin/sshd -T")
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


# --- SSH access from the network ---------------------------------------------------


def test_admin_logs_in_with_key_and_becomes_root_without_password(peer):
    result = ssh(peer, "alice", "sudo -n id -u")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_admin_with_sudo_password_rule_needs_a_password(peer):
    result = ssh(peer, "bob", "sudo -n true")
    assert result.rc == 1
    assert "password is required" in result.stderr


def test_root_cannot_log_in_even_with_an_authorized_key(host, peer):
    assert host.file("/root/.ssh/authorized_keys").contains("molecule-base")
    result = ssh(peer, "root")
    assert result.rc == 255
    assert "Permission denied (publickey)" in result.stderr


def test_password_authentication_is_not_offered(peer):
    result = ssh(peer, "alice", options="-o PreferredAuthentications=password,keyboard-interactive")
    assert result.rc == 255
    assert "Permission denied (publickey)" in result.stderr


def test_removed_admin_is_gone_and_cannot_log_in(host, peer):
    assert not host.user("carol").exists
    assert not host.file("/home/carol").exists
    result = ssh(peer, "carol")
    assert result.rc == 255
    assert "Permission denied (publickey)" in result.stderr


def test_weak_algorithms_are_refused(peer):
    result = ssh(peer, "alice", options="-o LogLevel=INFO -o Ciphers=aes128-cbc")
    assert result.rc == 255
    assert "no matching cipher" in result.stderr
    result = ssh(peer, "alice", options="-o LogLevel=INFO -o Ciphers=aes256-ctr -o MACs=hmac-sha1")
    assert result.rc == 255
    assert "no matching MAC" in result.stderr


def test_connection_negotiates_a_post_quantum_hybrid_kex(host, peer):
    result = ssh(peer, "alice", options="-v")
    assert result.rc == 0, result.stderr
    kex = [line for line in result.stderr.splitlines() if "kex: algorithm:" in line]
    assert kex, result.stderr
    major = int(host.system_info.release.split(".")[0])
    expected = "mlkem768x25519-sha256" if major >= 13 else "sntrup761x25519-sha512"
    assert expected in kex[0]


# --- sshd configuration as sshd sees it --------------------------------------------


def test_effective_sshd_authentication_settings(effective):
    assert effective["permitrootlogin"] == "no"
    assert effective["passwordauthentication"] == "no"
    assert effective["kbdinteractiveauthentication"] == "no"
    assert effective["pubkeyauthentication"] == "yes"
    assert effective["permitemptypasswords"] == "no"
    assert effective["x11forwarding"] == "no"
    assert effective["allowtcpforwarding"] == "no"


def test_effective_sshd_timeouts(effective):
    assert effective["clientaliveinterval"] == "300"
    assert effective["clientalivecountmax"] == "3"
    assert effective["logingracetime"] == "30"
    assert effective["maxauthtries"] == "3"


def test_effective_sshd_algorithms_are_modern(effective):
    assert all(m.endswith("-etm@openssh.com") for m in effective["macs"].split(","))
    assert not [c for c in effective["ciphers"].split(",") if "cbc" in c or c == "3des"]
    assert "ssh-rsa" not in effective["hostkeyalgorithms"].split(",")
    kex = effective["kexalgorithms"].split(",")
    assert not [k for k in kex if "sha1" in k or "nistp" in k]


def test_planted_password_dropin_was_neutralised(host):
    planted = host.file("/etc/ssh/sshd_config.d/00-cloud-init.conf")
    assert planted.exists
    active = [line.strip() for line in planted.content_string.splitlines() if line.strip()]
    active = [line for line in active if not line.startswith("#")]
    assert active == []
    assert "Disabled by groundwork.server.base" in planted.content_string


def test_no_configuration_backups_are_left_behind(host):
    assert host.run("ls /etc/ssh/sshd_config.d").stdout.split() == [
        "00-cloud-init.conf",
        "00-groundwork.conf",
    ]


# --- time ---------------------------------------------------------------------------


def test_timezone_is_berlin(host):
    assert host.check_output("date +%Z") in ("CET", "CEST")


def test_chrony_synchronises_with_the_peer(host):
    assert host.service("chrony").is_running
    assert host.service("chrony").is_enabled
    peer_address = host.check_output("getent ahostsv4 base-peer").split()[0]
    deadline = time.monotonic() + 90
    sources = ""
    while time.monotonic() < deadline:
        sources = host.check_output("chronyc -n sources")
        if any(line.startswith("^*") and peer_address in line for line in sources.splitlines()):
            break
        time.sleep(3)
    else:
        pytest.fail(f"chrony did not select {peer_address} within 90 s:\n{sources}")


def test_chrony_leaves_the_shared_kernel_clock_alone(host):
    # In a container chronyd runs with -x: it tracks time but never sets the clock.
    cmdline = host.check_output("cat /proc/$(pidof chronyd | cut -d' ' -f1)/cmdline | tr '\\0' ' '")
    assert " -x" in cmdline


# --- updates, journal, kernel parameters -------------------------------------------


def test_unattended_upgrades_allow_the_security_archive(host):
    codename = host.system_info.codename
    result = host.run("unattended-upgrade --dry-run -d")
    assert result.rc == 0, result.stderr
    allowed = [
        line for line in (result.stdout + result.stderr).splitlines() if "Allowed origins are:" in line
    ]
    assert allowed
    assert f"origin=Debian,codename={codename}-security,label=Debian-Security" in allowed[0]


def test_apt_runs_unattended_upgrades_daily(host):
    dump = host.check_output("apt-config dump APT::Periodic")
    assert 'APT::Periodic::Update-Package-Lists "1";' in dump
    assert 'APT::Periodic::Unattended-Upgrade "1";' in dump
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        assert host.service(timer).is_enabled
        assert host.service(timer).is_running


def test_journald_enforces_the_size_limit(host):
    # journald announces its effective limit when it starts.
    log = host.check_output("journalctl -b -u systemd-journald --no-pager -o cat")
    limits = [line for line in log.splitlines() if line.startswith("System Journal") and ", max " in line]
    assert limits, log
    # systemd 252 prints "max 200.0M", systemd 257 "max 200M"
    assert re.search(r", max 200(\.0)?M,", limits[-1]), limits[-1]


def test_kernel_hardening_applies_at_boot(host):
    # /proc/sys is read-only in a container; this is what systemd-sysctl applies at boot.
    merged = {}
    for line in host.check_output("/lib/systemd/systemd-sysctl --cat-config").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")) and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            merged[key.lstrip("-")] = value
    assert merged["net.ipv4.ip_forward"] == "0"
    assert merged["net.ipv4.conf.all.rp_filter"] == "1"
    assert merged["net.ipv4.conf.all.accept_redirects"] == "0"
    assert merged["net.ipv4.tcp_syncookies"] == "1"
    assert merged["kernel.kptr_restrict"] == "2"
    assert merged["fs.protected_symlinks"] == "1"


def test_extra_package_is_installed(host):
    assert host.package("less").is_installed
