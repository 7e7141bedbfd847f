#!/bin/sh
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# groundwork-postgresql-backup DIR KEEP PORT DATABASE...
# Installed by groundwork.server.postgresql and run as postgres by
# groundwork-postgresql-backup.service. One pg_dump -Fc per database, written to a partial
# file and renamed when complete; the newest KEEP dumps of each database are kept. Every
# result goes to the journal; any failure makes the run (and so the unit) fail.
set -u
dir="$1"
keep="$2"
port="$3"
shift 3
umask 077
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
status=0
[ "$#" -gt 0 ] || echo "no database to back up"
for db in "$@"; do
  file="$dir/$db-$stamp.dump"
  if pg_dump --port "$port" --format custom --file "$file.partial" "$db"; then
    mv "$file.partial" "$file"
    echo "backup of database $db: $file ($(stat -c %s "$file") bytes)"
    # shellcheck disable=SC2012  # the names are ours: database name, '-', a timestamp
    ls -1t "$dir/$db"-*.dump | tail -n +"$((keep + 1))" | while read -r old; do
      rm -f -- "$old" && echo "removed the old backup $old"
    done
  else
    rm -f -- "$file.partial"
    echo "<3>backup of database $db FAILED" >&2
    status=1
  fi
done
exit "$status"
