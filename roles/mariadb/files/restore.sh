#!/bin/bash -eu
# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# groundwork-mariadb-restore [--dir DIR] verify [ARCHIVE]
# groundwork-mariadb-restore [--dir DIR] table DATABASE TABLE [ARCHIVE]
# groundwork-mariadb-restore [--dir DIR] database DATABASE [ARCHIVE]
# groundwork-mariadb-restore checksums TREE        (used by groundwork-mariadb-backup)
#
# Installed by groundwork.server.mariadb; run as root. Reads the archives that
# groundwork-mariadb-backup writes (DIR/mariadb-YYYYmmddTHHMMSSZ.tar.gz: data/, a prepared
# mariadb-backup copy; checksums, "db.table checksum" per base table; info). Every command
# extracts the archive into a temporary directory under DIR and starts a scratch server on
# it: its own socket in that directory, no network, no TLS, no binary log, no replication,
# events never run, nothing read from the host's configuration, no grant tables (but for
# "database", which needs them to dump events); it never touches the live server's files,
# port or socket, and it is stopped (by its pid) however the program ends.
#
# verify    compares CHECKSUM TABLE ... EXTENDED of every table in the extracted copy with
#           the manifest: "verified N tables in ARCHIVE" and exit 0, or every difference on
#           stderr and exit 1.
# table     pipes mariadb-dump of one table from the scratch server into the live server
#           (the table is dropped and re-created), then compares the live checksum.
# database  the same for a whole database: missing tables are re-created, existing ones
#           replaced, tables that are not in the backup left alone; routines, events,
#           triggers and views come back too.
# The live server is reached with the client's own configuration (root through the unix
# socket). Exit status: 0 done, 1 failed (the message says what), 2 wrong usage.
set -euo pipefail
umask 077
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
shopt -s extglob nullglob

prog=groundwork-mariadb-restore
dir=/var/backups/mariadb
# When stderr is the journal (a systemd unit), errors carry their priority.
level=''
if [ -n "${JOURNAL_STREAM:-}" ] && [ "$(stat -L -c %d:%i "/proc/$$/fd/2" 2>/dev/null)" = "$JOURNAL_STREAM" ]; then
  level='<3>'
fi
system_schemas=" mysql sys performance_schema information_schema "

work=''
scratch_pid=''
scratch_sock=''
scratch_log=''
scratch_client=()

usage() {
  cat >&2 <<EOF
usage: $prog [--dir DIR] verify [ARCHIVE]
       $prog [--dir DIR] table DATABASE TABLE [ARCHIVE]
       $prog [--dir DIR] database DATABASE [ARCHIVE]
ARCHIVE defaults to the newest mariadb-*.tar.gz in DIR (default $dir), where the
temporary copies are made too.
EOF
  exit 2
}

fail() {
  printf '%s%s: %s\n' "$level" "$prog" "$*" >&2
  exit 1
}

# The last lines of a log, for a failure message.
show_log() {
  [ -s "$1" ] || return 0
  printf '%s--- last lines of %s:\n' "$level" "$2" >&2
  tail -n 25 "$1" >&2
}

# Alive and not a zombie (the scratch server is our child until we wait for it).
alive() {
  local state
  state="$(cut -d ' ' -f 3 "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

stop_scratch() {
  local pid="$scratch_pid" i
  [ -n "$pid" ] || return 0
  scratch_pid=''
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 1200; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    printf '%s%s: the scratch server (pid %s) did not stop within 120 s: killed\n' \
      "$level" "$prog" "$pid" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT
  stop_scratch
  if [ -n "$work" ]; then
    rm -rf -- "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# A temporary directory under $1 that the scratch server (user mysql) may use.
make_work() {
  work="$(mktemp -d "$1/.work-XXXXXX")" || fail "cannot create a temporary directory in $1"
  chown mysql:mysql "$work"
  if ! setpriv --reuid=mysql --regid=mysql --init-groups test -x "$work"; then
    fail "the scratch server runs as mysql and cannot reach $1: give $1 group mysql and mode 0710 (groundwork-mariadb-backup does) or choose another --dir"
  fi
}

# start_scratch TREE [grants]: a server of its own on TREE/data (TREE/info may name
# lower_case_table_names); its socket, pid file, log and temporary files in $work/run.
# It skips the grant tables, which also keeps its events from running, unless "grants" is
# asked for: mariadb-dump sees events only with them, and then root logs in through the
# backup's own accounts (unix_socket), with the event scheduler off. When the backup's
# root@localhost refuses that, the server starts again without grant tables.
start_scratch() {
  local tree="$1" grants='' run="$work/run" lctn='' i
  [ "${2:-}" != grants ] || grants=yes
  local -a opts
  [ -d "$tree/data" ] || fail "$tree has no data directory: not a groundwork MariaDB backup"
  scratch_sock="$run/sock"
  scratch_log="$run/server.log"
  [ "${#scratch_sock}" -lt 100 ] || fail "the socket path $scratch_sock is too long: choose a shorter --dir"
  mkdir -p "$run/tmp"
  chown -R -h mysql:mysql "$tree/data" "$run"
  # mariadb-backup writes the InnoDB settings the copy needs (page size, undo tablespaces,
  # redo log size) into backup-my.cnf; nothing else is read.
  if [ -f "$tree/data/backup-my.cnf" ]; then
    opts=(--defaults-file="$tree/data/backup-my.cnf")
  else
    opts=(--no-defaults)
  fi
  if [ -f "$tree/info" ]; then
    lctn="$(sed -n 's/^lower_case_table_names=\([0-2]\)$/\1/p' "$tree/info")"
  fi
  [ -z "$lctn" ] || opts+=(--lower-case-table-names="$lctn")
  opts+=(
    --datadir="$tree/data" --socket="$scratch_sock" --pid-file="$run/pid"
    --tmpdir="$run/tmp" --skip-networking --user=mysql --innodb-buffer-pool-size=32M
    --innodb-log-file-size=16M --innodb-buffer-pool-load-at-startup=OFF
    --innodb-buffer-pool-dump-at-shutdown=OFF --skip-slave-start --skip-log-bin --skip-ssl
  )
  if [ -n "$grants" ]; then
    opts+=(--event-scheduler=OFF)
  else
    opts+=(--skip-grant-tables --event-scheduler=DISABLED)
  fi
  # No TLS on its socket: MariaDB 11.4 and later would make a certificate at every start.
  scratch_client=(--no-defaults --socket="$scratch_sock" --user=root --skip-ssl)
  mariadbd "${opts[@]}" >"$scratch_log" 2>&1 &
  scratch_pid=$!
  for ((i = 0; i < 1200; i++)); do
    if ! alive "$scratch_pid"; then
      wait "$scratch_pid" 2>/dev/null || true
      scratch_pid=''
      show_log "$scratch_log" "the scratch server's log"
      fail "the scratch server on $tree/data did not start"
    fi
    # ping succeeds once the server answers, even when it refuses the login
    if mariadb-admin "${scratch_client[@]}" ping >/dev/null 2>&1; then
      if scratch_sql -e 'SELECT 1' >/dev/null 2>&1; then
        return 0
      fi
      if [ -n "$grants" ]; then
        stop_scratch
        printf '%s%s: root@localhost in the backup refuses a unix_socket login: its events cannot be read and are not restored\n' \
          "$level" "$prog" >&2
        start_scratch "$tree"
        return 0
      fi
    fi
    sleep 0.1
  done
  show_log "$scratch_log" "the scratch server's log"
  fail "the scratch server on $tree/data did not answer within 120 s"
}

scratch_sql() {
  mariadb "${scratch_client[@]}" "$@"
}

# The live server, with the client's configuration: root through the unix socket.
live_sql() {
  mariadb "$@"
}

# A string literal for SQL.
sql_str() {
  local s="${1//\\/\\\\}"
  printf "'%s'" "${s//\'/\\\'}"
}

# A quoted identifier.
sql_id() {
  local q='`'
  printf '%s%s%s' "$q" "${1//$q/$q$q}" "$q"
}

# table_list [DATABASE]: the base tables of the user databases (of DATABASE alone when
# given) in the scratch server, as a comma-separated list of quoted names.
table_list() {
  local where="table_schema NOT IN ('mysql', 'sys', 'performance_schema', 'information_schema')"
  [ -z "${1:-}" ] || where="table_schema = $(sql_str "$1")"
  scratch_sql --batch --raw --skip-column-names <<SQL | paste -s -d , -
SELECT CONCAT('\`', REPLACE(table_schema, '\`', '\`\`'), '\`.\`',
              REPLACE(table_name, '\`', '\`\`'), '\`')
  FROM information_schema.tables
 WHERE table_type IN ('BASE TABLE', 'SYSTEM VERSIONED') AND $where
SQL
}

# checksums_of CLIENT LIST: "db.table checksum" for every table in LIST, sorted; CLIENT is
# scratch_sql or live_sql.
checksums_of() {
  [ -n "$2" ] || return 0
  "$1" --batch --skip-column-names -e "CHECKSUM TABLE $2 EXTENDED" | tr '\t' ' ' | LC_ALL=C sort
}

# compare WANT GOT PLACE LABEL: every difference between two manifests, one per line;
# PLACE names where GOT comes from ("the restored copy"), LABEL its checksums ("restored").
compare() {
  awk -v place="$3" -v label="$4" '
    function parse(line) {
      if (match(line, / [^ ]*$/)) { name = substr(line, 1, RSTART - 1); sum = substr(line, RSTART + 1) }
      else { name = line; sum = "(none)" }
    }
    FILENAME == ARGV[1] { parse($0); want[name] = sum; order[++n] = name; next }
    { parse($0); got[name] = sum; if (!(name in want)) extra[++m] = name }
    END {
      for (i = 1; i <= n; i++) {
        t = order[i]
        if (!(t in got)) print t ": in the backup, missing from " place
        else if (got[t] != want[t]) print t ": checksum " want[t] " in the backup, " got[t] " " label
      }
      for (i = 1; i <= m; i++) print extra[i] ": in " place ", not in the backup'"'"'s manifest"
    }' "$1" "$2"
}

# report DIFFERENCES MESSAGE: every difference on stderr, then fail with MESSAGE.
report() {
  local line
  [ -n "$1" ] || return 0
  while IFS= read -r line; do
    printf '%s%s\n' "$level" "$line" >&2
  done <<<"$1"
  fail "$2: $(wc -l <<<"$1") difference(s)"
}

# The archive named, or the newest one in $dir.
pick_archive() {
  local -a found
  if [ -n "${1:-}" ]; then
    [ -f "$1" ] || fail "no archive $1"
    archive="$(realpath -- "$1")"
    return 0
  fi
  [ -d "$dir" ] || fail "no backup directory $dir"
  found=("$dir"/mariadb-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.tar.@(gz|zst))
  [ "${#found[@]}" -gt 0 ] || fail "no archive mariadb-*.tar.gz in $dir"
  archive="$(printf '%s\n' "${found[@]}" | LC_ALL=C sort | tail -n 1)"
}

# open_archive [verify|grants]: extract $archive into $work (with its manifest, to verify
# it) and start the scratch server on it (with grant tables when asked).
open_archive() {
  make_work "$dir"
  # tar stops quietly at a zeroed block it takes for the end: the compression's own check
  # reads the whole stream first.
  case "$archive" in
    *.gz) gzip -t "$archive" 2>"$work/tar.log" || { show_log "$work/tar.log" "gzip"; fail "$archive is damaged"; } ;;
    *.zst) zstd -q -t "$archive" 2>"$work/tar.log" || { show_log "$work/tar.log" "zstd"; fail "$archive is damaged"; } ;;
  esac
  if ! tar -x -f "$archive" -C "$work" 2>"$work/tar.log"; then
    show_log "$work/tar.log" "tar"
    fail "cannot extract $archive"
  fi
  if [ "${1:-}" = verify ] && [ ! -f "$work/checksums" ]; then
    fail "$archive has no checksums manifest"
  fi
  start_scratch "$work" "${1:-}"
}

cmd_verify() {
  local list count differences
  [ "$#" -le 1 ] || usage
  pick_archive "${1:-}"
  open_archive verify
  if ! list="$(table_list)" || ! checksums_of scratch_sql "$list" >"$work/restored"; then
    show_log "$scratch_log" "the scratch server's log"
    fail "computing the checksums of the copy restored from $archive failed"
  fi
  stop_scratch
  differences="$(compare "$work/checksums" "$work/restored" "the restored copy" restored)"
  if [ -n "$differences" ] && grep -q -F '[ERROR]' "$scratch_log"; then
    printf '%s--- errors of the scratch server:\n' "$level" >&2
    grep -F '[ERROR]' "$scratch_log" | tail -n 10 >&2
  fi
  report "$differences" "verification of $archive FAILED"
  count="$(wc -l <"$work/restored")"
  echo "verified $count tables in $archive"
}

refuse_system_schema() {
  case "$system_schemas" in
    *" $1 "*) fail "restoring the system database $1 is not supported: restore the whole data directory instead" ;;
  esac
}

# The live checksums of the tables in LIST against $work/restored (the scratch server's).
compare_live() {
  checksums_of live_sql "$1" >"$work/live" ||
    fail "computing the checksums in the live server failed"
  report "$(compare "$work/restored" "$work/live" "the live server" "in the live server")" \
    "the restored tables differ from the backup"
}

cmd_table() {
  local db table type list=''
  case "$#" in 2 | 3) ;; *) usage ;; esac
  db="$1"
  table="$2"
  [ -n "$db" ] || usage
  [ -n "$table" ] || usage
  refuse_system_schema "$db"
  pick_archive "${3:-}"
  open_archive
  type="$(scratch_sql --batch --skip-column-names -e \
    "SELECT table_type FROM information_schema.tables WHERE table_schema = $(sql_str "$db") AND table_name = $(sql_str "$table")")" ||
    fail "looking up $db.$table in the scratch server failed"
  [ -n "$type" ] || fail "$archive has no table $db.$table"
  [ "$type" = VIEW ] || list="$(sql_id "$db").$(sql_id "$table")"
  checksums_of scratch_sql "$list" >"$work/restored" ||
    fail "computing the checksum of $db.$table in the scratch server failed"
  live_sql -e "SELECT 1" >/dev/null || fail "cannot reach the live server"
  scratch_sql --batch --skip-column-names -e "SHOW CREATE DATABASE $(sql_id "$db")" | cut -f 2 |
    sed 's/^CREATE DATABASE /CREATE DATABASE IF NOT EXISTS /' | live_sql ||
    fail "cannot create the database $db in the live server"
  if ! mariadb-dump "${scratch_client[@]}" --hex-blob \
    --default-character-set=utf8mb4 --single-transaction -- "$db" "$table" |
    live_sql --database="$db"; then
    fail "restoring the table $db.$table from $archive into the live server failed"
  fi
  stop_scratch
  compare_live "$list"
  if [ -n "$list" ]; then
    echo "restored the table $db.$table from $archive: checksum $(sed 's/.* //' "$work/live") in the live server, the same as in the backup"
  else
    echo "restored the view $db.$table from $archive"
  fi
}

cmd_database() {
  local db list found
  case "$#" in 1 | 2) ;; *) usage ;; esac
  db="$1"
  [ -n "$db" ] || usage
  refuse_system_schema "$db"
  pick_archive "${2:-}"
  open_archive grants
  found="$(scratch_sql --batch --skip-column-names -e \
    "SELECT 1 FROM information_schema.schemata WHERE schema_name = $(sql_str "$db")")" ||
    fail "looking up $db in the scratch server failed"
  [ -n "$found" ] || fail "$archive has no database $db"
  if ! list="$(table_list "$db")" || ! checksums_of scratch_sql "$list" >"$work/restored"; then
    fail "computing the checksums of $db in the scratch server failed"
  fi
  live_sql -e "SELECT 1" >/dev/null || fail "cannot reach the live server"
  if ! mariadb-dump "${scratch_client[@]}" --hex-blob \
    --default-character-set=utf8mb4 --single-transaction --routines --events --triggers \
    --databases -- "$db" | live_sql; then
    fail "restoring the database $db from $archive into the live server failed"
  fi
  stop_scratch
  compare_live "$list"
  cat "$work/live"
  echo "restored the database $db from $archive: $(wc -l <"$work/live") tables, checksums in the live server the same as in the backup"
}

# checksums TREE: the manifest of TREE/data on stdout (groundwork-mariadb-backup's step).
cmd_checksums() {
  local tree list
  [ "$#" -eq 1 ] || usage
  tree="$(realpath -- "$1")"
  make_work "$tree"
  start_scratch "$tree"
  if ! list="$(table_list)" || ! checksums_of scratch_sql "$list" >"$work/checksums"; then
    show_log "$scratch_log" "the scratch server's log"
    fail "computing the checksums of $tree/data failed"
  fi
  stop_scratch
  cat "$work/checksums"
}

main() {
  local command
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --dir)
        [ "$#" -ge 2 ] || usage
        dir="${2%/}"
        shift 2
        ;;
      --dir=*)
        dir="${1#--dir=}"
        dir="${dir%/}"
        shift
        ;;
      -*) usage ;;
      *) break ;;
    esac
  done
  [ "$#" -ge 1 ] || usage
  command="$1"
  shift
  case "$command" in
    verify | table | database | checksums) ;;
    *) usage ;;
  esac
  dir="$(realpath -m -- "$dir")"
  [ "$(id -u)" -eq 0 ] || fail "must run as root"
  "cmd_$command" "$@"
}

# Sourced (by the unit tests), it only defines the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
