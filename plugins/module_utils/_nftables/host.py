# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real side effects of nftables_table: commands and files on the managed host."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid

from ansible_collections.groundwork.server.plugins.module_utils._files.write import replace_file

# nft's path goes into the boot unit and the rollback script: the same on every run,
# whatever PATH the connection gives the module.
NFT_PATHS = ("/usr/sbin/nft", "/sbin/nft")


class LocalHost:
    """Side effects on the machine the module runs on.

    ``run`` takes an argv list and returns (rc, stdout, stderr), for example
    AnsibleModule.run_command; ``which`` finds a program or returns None, for example
    AnsibleModule.get_bin_path.
    """

    def __init__(self, run, which, sleep=time.sleep, clock=time.monotonic, now=time.time):
        self._run = run
        self._which = which
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.nft = next((path for path in NFT_PATHS if os.path.exists(path)), None) or which("nft")

    # --- commands ---------------------------------------------------------------------
    def run(self, argv: list[str]) -> tuple[int, str, str]:
        program = argv[0] if os.path.isabs(argv[0]) else self._which(argv[0])
        if program is None:
            return 127, "", f"{argv[0]}: command not found"
        return self._run([program, *argv[1:]])

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    # --- files ------------------------------------------------------------------------
    @staticmethod
    def read(path: str) -> str | None:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    @staticmethod
    def write(path: str, text: str, mode: int, dir_mode: int = 0o755) -> None:
        """Atomically: a temporary file with its final mode, renamed over the target."""
        os.makedirs(os.path.dirname(path), mode=dir_mode, exist_ok=True)
        replace_file(path, os.geteuid(), os.getegid(), mode, data=text.encode("utf-8"))

    @staticmethod
    def remove(path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    @staticmethod
    @contextlib.contextmanager
    def temporary(text: str):
        """A private temporary file holding ``text``, removed afterwards (check mode too)."""
        fd, path = tempfile.mkstemp(prefix="gw-nft-", suffix=".nft")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            yield path
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
