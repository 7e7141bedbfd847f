# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""upstream_server on the balancer: find the files, apply them as one transaction, wait."""

from __future__ import annotations

import contextlib
import fcntl
import grp
import http.client
import os
import pwd
import stat
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ansible_collections.groundwork.server.plugins.module_utils._service_config.core import FileSpec, apply
from ansible_collections.groundwork.server.plugins.module_utils._service_config.host import LocalHost
from ansible_collections.groundwork.server.plugins.module_utils._upstream.core import (
    Marked,
    mark,
    mark_apache,
)

# One edit of a balancer's upstreams at a time on the host: application servers deployed by
# separate runs (AWX job slices, two operators) never read, mark and write the same files at
# once, so no mark is lost and "the last serving server stays" holds across runs too.
LOCK_PATH = "/run/lock/groundwork-upstream.lock"


@contextlib.contextmanager
def exclusive(path=LOCK_PATH):
    """Hold an exclusive lock on ``path`` (created 0600 when missing) while the block runs; the
    kernel releases it when the process ends, however it ends."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


NGINX_T = ["/usr/sbin/nginx", "-t", "-q"]
SHUTTING_DOWN = b"worker process is shutting down"

# The groundwork.server.apache role's global configuration: its presence means the
# balancer runs Apache.
APACHE_MARKER = "/etc/apache2/conf-enabled/groundwork.conf"
# The role's check of the whole configuration (apache2ctl -t, certificates, ports); an
# Apache the role did not configure gets Apache's own test.
APACHE_CHECK = ["/usr/bin/python3", "/etc/apache2/groundwork/check"]
APACHE_CONFIG_TEST = ["/usr/sbin/apache2ctl", "-t"]
# The role's status page answers on the loopback address only.
APACHE_STATUS_URL = "http://127.0.0.1/server-status?auto"
# How long a drain waits when Apache's status page cannot tell.
APACHE_FALLBACK_WAIT = 5.0


@dataclass(frozen=True)
class WebServer:
    name: str
    paths: tuple[str, ...]  # directories whose *.conf files hold the upstreams
    validate: tuple[str, ...]
    service: str
    mark: Callable[[str, str, bool], Marked]
    noun: str  # what the server calls an upstream


NGINX = WebServer(
    name="nginx",
    paths=("/etc/nginx/conf.d", "/etc/nginx/sites-enabled"),
    validate=tuple(NGINX_T),
    service="nginx.service",
    mark=mark,
    noun="upstream",
)
APACHE = WebServer(
    name="apache",
    paths=("/etc/apache2/conf-enabled", "/etc/apache2/sites-enabled"),
    validate=tuple(APACHE_CHECK),
    service="apache2.service",
    mark=mark_apache,
    noun="balancer",
)
WEB_SERVERS = {server.name: server for server in (NGINX, APACHE)}


def detect(choice: str = "auto", exists=None) -> WebServer:
    """The web server named, or for ``auto`` the one the host runs: Apache when the
    groundwork.server.apache role configured it, else nginx."""
    if choice != "auto":
        return WEB_SERVERS[choice]
    return APACHE if (exists or os.path.exists)(APACHE_MARKER) else NGINX


def validate_command(web: WebServer, exists=None) -> list[str]:
    if web is APACHE and not (exists or os.path.exists)(APACHE_CHECK[-1]):
        return list(APACHE_CONFIG_TEST)
    return list(web.validate)


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


def parse_status(text: str) -> dict[str, str]:
    """The ``Key: value`` lines of mod_status's machine-readable page."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    return values


def read_status(url: str = APACHE_STATUS_URL, timeout: float = 2.0) -> dict[str, str]:
    """Apache's status page; raises OSError (or http.client.HTTPException) when it cannot
    be read. Straight to the loopback address: no proxy from the environment."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        return parse_status(response.read(1 << 20).decode("utf-8", "replace"))


def _old_processes(status: dict[str, str]) -> int:
    """Processes of an older generation (event MPM: ``Stopping``) and workers finishing
    requests gracefully (``GracefulWorkers``); ValueError when the page shows neither."""
    counts = [int(status[key]) for key in ("Stopping", "GracefulWorkers") if key in status]
    if not counts:
        raise ValueError("the status page shows neither Stopping nor GracefulWorkers")
    return sum(counts)


def _generation(status: dict[str, str]) -> tuple[str, str] | None:
    """Which generation of processes runs: a graceful reload counts the MPM generation up
    once the old processes were told to finish, a restart sets a new restart time."""
    value = status.get("ParentServerMPMGeneration")
    return (status.get("RestartTime", ""), value) if value else None


def apache_generation(read=read_status) -> tuple[str, str] | None:
    """The generation before a reload (None when the status page cannot tell)."""
    try:
        return _generation(read())
    except (OSError, ValueError, http.client.HTTPException):
        return None


def wait_for_apache(
    wait: float,
    generation: tuple[str, str] | None = None,
    sleep=time.sleep,
    clock=time.monotonic,
    read=read_status,
    fallback: float = APACHE_FALLBACK_WAIT,
) -> tuple[float, str]:
    """Wait until Apache's old processes have finished their requests after a graceful
    reload: seconds waited, and a note when the status page could not tell."""
    start = clock()
    # apache2ctl graceful only signals the parent, which then starts a new generation.
    sleep(0.5)
    while True:
        try:
            status = read()
            old = _old_processes(status)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            rest = min(wait, fallback) - (clock() - start)
            if rest > 0:
                sleep(rest)
            return round(clock() - start, 1), (
                f"Apache's status page {APACHE_STATUS_URL} could not be read ({exc}); "
                f"waited a fixed {min(wait, fallback):g} s for the old processes instead"
            )
        current = _generation(status)
        reloaded = generation is None or current is None or current != generation
        if reloaded and not old:
            return round(clock() - start, 1), ""
        if clock() - start >= wait:
            what = "old processes were still finishing requests" if old else "reload had not taken effect"
            return round(clock() - start, 1), f"Apache's {what} after {wait:g} s"
        sleep(0.2)


def apply_mark(
    run,
    paths,
    server,
    drained,
    wait,
    check_mode,
    host=None,
    waiter=None,
    web_server="nginx",
    read=read_status,
):
    """Mark the server in every file, apply the changed files as one transaction.

    ``web_server``: nginx, apache or auto (detected); ``paths`` None: the web server's
    directories. ``waiter(wait)`` returns the seconds waited, or (seconds, a note for the
    user); by default nginx's old workers or Apache's status page are watched."""
    web = detect(web_server)
    specs, upstreams, kept = [], [], []
    for path in config_files(list(web.paths) if paths is None else paths):
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        marked = web.mark(text, server, drained)
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
        "web_server": web.name,
        "warnings": [],
    }
    state = "drained" if drained else "active"
    if not specs:
        if not upstreams:
            outcome["msg"] = f"no {web.noun} names {server}; nothing to do"
        elif kept and len(kept) == len(upstreams):
            outcome["msg"] = f"{server} stays: it is the last serving server of {', '.join(kept)}"
        else:
            outcome["msg"] = f"{server} is already {state}"
        return outcome
    waiting = drained and not check_mode
    if waiter is None:
        if web is APACHE:
            # Read before the reload: the wait then knows when the new generation runs.
            before = apache_generation(read) if waiting else None
            waiter = partial(wait_for_apache, generation=before, read=read)
        else:
            waiter = wait_for_old_workers
    result = apply(
        host or LocalHost(run),
        specs,
        validate=validate_command(web),
        service=web.service,
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
    if waiting and result.changed and not result.failed:
        waited = waiter(wait)
        seconds, note = waited if isinstance(waited, tuple) else (waited, "")
        outcome["waited"] = seconds
        if note:
            outcome["warnings"].append(note)
            outcome["msg"] += f"; {note}"
    return outcome
