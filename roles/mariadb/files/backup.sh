#!/bin/bash -eu
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# groundwork-mariadb-backup DIR KEEP [DATABASE...]
# Installed by groundwork.server.mariadb and run as root by
# groundwork-mariadb-backup.service. mariadb-backup copies the running server (only the
# named databases, and mysql, when some are named) into a temporary directory under DIR and
# prepares the copy; groundwork-mariadb-restore records CHECKSUM TABLE ... EXTENDED of every
# table of the copy, from a scratch server of its own, as the manifest "checksums"; the copy,
# the manifest and "info" are packed into a temporary file in DIR (0600), which
# groundwork-mariadb-restore then verifies: only a verified archive is renamed to
# DIR/mariadb-YYYYmmddTHHMMSSZ.tar.gz, and then the newest KEEP of those are kept, older ones
# deleted. An archive that fails its verification is kept as *.tar.gz.failed for a look.
# Every result goes to the journal; any failure makes the run (and so the unit) fail.
# DIR is kept root:mysql 0710: the scratch server runs as mysql and must reach its copy.
set -euo pipefail
umask 077
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
shopt -s extglob nullglob

prog=groundwork-mariadb-backup
restore="${GROUNDWORK_MARIADB_RESTORE:-/usr/local/sbin/groundwork-mariadb-restore}"
# When stderr is the journal (a systemd unit), errors carry their priority.
level=''
if [ -n "${JOURNAL_STREAM:-}" ] && [ "$(stat -L -c %d:%i "/proc/$$/fd/2" 2>/dev/null)" = "$JOURNAL_STREAM" ]; then
  level='<3>'
fi

work=''
partial=''

usage() {
  echo "usage: $prog DIR KEEP [DATABASE...]" >&2
  exit 2
}

fail() {
  printf '%s%s: %s\n' "$level" "$prog" "$*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  trap - EXIT
  if [ -n "$work" ]; then
    rm -rf -- "$work"
  fi
  if [ -n "$partial" ]; then
    rm -f -- "$partial"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# run LOG DESCRIPTION COMMAND...: COMMAND's output goes to LOG, shown only when it fails.
run() {
  local log="$1" what="$2"
  shift 2
  if ! "$@" >"$log" 2>&1; then
    printf '%s--- last lines of the output of %s:\n' "$level" "$1" >&2
    tail -n 25 "$log" >&2
    fail "$what failed"
  fi
}

[ "$#" -ge 2 ] || usage
dir="$(realpath -m -- "$1")"
keep="$2"
shift 2
case "$keep" in
  '' | *[!0-9]* | 0) fail "KEEP must be the number of archives to keep (1 or more), not '$keep'" ;;
esac
declare -a databases=()
for db in "$@"; do
  case "$db" in
    '' | -* | *[[:space:]./\\*?\'\"\`]*) fail "'$db' is not a database name this program accepts" ;;
    mysql) ;;
    sys | performance_schema | information_schema) fail "$db is not a database to back up" ;;
    *) databases+=("$db") ;;
  esac
done

[ "$(id -u)" -eq 0 ] || fail "must run as root"
id mysql >/dev/null 2>&1 || fail "there is no user mysql"
backup_tool="$(command -v mariadb-backup || command -v mariabackup)" ||
  fail "neither mariadb-backup nor mariabackup is installed (package mariadb-backup)"
[ -x "$restore" ] || fail "$restore is missing: it computes and verifies the checksums"

install -d -m 0710 -o root -g mysql "$dir" || fail "cannot create $dir"
chown root:mysql "$dir"
chmod 0710 "$dir"
exec 9>"$dir/.lock"
flock -n 9 || fail "another backup into $dir is running"

# The live server: reachable, its version, and the setting a scratch server must share.
live="$(mariadb --batch --skip-column-names -e 'SELECT VERSION(), @@lower_case_table_names')" ||
  fail "cannot reach the live server (mariadb as root through its socket)"
version="${live%%$'\t'*}"
lctn="${live##*$'\t'}"
declare -a filter=()
if [ "${#databases[@]}" -gt 0 ]; then
  for db in "${databases[@]}"; do
    found="$(mariadb --batch --skip-column-names -e \
      "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '$db'")"
    [ "$found" = 1 ] || fail "the database $db does not exist in the live server"
  done
  filter=(--databases="mysql ${databases[*]}")
fi

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
archive="$dir/mariadb-$stamp.tar.gz"
[ ! -e "$archive" ] || fail "$archive exists already"
work="$(mktemp -d "$dir/.work-XXXXXX")" || fail "cannot create a temporary directory in $dir"
chown mysql:mysql "$work"

run "$work/backup.log" "mariadb-backup --backup" \
  "$backup_tool" --backup --target-dir="$work/data" "${filter[@]}"
run "$work/prepare.log" "mariadb-backup --prepare" \
  "$backup_tool" --prepare --target-dir="$work/data"
rm -f -- "$work/backup.log" "$work/prepare.log"

{
  echo "created=$stamp"
  echo "host=$(uname -n)"
  echo "server_version=$version"
  echo "lower_case_table_names=$lctn"
  if [ "${#databases[@]}" -gt 0 ]; then
    echo "databases=${databases[*]}"
  else
    echo "databases=all"
  fi
} >"$work/info"

"$restore" checksums "$work" >"$work/checksums.partial" ||
  fail "recording the checksums of the prepared copy failed"
mv -- "$work/checksums.partial" "$work/checksums"
tables="$(wc -l <"$work/checksums")"

partial="$dir/.mariadb-$stamp.tar.gz.partial"
tar --create --gzip --sparse --file="$partial" -C "$work" info checksums data ||
  fail "writing $partial failed"
chmod 0600 "$partial"
rm -rf -- "$work"
work=''

# Only a verified archive gets its name.
if ! "$restore" --dir "$dir" verify "$partial" >/dev/null; then
  mv -- "$partial" "$archive.failed"
  partial=''
  fail "the new backup failed its verification: kept as $archive.failed, no older backup removed"
fi
mv -- "$partial" "$archive"
partial=''
echo "backup of ${databases[*]:-all databases}: $archive ($(stat -c %s "$archive") bytes, $tables tables, verified)"

# The newest KEEP verified archives stay (the names sort by time).
archives=("$dir"/mariadb-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.tar.@(gz|zst))
if [ "${#archives[@]}" -gt "$keep" ]; then
  printf '%s\n' "${archives[@]}" | LC_ALL=C sort -r | tail -n +"$((keep + 1))" |
    while IFS= read -r old; do
      rm -f -- "$old" && echo "removed the old backup $old"
    done
fi
