# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""upstream_server on the balancer: find the files, apply them as one transaction, wait."""

from __future__ import annotations

import grp
import os
import pwd
import stat
import time

from ansible_collections.groundwork.server.plugins.module_utils._service_config.core import FileSpec, apply
from ansible_collections.groundwork.server.plugins.module_utils._service_config.host import LocalHost
from ansible_collections.groundwork.server.plugins.module_utils._upstream.core import mark

NGINX_T = ["/usr/sbin/nginx", "-t", "-q"]
SHUTTING_DOWN = b"worker process is shutting down"


def config_files(paths: list[str]) -> list[str]:
    """The *.conf files (or links to them) directly in each directory, sorted."""
    found = []
    for directory in paths:
        try:
            names = sorted(os.listdir(directory))
        except FileNotFoundError:
            continue
        found.extend(
            os.path.join(directory, name)
            for name in names
            if name.endswith(".conf") and os.path.isfile(os.path.join(directory, name))
        )
    return found


def _spec(path: str, content: str) -> FileSpec:
    # A link (sites-enabled -> sites-available) is edited where it points.
    real = os.path.realpath(path)
    info = os.stat(real)
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        owner = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    return FileSpec(path=real, content=content, owner=owner, group=group, mode=stat.S_IMODE(info.st_mode))


def old_workers(proc="/proc") -> int:
    """How many nginx workers are still finishing requests after a reload."""
    count = 0
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "cmdline"), "rb") as handle:
                if SHUTTING_DOWN in handle.read():
                    count += 1
        except OSError:
            continue
    return count


def wait_for_old_workers(wait: float, sleep=time.sleep, clock=time.monotonic, count=old_workers) -> float:
    start = clock()
    # nginx's master re-reads its configuration asynchronously after the reload signal.
    sleep(0.3)
    while count() and clock() - start < wait:
        sleep(0.2)
    return round(clock() - start, 1)


def apply_mark(run, paths, server, drained, wait, check_mode, host=None, waiter=wait_for_old_workers):
    """Mark the server in every file, apply the changed files as one transaction."""
    specs, upstreams, kept = [], [], []
    for path in config_files(paths):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        marked = mark(text, server, drained)
        upstreams += marked.found
        kept += marked.kept
        if marked.text != text:
            specs.append(_spec(path, marked.text))
    outcome = {
        "changed": False,
        "failed": False,
        "upstreams": upstreams,
        "kept": kept,
        "files_changed": [],
        "waited": 0.0,
        "diff": [],
    }
    state = "drained" if drained else "active"
    if not specs:
        outcome["msg"] = (
            f"{server} is already {state}" if upstreams else f"no upstream names {server}; nothing to do"
        )
        return outcome
    result = apply(
        host or LocalHost(run),
        specs,
        validate=NGINX_T,
        service="nginx.service",
        activate="reload",
        check_mode=check_mode,
    )
    outcome.update(
        changed=result.changed,
        failed=result.failed,
        files_changed=result.files_changed,
        diff=result.diff,
        msg=result.msg if result.failed else f"{server} {state} in {', '.join(upstreams)}",
    )
    if drained and result.changed and not result.failed and not check_mode:
        outcome["waited"] = waiter(wait)
    return outcome
