# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a role's probe as groundwork.server.role_plan runs it: inside the shared probe
library, in one shell command, on this machine."""

from __future__ import annotations

import subprocess
import sys

from ansible_collections.groundwork.server.plugins.plugin_utils._host_info import (
    PROBE,
    build_command,
    parse_answer,
)
from ansible_collections.groundwork.server.plugins.plugin_utils._role_action import probe_source


def run_role_probe(role, args):
    """What the probe of ``role`` returns for ``args``."""
    request = {"probes": {role: {"source": probe_source(role), "args": args}}}
    command = build_command(sys.executable, PROBE.read(), request)
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=False)
    answer, error = parse_answer(done.returncode, done.stdout, done.stderr)
    assert error is None, error
    return answer["probes"][role]
