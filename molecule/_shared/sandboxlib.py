# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers the scenarios' sandbox tests share: systemd's rating of a unit, and proof that the
running process, not only the unit file, is in the sandbox of the role's drop-in.

A scenario's conftest.py puts this directory on sys.path (see testlib.py); a test module
registers the assertion rewrite before it imports this one:

    pytest.register_assert_rewrite("sandboxlib")
    import sandboxlib  # noqa: E402
"""

from __future__ import annotations

import re

# The goal: `systemd-analyze security` rates each service the collection runs at
# 5.0 or less ("OK" or better).
LIMIT = 5.0
DROP_IN = "/etc/systemd/system/{unit}.d/groundwork-sandbox.conf"


def exposure(host, unit):
    """The overall exposure systemd-analyze gives ``unit`` (0.0 safe to 10.0 unsafe)."""
    output = host.check_output(f"systemd-analyze security --no-pager {unit}")
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", output)
    assert found, output
    return float(found.group(1))


def show(host, unit, *properties):
    """{property: value} of ``systemctl show``."""
    names = ",".join(properties)
    output = host.check_output(f"systemctl show --property={names} {unit}")
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def main_pid(host, unit):
    return int(show(host, unit, "MainPID")["MainPID"])


def assert_sandboxed(host, unit, limit=LIMIT):
    """``unit`` runs, systemd has read the role's drop-in, rates the unit at ``limit`` or less,
    and its main process really runs in the sandbox: no new privileges, a capability bounding
    set smaller than PID 1's, its own mount namespace. Returns the exposure."""
    drop_in = DROP_IN.format(unit=unit)
    state = show(host, unit, "ActiveState", "DropInPaths", "NeedDaemonReload", "MainPID")
    assert state["ActiveState"] == "active", state
    assert drop_in in state["DropInPaths"].split(), state
    assert state["NeedDaemonReload"] == "no", state
    pid = int(state["MainPID"])
    assert pid > 0, state
    status = host.check_output(f"cat /proc/{pid}/status")
    assert re.search(r"^NoNewPrivs:\s+1$", status, re.MULTILINE), status
    bounding = int(re.search(r"^CapBnd:\s+([0-9a-f]+)$", status, re.MULTILINE).group(1), 16)
    init = host.check_output("cat /proc/1/status")
    init_bounding = int(re.search(r"^CapBnd:\s+([0-9a-f]+)$", init, re.MULTILINE).group(1), 16)
    assert bounding & ~init_bounding == 0 and bounding != init_bounding, (bounding, init_bounding)
    # Its own mount namespace, where root may look (not into a process of another user that
    # cannot be traced: NoNewPrivs and the bounding set above already show the drop-in's options).
    namespace = host.run(f"readlink /proc/{pid}/ns/mnt")
    if namespace.rc == 0:
        assert namespace.stdout != host.check_output("readlink /proc/1/ns/mnt")
    rating = exposure(host, unit)
    assert rating <= limit, f"{unit} is rated {rating}, more than {limit}"
    return rating


def edit_drop_in(host, unit):
    """Change the role's drop-in on the host (a harmless comment) and make systemd read it: the
    next run of the role must put it back and restart the service."""
    drop_in = DROP_IN.format(unit=unit)
    host.check_output(f"echo '# edited by a test' >> {drop_in} && systemctl daemon-reload")
    return host.check_output(f"sha256sum {drop_in}")


def assert_hook_keeps_the_sandboxed_master(host, unit, *commands):
    """Each of ``commands`` (a reload, the renewal hook) leaves the same main process running in
    the sandbox."""
    before = main_pid(host, unit)
    for command in commands:
        host.check_output(command)
    assert main_pid(host, unit) == before
    assert_sandboxed(host, unit)


def assert_changed_drop_in_put_back(host, unit, server, converge):
    """A drop-in changed on the host: ``converge()`` (a run of the role, returning rc and output)
    writes it back and restarts ``server`` once, into the sandbox again."""
    edited = edit_drop_in(host, unit)
    before = main_pid(host, unit)
    rc, output = converge()
    assert rc == 0, output
    assert f"Restart {server} with the changed sandbox" in output
    assert host.check_output(f"sha256sum {DROP_IN.format(unit=unit)}") != edited
    assert main_pid(host, unit) != before
    assert_sandboxed(host, unit)
