# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real side effects of service_config: files, systemctl, and the health probe."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import ssl
import stat
import time

from ansible_collections.groundwork.server.plugins.module_utils._files.write import (
    group_id,
    replace_file,
    user_id,
)
from ansible_collections.groundwork.server.plugins.module_utils._service_config.core import (
    FileState,
    ServiceConfigError,
)


class LocalHost:
    """Side effects on the machine the module runs on.

    ``run`` is a function taking an argv list and returning (rc, stdout, stderr), for
    example AnsibleModule.run_command.
    """

    def __init__(self, run, sleep=time.sleep, clock=time.monotonic):
        self._run = run
        self._sleep = sleep
        self._clock = clock

    # --- files ------------------------------------------------------------------
    def stat(self, path: str) -> FileState | None:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(info.st_mode):
            return FileState(link=os.readlink(path), uid=info.st_uid, gid=info.st_gid)
        if not stat.S_ISREG(info.st_mode):
            return None
        with open(path, "rb") as handle:
            content = handle.read()
        return FileState(content=content, uid=info.st_uid, gid=info.st_gid, mode=stat.S_IMODE(info.st_mode))

    def listdir(self, path: str) -> list[str]:
        try:
            return os.listdir(path)
        except FileNotFoundError:
            return []

    def uid(self, owner: str) -> int:
        uid = user_id(owner)
        if uid is None:
            raise ServiceConfigError(f"owner {owner!r} is not a user on this host")
        return uid

    def gid(self, group: str) -> int:
        gid = group_id(group)
        if gid is None:
            raise ServiceConfigError(f"group {group!r} is not a group on this host")
        return gid

    def write(self, path: str, state: FileState) -> None:
        if os.path.ismount(path):
            # A file mounted over the path (a container's /etc/resolv.conf): a rename cannot
            # replace it, so it is rewritten in place.
            with open(path, "r+b") as handle:
                handle.write(state.content)
                handle.truncate()
                handle.flush()
                os.fsync(handle.fileno())
            self.set_attributes(path, state)
            return
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        replace_file(path, state.uid, state.gid, state.mode, data=state.content)

    def set_attributes(self, path: str, state: FileState) -> None:
        os.chown(path, state.uid, state.gid)
        os.chmod(path, state.mode)

    def symlink(self, path: str, target: str) -> None:
        # A temporary link renamed over the path: the path is the old file or link, or the
        # new link, never missing. The target is kept as given (relative stays relative).
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        tmp = f"{path}.gw-link"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(target, tmp)
        try:
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    # --- service ----------------------------------------------------------------
    def run(self, argv: list[str]) -> tuple[int, str, str]:
        return self._run(argv)

    def is_active(self, service: str) -> bool:
        rc, _out, _err = self._run(["systemctl", "is-active", "--quiet", service])
        return rc == 0

    # --- health probe -----------------------------------------------------------
    def probe(self, spec: dict) -> tuple[bool, str]:
        """Retry until the probe answers as expected or its timeout runs out."""
        deadline = self._clock() + float(spec.get("timeout") or 10)
        while True:
            ok, detail = self._probe_once(spec)
            if ok or self._clock() >= deadline:
                return ok, detail
            self._sleep(0.5)

    def _probe_once(self, spec: dict) -> tuple[bool, str]:
        # one attempt: request_timeout when given, else up to 5 s within the whole timeout
        timeout = float(spec.get("request_timeout") or max(1.0, min(5.0, float(spec.get("timeout") or 10))))
        if spec.get("url"):
            return probe_url(spec, timeout)
        host, port = spec.get("host") or "127.0.0.1", int(spec["tcp_port"])
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True, f"{host}:{port} accepts connections"
        except OSError as exc:
            return False, f"nothing accepts connections on {host}:{port} ({exc.strerror or exc})"


def probe_url(spec: dict, timeout: float) -> tuple[bool, str]:
    from urllib.parse import urlsplit

    url = urlsplit(spec["url"])
    port = url.port or (443 if url.scheme == "https" else 80)
    if url.scheme == "https":
        context = ssl.create_default_context()
        if not spec.get("validate_certs"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(url.hostname, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(url.hostname, port, timeout=timeout)
    headers = {"Host": spec["host_header"]} if spec.get("host_header") else {}
    want = int(spec.get("status") or 200)
    try:
        conn.request("GET", url.path or "/", headers=headers)
        response = conn.getresponse()
        body = response.read(65536).decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        return False, f"GET {spec['url']} failed: {exc}"
    finally:
        conn.close()
    if response.status != want:
        return False, f"GET {spec['url']} answered {response.status}, expected {want}"
    if spec.get("contains") and spec["contains"] not in body:
        return False, f"GET {spec['url']} answered {response.status} without {spec['contains']!r}"
    return True, f"GET {spec['url']} answered {response.status}"
