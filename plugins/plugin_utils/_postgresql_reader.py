# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The read-only program the action plugin of groundwork.server.postgresql_objects runs on the host.

Not imported by the controller: the plugin sends this file's text through
groundwork.server.host_info's command (plugin_utils/_host_info.py). Standard library only.

Argument: one JSON object {"port", "cluster", "databases"} with the cluster query and, for
each declared database, the psql script that reads its state. It prints what
module_utils/_postgresql/core.py plans from: {"cluster": ..., "states": [...]}, or
{"error": "..."} when psql cannot read (the module then runs and reports it).
"""

import json
import subprocess
import sys


class ReadError(Exception):
    pass


def psql(port, script):
    argv = [
        "/usr/sbin/runuser", "-u", "postgres", "--",
        "/usr/bin/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-p", str(port), "-d", "postgres",
    ]  # fmt: skip
    try:
        # Fixed programs by absolute path; the script comes from the collection's own queries.
        done = subprocess.run(argv, input=script, capture_output=True, text=True, cwd="/", check=False)  # noqa: S603
    except OSError as exc:
        raise ReadError(str(exc)) from None
    if done.returncode != 0:
        raise ReadError((done.stderr or done.stdout).strip())
    return [line for line in done.stdout.splitlines() if line.strip()]


def read(request):
    cluster = json.loads(psql(request["port"], request["cluster"])[0])
    existing = {database["name"] for database in cluster["databases"]}
    script = "".join(text for name, text in request["databases"].items() if name in existing)
    states = [json.loads(line) for line in psql(request["port"], script)] if script else []
    return {"cluster": cluster, "states": states}


def main():
    try:
        answer = read(json.loads(sys.argv[1]))
    except (ReadError, ValueError, IndexError, KeyError) as exc:
        answer = {"error": str(exc) or type(exc).__name__}
    sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
