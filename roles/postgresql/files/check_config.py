# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check a candidate PostgreSQL configuration with the server's own parser; exit 1 with its message.

Usage: python3 groundwork-postgresql-check VERSION PORT   (installed by groundwork.server.postgresql and run
by its groundwork.server.service_config transaction after the candidate files are in place).

1. ``postgres -C data_directory`` parses postgresql.conf with everything it includes, as the
   server would at start, and rejects unknown settings and invalid values.
2. When the cluster runs: the pg_file_settings view (every setting the files would apply, with
   an error where one cannot be applied; a valid setting that needs a restart is not an error
   here, the role restarts for it) and the pg_hba_file_rules view (pg_hba.conf as the server
   would load it at reload).
"""

import subprocess
import sys

RUNUSER = ["/usr/sbin/runuser", "-u", "postgres", "--"]
QUERY = """
SELECT coalesce(f.sourcefile, '?') || ':' || coalesce(f.sourceline::text, '?') || ': '
       || coalesce(f.name, '') || ': ' || f.error
  FROM pg_file_settings f LEFT JOIN pg_settings s ON s.name = f.name
 WHERE f.error IS NOT NULL
   AND NOT (s.context = 'postmaster' AND f.error = 'setting could not be applied')
UNION ALL
SELECT 'pg_hba.conf:' || line_number || ': ' || error FROM pg_hba_file_rules WHERE error IS NOT NULL;
"""


def run(argv):
    # Fixed programs by absolute path; the arguments come from the role.
    return subprocess.run(argv, capture_output=True, text=True, check=False, cwd="/")  # noqa: S603


def main():
    version, port = sys.argv[1], sys.argv[2]
    config = f"/etc/postgresql/{version}/main/postgresql.conf"
    parsed = run([*RUNUSER, f"/usr/lib/postgresql/{version}/bin/postgres", "-c", f"config_file={config}",
                  "-C", "data_directory"])  # fmt: skip
    if parsed.returncode != 0:
        sys.stderr.write(parsed.stderr or parsed.stdout or "postgres -C rejected the configuration\n")
        return 1
    ready = run(["/usr/bin/pg_isready", "-q", "-p", port])
    if ready.returncode != 0:
        return 0  # not running: the parser's check is all there is
    views = run(
        [*RUNUSER, "/usr/bin/psql", "-X", "-A", "-t", "-q", "-p", port, "-d", "postgres", "-c", QUERY]
    )
    if views.returncode != 0:
        sys.stderr.write(views.stderr or "psql failed\n")
        return 1
    if views.stdout.strip():
        sys.stderr.write(views.stdout)
        return 1
    return 0


sys.exit(main())
