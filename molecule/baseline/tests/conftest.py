# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The baseline scenario's hosts, and what the baseline tests read from them.

Every host of the scenario gets base, firewall and the internal CA (site.yml), so every
host is checked against the Linux and SSH baselines. The tests read the hosts through the
docker backend (the driver's own containers), and each command's output is read once per
host and shared by the tests that need it (`state(name).out(command)`).
"""

from __future__ import annotations

import functools
import os
import re

import pytest
import testinfra

PLATFORMS = ("bl-lb", "bl-web2", "bl-app", "bl-db", "bl-db2", "bl-client")
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")
EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")


def in_container(host):
    """systemd's verdict: 'docker' in the scenario, 'none' on a VM or real hardware."""
    return host.run("systemd-detect-virt --container").stdout.strip() not in ("", "none")


def memoized(method):
    """Each answer of a State's method once per State (one State per host for the session)."""

    @functools.wraps(method)
    def wrapper(self, *args):
        key = (method.__name__, args)
        if key not in self.memo:
            self.memo[key] = method(self, *args)
        return self.memo[key]

    return wrapper


class State:
    """One host's command outputs, each read once."""

    def __init__(self, name):
        self.name = name
        self.memo = {}
        self.host = testinfra.get_host(f"docker://{name}")
        self.container = in_container(self.host)

    @memoized
    def out(self, command):
        result = self.host.run(command)
        assert result.rc == 0, f"{self.name}: {command}: {result.stderr}"
        return result.stdout

    @memoized
    def sshd(self, spec=""):
        """sshd's effective settings (sshd -T, optionally for a connection -C spec): {key: [values]}."""
        settings = {}
        for line in self.out(f"sshd -T {'-C ' + spec if spec else ''}").splitlines():
            key, _sep, value = line.partition(" ")
            settings.setdefault(key.lower(), []).append(value.strip())
        return settings

    @memoized
    def ssh_client(self):
        """The client's effective settings for a host (ssh -G): {key: value}."""
        settings = {}
        for line in self.out("ssh -G baseline.invalid").splitlines():
            key, _sep, value = line.partition(" ")
            settings.setdefault(key.lower(), value.strip())
        return settings

    @memoized
    def sysctl_files(self):
        """What systemd-sysctl applies at boot: [(file, key, value)] in the order it reads them.

        A later assignment of a key wins; the key may start with '-' (ignore a missing key)."""
        assignments = []
        current = None
        for raw in self.out("/lib/systemd/systemd-sysctl --cat-config").splitlines():
            line = raw.strip()
            match = re.match(r"^# (/\S+)$", line)
            if match:
                current = match.group(1)
                continue
            if not line or line.startswith(("#", ";")) or "=" not in line:
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            assignments.append((current, key.lstrip("-").replace("/", "."), value))
        return assignments

    def sysctl_configured(self):
        """{key: (file, value)}: the value systemd-sysctl leaves each key at, and its file."""
        return {key: (path, value) for path, key, value in self.sysctl_files()}

    def sysctl_running(self, key):
        result = self.host.run(f"sysctl -n {key}")
        return result.stdout.strip() if result.rc == 0 else None


@functools.cache
def state(name):
    return State(name)


@pytest.fixture(params=PLATFORMS)
def bl(request):
    """Each host of the scenario in turn."""
    return state(request.param)
