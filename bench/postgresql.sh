#!/usr/bin/env bash
# Benchmark: PostgreSQL as groundwork.server.postgresql tunes it, against Debian's stock
# configuration, side by side in one run: pgbench read-only (-S: one primary-key lookup
# per transaction) and read-write (pgbench's built-in TPC-B-like script), on a data set
# larger than the stock shared_buffers (128MB) that fits the tuned one.
# Prints a table and the ratios with PASS/MISS against the target of docs/BENCHMARKS.md.
# Exits 0 whether or not the target is met (it is a measurement), non-zero on errors.
#
# Containers (both removed on exit, also on failure or Ctrl-C):
#   gw-bench-pg-tuned   Debian's postgresql, then the role (bench/postgresql/tuned.yml)
#   gw-bench-pg-stock   Debian's postgresql, untouched
# Both get the same memory limit (swap off) and the same cpuset. The page cache counts
# against the memory limit, so both sides cache the data set within the same budget:
# stock in 128MB of shared buffers plus the kernel's page cache, tuned in its larger
# shared buffers (plus the page cache). pgbench runs inside each database container
# over the Unix socket; the two sides are measured one after the other, never at the
# same time, in alternating order, and the median of the rounds is reported.
#
# Settings (environment):
#   GW_BENCH_RELEASE=12        Debian release of the containers (12 or 13)
#   GW_BENCH_ROUNDS=3          rounds; each measures both sides in both modes
#   GW_BENCH_SECONDS=30        seconds per measured pgbench run
#   GW_BENCH_WARMUP=10         seconds of unmeasured pgbench before each measured run
#   GW_BENCH_SCALE=30          pgbench scale factor (30: about 460MB)
#   GW_BENCH_CLIENTS=8         pgbench clients (-c); threads (-j) = number of CPUs in the cpuset
#   GW_BENCH_PROTOCOL=simple   pgbench query mode (-M): simple, extended or prepared
#   GW_BENCH_MEMORY=2g         memory limit of each container (docker --memory, no swap)
#   GW_BENCH_CPUS=0-<n-1>      cpuset of each container (default: every CPU)
#   GW_BENCH_SETTINGS='{}'     JSON object of overrides for the role (postgresql_settings),
#                              e.g. '{"shared_buffers": "1GB"}', to find what matters
#   GW_BENCH_AA=1              leave the "tuned" side stock as well: an A/A run that shows
#                              what the harness alone makes of two identical servers
#   GW_BENCH_MODES='ro rw'     which runs: ro (read-only, the target), rw (read-write), or both
#   GW_BENCH_HUGEPAGES=1       give the tuned server huge pages: the script (root on the Docker
#                              host) raises the host's vm.nr_hugepages by what the tuned server
#                              reports it needs (shared_memory_size_in_huge_pages), restarts it
#                              (huge_pages = try takes them), and sets the host back at once (the
#                              pages are freed when the server stops). Containers share the
#                              host's kernel and cannot reserve huge pages themselves; stock,
#                              started before, keeps normal pages. Off by default: it changes
#                              the host for the length of a restart.
#   GW_BENCH_KEEP=1            keep the containers after the run (for inspection)
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$GW_ROOT/scripts/lib/images.sh"
# shellcheck source=scripts/lib/containers.sh
. "$GW_ROOT/scripts/lib/containers.sh"

BENCH_DIR="$GW_ROOT/bench/postgresql"
RELEASE="${GW_BENCH_RELEASE:-12}"
ROUNDS="${GW_BENCH_ROUNDS:-3}"
SECONDS_RUN="${GW_BENCH_SECONDS:-30}"
WARMUP="${GW_BENCH_WARMUP:-10}"
SCALE="${GW_BENCH_SCALE:-30}"
CLIENTS="${GW_BENCH_CLIENTS:-8}"
PROTOCOL="${GW_BENCH_PROTOCOL:-simple}"
MEMORY="${GW_BENCH_MEMORY:-2g}"
CPUS="${GW_BENCH_CPUS:-0-$(($(nproc) - 1))}"
SETTINGS="${GW_BENCH_SETTINGS:-}"
MODES="${GW_BENCH_MODES:-ro rw}"
HUGEPAGES="${GW_BENCH_HUGEPAGES:-}"
TARGET_RO=1.2   # tuned >= 1.2x stock transactions/s, read-only

TUNED=gw-bench-pg-tuned
STOCK=gw-bench-pg-stock
SIDES=("$TUNED" "$STOCK")
LABEL=org.groundwork.bench=postgresql
DB=bench
WORK="$(mktemp -d /tmp/gw-bench-pg.XXXXXX)"
CLK_TCK="$(getconf CLK_TCK)"
declare -A DATA_DIR HUGE_KIB

for setting in ROUNDS SECONDS_RUN WARMUP SCALE CLIENTS; do
  [[ "${!setting}" =~ ^[1-9][0-9]*$ ]] || die "GW_BENCH_${setting%_RUN} must be a positive integer (got '${!setting}')"
done
case "$PROTOCOL" in
  simple | extended | prepared) ;;
  *) die "GW_BENCH_PROTOCOL must be simple, extended or prepared (got '$PROTOCOL')" ;;
esac
[[ "$MODES" =~ ^\ *(ro|rw)(\ +(ro|rw))?\ *$ ]] || die "GW_BENCH_MODES must be ro, rw or 'ro rw' (got '$MODES')"
[[ "$MEMORY" =~ ^[1-9][0-9]*[mMgG]$ ]] || die "GW_BENCH_MEMORY must be a size such as 2g or 1536m (got '$MEMORY')"
[[ "$CPUS" =~ ^[0-9]+([,-][0-9]+)*$ ]] || die "GW_BENCH_CPUS must be a cpuset such as 0-1 or 1 (got '$CPUS')"
# pgbench threads: one per CPU of the cpuset, at most one per client.
THREADS="$(awk -v s="$CPUS" -v c="$CLIENTS" 'BEGIN {
  n = split(s, parts, ","); t = 0
  for (i = 1; i <= n; i++) { if (split(parts[i], r, "-") == 2) t += r[2] - r[1] + 1; else t++ }
  print (t < c ? t : c) }')"

# ---------------------------------------------------------------------------------------
# Containers: only the two named here, created by this script, removed on exit
# ---------------------------------------------------------------------------------------
remove_all() {
  local name
  for name in "${SIDES[@]}"; do
    docker rm -f "$name" >/dev/null 2>&1 || true
  done
}

cleanup() {
  local rc=$?
  if [ -n "${GW_BENCH_KEEP:-}" ]; then
    warn "GW_BENCH_KEEP is set: containers ${SIDES[*]} are left running; remove them with: docker rm -f ${SIDES[*]}"
  else
    remove_all
  fi
  restore_hugepages
  rm -rf "$WORK"
  exit "$rc"
}

start_containers() {
  local name state
  # A run that was killed with SIGKILL leaves its containers behind: they carry our
  # names, so they are ours to remove.
  remove_all
  log "Starting ${SIDES[*]} (Debian $RELEASE; each: memory $MEMORY without swap, CPUs $CPUS)"
  for name in "${SIDES[@]}"; do
    docker run -d --name "$name" --hostname "$name" --label "$LABEL" \
      --memory "$MEMORY" --memory-swap "$MEMORY" --cpuset-cpus "$CPUS" \
      --cap-add SYS_ADMIN --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      --stop-signal SIGRTMIN+3 \
      "$GW_IMAGE_REPO:$RELEASE" /lib/systemd/systemd >/dev/null
  done
  local deadline=$((SECONDS + 90))
  for name in "${SIDES[@]}"; do
    # Right after docker run, systemctl cannot reach systemd yet: ask again, for at most
    # 90 s in all.
    while :; do
      state="$(docker exec "$name" timeout 10 systemctl is-system-running --wait 2>/dev/null || true)"
      case "$state" in
        running | degraded) break ;;
      esac
      if [ "$SECONDS" -ge "$deadline" ]; then
        docker exec "$name" journalctl -b --no-pager 2>/dev/null | grep -m 3 -i 'too many open files' >&2 \
          && warn "systemd ran out of inotify instances: the host's fs.inotify.max_user_instances ($(cat /proc/sys/fs/inotify/max_user_instances)) is shared by every container"
        die "systemd in $name did not come up within 90 s (state: '$state')"
      fi
      sleep 1
    done
  done
}

# The same Debian packages in both, installed at the same time; each writes its own log.
install_postgresql() {
  log "Installing Debian's postgresql in both containers"
  local specs=() name
  for name in "${SIDES[@]}"; do
    specs+=("$name:postgresql")
  done
  install_packages "${specs[@]}"
}

# psql NAME SQL...: run statements as postgres over the Unix socket in the benchmark
# database (or in "postgres" with PSQL_DB=postgres); unaligned, tuples only.
psql_in() {
  local name="$1"
  shift
  local args=() sql
  for sql in "$@"; do
    args+=(-c "$sql")
  done
  docker exec -u postgres "$name" psql -X -q -At -v ON_ERROR_STOP=1 -d "${PSQL_DB:-$DB}" "${args[@]}"
}

configure_tuned() {
  if [ -n "${GW_BENCH_AA:-}" ]; then
    warn "GW_BENCH_AA is set: $TUNED keeps Debian's stock configuration (A/A run)"
    return 0
  fi
  [ -f "$GW_ROOT/roles/postgresql/tasks/main.yml" ] \
    || die "roles/postgresql is not in this checkout (GW_BENCH_AA=1 runs the harness with both sides stock)"
  cat >"$WORK/inventory.yml" <<EOF
all:
  hosts:
    $TUNED:
      ansible_connection: community.docker.docker
      ansible_python_interpreter: /usr/bin/python3
EOF
  local extra='{}'
  [ -z "$SETTINGS" ] || extra="{\"gw_bench_settings\": $SETTINGS}"
  log "Applying groundwork.server.postgresql to $TUNED (bench/postgresql/tuned.yml${SETTINGS:+, overrides $SETTINGS})"
  (cd "$GW_ROOT" && ansible-playbook -i "$WORK/inventory.yml" "$BENCH_DIR/tuned.yml" -e "$extra") \
    >"$WORK/tuned.log" 2>&1 || {
    tail -n 40 "$WORK/tuned.log" >&2
    die "applying the role to $TUNED failed (bench/postgresql/tuned.yml)"
  }
}

# The settings the role wrote (every setting that comes from a file under conf.d), with
# the value each side runs with.
compare_settings() {
  local names name PSQL_DB=postgres
  names="$(psql_in "$TUNED" "SELECT name FROM pg_settings WHERE sourcefile LIKE '%/conf.d/%' ORDER BY name")"
  : >"$WORK/settings"
  for name in shared_buffers $names; do
    grep -q "^$name"$'\t' "$WORK/settings" 2>/dev/null && continue
    # Tab-separated: a value may hold spaces (log_line_prefix).
    printf '%s\t%s\t%s\n' "$name" "$(psql_in "$TUNED" "SHOW $name")" "$(psql_in "$STOCK" "SHOW $name")" >>"$WORK/settings"
  done
  for name in "${SIDES[@]}"; do
    DATA_DIR[$name]="$(psql_in "$name" "SHOW data_directory")"
    HUGE_KIB[$name]="$(huge_kib "$name")"
  done
  TUNED_BUFFERS="$(psql_in "$TUNED" "SELECT pg_size_bytes(current_setting('shared_buffers'))")"
  STOCK_BUFFERS="$(psql_in "$STOCK" "SELECT pg_size_bytes(current_setting('shared_buffers'))")"
}

# Same scale on both sides, initialised at the same time (pgbench -i writes the same
# rows in the same order), then read once into memory with pg_prewarm: into shared
# buffers as far as they reach, the rest stays in the page cache.
initialise() {
  local pids=() name i
  log "pgbench -i -s $SCALE in both containers"
  for name in "${SIDES[@]}"; do
    docker exec -u postgres "$name" sh -ec "createdb $DB && pgbench -i -q -s $SCALE $DB" >"$WORK/init-$name.log" 2>&1 &
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || {
      tail -n 20 "$WORK/init-${SIDES[$i]}.log" >&2
      die "pgbench -i in ${SIDES[$i]} failed"
    }
  done
  for name in "${SIDES[@]}"; do
    psql_in "$name" "CREATE EXTENSION pg_prewarm" "CHECKPOINT" \
      "SELECT pg_prewarm(c) FROM unnest('{pgbench_accounts,pgbench_accounts_pkey}'::regclass[]) c" >/dev/null
  done
  DB_BYTES="$(psql_in "$STOCK" "SELECT pg_database_size('$DB')")"
  [ "$(psql_in "$TUNED" "SELECT pg_database_size('$DB')")" -gt 0 ] || die "no database $DB in $TUNED"
  [ "$DB_BYTES" -gt "$STOCK_BUFFERS" ] \
    || die "the data set ($(mib "$DB_BYTES")) is not larger than the stock shared_buffers ($(mib "$STOCK_BUFFERS")): raise GW_BENCH_SCALE"
  [ "$DB_BYTES" -lt "$TUNED_BUFFERS" ] \
    || warn "the data set ($(mib "$DB_BYTES")) does not fit the tuned shared_buffers ($(mib "$TUNED_BUFFERS"))"
}

# ---------------------------------------------------------------------------------------
# Huge pages (GW_BENCH_HUGEPAGES): a reservation on the host for the tuned server only
# ---------------------------------------------------------------------------------------
NR_HUGEPAGES=/proc/sys/vm/nr_hugepages
HUGEPAGES_BEFORE=""

restore_hugepages() {
  [ -n "$HUGEPAGES_BEFORE" ] || return 0
  echo "$HUGEPAGES_BEFORE" >"$NR_HUGEPAGES" 2>/dev/null \
    || warn "could not set vm.nr_hugepages back to $HUGEPAGES_BEFORE: set it by hand"
  HUGEPAGES_BEFORE=""
}

# KiB of NAME's shared memory the server holds in huge pages: the mappings of the
# postmaster whose kernel page size is larger than the base page.
huge_kib() {
  local pid
  pid="$(docker exec "$1" head -n 1 "${DATA_DIR[$1]}/postmaster.pid")"
  docker exec "$1" cat "/proc/$pid/smaps" \
    | awk '/^Size:/ { size = $2 } /^KernelPageSize:/ && $2 > 4 { huge += size } END { print huge + 0 }'
}

hugepages_for_tuned() {
  [ -n "$HUGEPAGES" ] || return 0
  [ -z "${GW_BENCH_AA:-}" ] || warn "GW_BENCH_AA with GW_BENCH_HUGEPAGES: the \"tuned\" side is stock with huge pages"
  [ -w "$NR_HUGEPAGES" ] || die "GW_BENCH_HUGEPAGES needs root on the Docker host (it writes $NR_HUGEPAGES)"
  local needed before got major
  needed="$(PSQL_DB=postgres psql_in "$TUNED" "SHOW shared_memory_size_in_huge_pages")"
  [[ "$needed" =~ ^[1-9][0-9]*$ ]] \
    || die "the tuned server cannot say how many huge pages it needs (shared_memory_size_in_huge_pages: '$needed')"
  before="$(cat "$NR_HUGEPAGES")"
  HUGEPAGES_BEFORE="$before"
  log "Reserving $needed huge pages on the host (vm.nr_hugepages $before -> $((before + needed))) and restarting $TUNED"
  echo $((before + needed)) >"$NR_HUGEPAGES"
  got="$(cat "$NR_HUGEPAGES")"
  [ "$got" -ge $((before + needed)) ] \
    || warn "the kernel found only $((got - before)) of $needed huge pages (fragmented memory): the tuned server falls back to normal pages"
  major="$(PSQL_DB=postgres psql_in "$TUNED" "SELECT current_setting('server_version_num')::int / 10000")"
  docker exec "$TUNED" systemctl restart "postgresql@$major-main"
  # In use, the pages stay the server's (the kernel counts them as surplus) until it stops.
  restore_hugepages
}

mib() { awk -v b="$1" 'BEGIN { printf "%.0fMB", b / 1048576 }'; }

# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------
cgroup_dir() {
  local controller="$1" id="$2" dir
  for dir in "/sys/fs/cgroup/$controller/docker/$id" "/sys/fs/cgroup/system.slice/docker-$id.scope" \
    "/sys/fs/cgroup/docker/$id"; do
    [ -d "$dir" ] && { echo "$dir"; return 0; }
  done
  return 1
}

# CPU time (ns) the container used so far (cgroup v1 or v2), or -1.
cpu_ns() {
  local dir
  if dir="$(cgroup_dir cpuacct "$(docker inspect -f '{{.Id}}' "$1")")"; then
    if [ -r "$dir/cpuacct.usage" ]; then cat "$dir/cpuacct.usage"; return; fi
    if [ -r "$dir/cpu.stat" ]; then awk '$1 == "usage_usec" { print 1000 * $2 }' "$dir/cpu.stat"; return; fi
  fi
  echo -1
}

# Bytes the container read from block devices so far (cgroup v1 blkio or v2 io), or -1.
disk_read_bytes() {
  local id dir
  id="$(docker inspect -f '{{.Id}}' "$1")"
  if dir="$(cgroup_dir blkio "$id")" && [ -r "$dir/blkio.throttle.io_service_bytes" ]; then
    awk '$2 == "Read" { s += $3 } END { print s + 0 }' "$dir/blkio.throttle.io_service_bytes"
  elif dir="$(cgroup_dir io "$id")" && [ -r "$dir/io.stat" ]; then
    tr ' ' '\n' <"$dir/io.stat" | awk -F= '$1 == "rbytes" { s += $2 } END { print s + 0 }'
  else
    echo -1
  fi
}

# Memory the container's cgroup holds, in MB: "anonymous page-cache+shmem".
memory_use() {
  local dir
  if dir="$(cgroup_dir memory "$(docker inspect -f '{{.Id}}' "$1")")"; then
    if [ -r "$dir/memory.stat" ]; then
      awk '$1 == "total_rss" || $1 == "anon" { a = $2 } $1 == "total_cache" || $1 == "file" { c = $2 }
        END { printf "%.0f %.0f", a / 1048576, c / 1048576 }' "$dir/memory.stat"
      return
    fi
  fi
  echo "n/a n/a"
}

# CPU time (clock ticks) of NAME's PostgreSQL server so far: the postmaster with the
# children it has reaped (the backends of earlier runs) and its live children; -1 when the
# postmaster cannot be found. The rest of the container's CPU time is pgbench's.
server_ticks() {
  docker exec "$1" sh -c 'head -n 1 "$1/postmaster.pid" && cat /proc/[0-9]*/stat 2>/dev/null; true' sh "${DATA_DIR[$1]}" \
    | awk 'NR == 1 { pm = $1; next }
      { pid = $1; sub(/^.*\) /, "") }
      pid == pm { t += $12 + $13 + $14 + $15 }
      pid != pm && $2 == pm { t += $12 + $13 }
      END { print (pm ? t + 0 : -1) }'
}

# Blocks PostgreSQL read from the kernel (page cache or disk) and found in its shared
# buffers, so far, in the benchmark database.
block_counts() {
  psql_in "$1" "SELECT blks_read || ' ' || blks_hit FROM pg_stat_database WHERE datname = '$DB'"
}

# Between runs: write out what the last run dirtied and clean up after it, so that one
# side's background work (checkpointer, autovacuum) never runs during the other side's
# measurement and every run starts from the same state.
settle() {
  local name="$1" mode="$2"
  if [ "$mode" = rw ]; then
    psql_in "$name" "VACUUM pgbench_accounts" >/dev/null
  fi
  psql_in "$name" "CHECKPOINT" >/dev/null
}

# measure NAME MODE: warm-up, then the measured run; records transactions/s, the mean
# latency, the CPU time of the container per transaction (server and pgbench together)
# and how often a transaction had to read a block from the kernel.
measure() {
  local name="$1" mode="$2" side key
  side="${name#gw-bench-pg-}"
  key="$side-$mode"
  local args=(pgbench -c "$CLIENTS" -j "$THREADS" -M "$PROTOCOL")
  [ "$mode" = ro ] && args+=(-S)
  docker exec -u postgres "$name" "${args[@]}" -T "$WARMUP" "$DB" >"$WORK/warmup.out" 2>&1 || {
    cat "$WORK/warmup.out" >&2
    die "pgbench (warm-up) failed in $name: ${args[*]}"
  }
  local b0 c0 d0 t0 s0 b1 c1 d1 t1 s1 out
  b0="$(block_counts "$name")"
  s0="$(server_ticks "$name")"
  c0="$(cpu_ns "$name")"
  d0="$(disk_read_bytes "$name")"
  LOAD[$key]+="$(cut -d' ' -f1 /proc/loadavg) "
  t0="$(date +%s%N)"
  out="$(docker exec -u postgres "$name" "${args[@]}" -T "$SECONDS_RUN" "$DB" 2>&1)" || {
    printf '%s\n' "$out" >&2
    die "pgbench failed in $name: ${args[*]} -T $SECONDS_RUN $DB"
  }
  t1="$(date +%s%N)"
  c1="$(cpu_ns "$name")"
  s1="$(server_ticks "$name")"
  d1="$(disk_read_bytes "$name")"
  b1="$(block_counts "$name")"
  printf '%s\n' "$out" >"$WORK/$key-$ROUND.out"
  local tps lat txs failed
  tps="$(awk '/^tps = .*without initial connection time/ { printf "%.0f", $3 }' <<<"$out")"
  lat="$(awk '/^latency average = / { print $4 }' <<<"$out")"
  txs="$(awk '/^number of transactions actually processed:/ { print $6 }' <<<"$out")"
  failed="$(awk '/^number of failed transactions:/ { print $5 }' <<<"$out")"
  if [ -z "$tps" ] || [ -z "$txs" ] || [ "$txs" -eq 0 ]; then
    die "no result in the output of pgbench in $name: $out"
  fi
  [ "${failed:-0}" = 0 ] || die "pgbench in $name reports $failed failed transactions: $out"
  local reads hits
  read -r reads hits <<<"$(awk -v a="$b0" -v b="$b1" 'BEGIN { split(a, x, " "); split(b, y, " "); print y[1] - x[1], y[2] - x[2] }')"
  TPS[$key]+="$tps "
  LAT[$key]+="$lat "
  READS[$key]+="$(awk -v r="$reads" -v n="$txs" 'BEGIN { printf "%.2f", r / n }') "
  HITS[$key]+="$(awk -v r="$reads" -v h="$hits" 'BEGIN { printf "%.2f", (r + h) ? 100 * h / (r + h) : 0 }') "
  if [ "$d0" -ge 0 ] && [ "$d1" -ge 0 ]; then
    DISK[$key]+="$(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.1f", (b - a) / 1048576 }') "
  else
    DISK[$key]+="n/a "
  fi
  if [ "$c0" -ge 0 ] && [ "$c1" -ge 0 ]; then
    CPU[$key]+="$(awk -v a="$c0" -v b="$c1" -v n="$txs" 'BEGIN { printf "%.0f", (b - a) / 1000 / n }') "
    CORES[$key]+="$(awk -v a="$c0" -v b="$c1" -v w=$((t1 - t0)) 'BEGIN { printf "%.2f", (b - a) / w }') "
  else
    CPU[$key]+="n/a "
    CORES[$key]+="n/a "
  fi
  if [ "$s0" -ge 0 ] && [ "$s1" -ge 0 ]; then
    SCPU[$key]+="$(awk -v a="$s0" -v b="$s1" -v hz="$CLK_TCK" -v n="$txs" 'BEGIN { printf "%.1f", (b - a) * 1000000 / hz / n }') "
  else
    SCPU[$key]+="n/a "
  fi
  settle "$name" "$mode"
}

median() {
  tr ' ' '\n' <<<"$1" | sort -g | awk 'NF { v[++n] = $1 } END { print (n ? v[int((n + 1) / 2)] : "n/a") }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "PASS" : "MISS") }'; }

report() {
  local key keys=()
  local -A tps lat cpu scpu cores reads hits disk load
  for key in tuned-ro stock-ro tuned-rw stock-rw; do
    [[ " $MODES " == *" ${key#*-} "* ]] && keys+=("$key")
    disk[$key]="$(median "${DISK[$key]:-}")"
    tps[$key]="$(median "${TPS[$key]:-}")"
    lat[$key]="$(median "${LAT[$key]:-}")"
    cpu[$key]="$(median "${CPU[$key]:-}")"
    scpu[$key]="$(median "${SCPU[$key]:-}")"
    cores[$key]="$(median "${CORES[$key]:-}")"
    reads[$key]="$(median "${READS[$key]:-}")"
    hits[$key]="$(median "${HITS[$key]:-}")"
    load[$key]="$(median "${LOAD[$key]:-}")"
  done
  local version
  version="$(psql_in "$TUNED" "SHOW server_version" | cut -d' ' -f1)"

  printf '\n'
  printf 'groundwork.server postgresql benchmark, %s, Debian %s containers, PostgreSQL %s\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$RELEASE" "$version"
  printf 'host: %s CPUs, %s; each container: memory %s (no swap), CPUs %s\n' \
    "$(nproc)" "$(awk '/^MemTotal:/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)" "$MEMORY" "$CPUS"
  printf 'load average (1, 5, 15 min): %s at the first run, %s at the end\n' "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'data set: pgbench scale %s, database %s; shared_buffers tuned %s, stock %s\n' \
    "$SCALE" "$(mib "$DB_BYTES")" "$(mib "$TUNED_BUFFERS")" "$(mib "$STOCK_BUFFERS")"
  printf 'shared memory in huge pages: tuned %s, stock %s%s\n' "$(mib $((HUGE_KIB[$TUNED] * 1024)))" \
    "$(mib $((HUGE_KIB[$STOCK] * 1024)))" "${HUGEPAGES:+ (GW_BENCH_HUGEPAGES: reserved on the host for tuned)}"
  printf 'runs: pgbench -c %s -j %s -M %s -T %s (after -T %s warm-up), Unix socket, inside each container;\n' \
    "$CLIENTS" "$THREADS" "$PROTOCOL" "$SECONDS_RUN" "$WARMUP"
  printf '      sides alternate, never at the same time; median of %s round(s)\n' "$ROUNDS"
  [ -z "$SETTINGS" ] || printf 'overrides given to the role: %s\n' "$SETTINGS"
  [ -z "${GW_BENCH_AA:-}" ] || printf 'A/A RUN: the "tuned" side runs the stock configuration as well\n'

  printf '\nsettings the role wrote (conf.d), tuned | stock:\n'
  awk -F'\t' '{ printf "  %-32s %12s | %s\n", $1, $2, $3 }' "$WORK/settings"

  printf '\n'
  local row='| %-32s | %6s | %7s | %9s | %9s | %5s | %8s | %6s | %7s | %5s |\n'
  # shellcheck disable=SC2059  # the format is ours
  {
    # The header by hand: printf pads bytes, and µ takes two.
    printf '| %-32s | %6s | %7s | %s | %s | %5s | %8s | %6s | %7s | %5s |\n' run TPS "latency" "CPU µs/tx" \
      "srv µs/tx" cores "reads/tx" "hit %" "disk MB" load
    printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..34})" "$(printf -- '-%.0s' {1..7})-:" \
      "$(printf -- '-%.0s' {1..8})-:" "$(printf -- '-%.0s' {1..10})-:" "$(printf -- '-%.0s' {1..10})-:" \
      "$(printf -- '-%.0s' {1..6})-:" "$(printf -- '-%.0s' {1..9})-:" "$(printf -- '-%.0s' {1..7})-:" \
      "$(printf -- '-%.0s' {1..8})-:" "$(printf -- '-%.0s' {1..6})-:"
    for key in "${keys[@]}"; do
      local what
      case "$key" in
        *-ro) what="read-only (-S)" ;;
        *-rw) what="read-write (TPC-B-like)" ;;
      esac
      printf "$row" "${key%-*}: $what" "${tps[$key]}" "${lat[$key]}" "${cpu[$key]}" "${scpu[$key]}" "${cores[$key]}" \
        "${reads[$key]}" "${hits[$key]}" "${disk[$key]}" "${load[$key]}"
    done
  }
  printf '\nlatency: mean, ms; CPU µs/tx and cores: the whole container (server and pgbench);\n'
  printf 'srv µs/tx: the PostgreSQL server alone (postmaster and its processes), the rest is pgbench;\n'
  printf 'reads/tx: blocks PostgreSQL did not find in its shared buffers and read from the kernel\n'
  printf '(page cache or disk), per transaction; hit %%: blocks found in shared buffers;\n'
  printf 'disk MB: read from block devices by the container during the run (cgroup blkio/io);\n'
  printf 'load: the host'"'"'s 1-minute load average when the measured runs started.\n\n'
  local r
  if [[ " $MODES " == *" ro "* ]]; then
    r="$(ratio "${tps[tuned-ro]}" "${tps[stock-ro]}")"
    printf 'tuned / stock  TPS read-only (-S)          = %5sx   target >= %sx   %s\n' "$r" "$TARGET_RO" "$(verdict "$r" "$TARGET_RO")"
  fi
  [[ " $MODES " != *" rw "* ]] \
    || printf 'tuned / stock  TPS read-write (TPC-B-like) = %5sx   (no target)\n' "$(ratio "${tps[tuned-rw]}" "${tps[stock-rw]}")"
  local mode
  for mode in ro rw; do
    [[ " $MODES " == *" $mode "* ]] || continue
    [ "${cpu[tuned-$mode]}" != n/a ] && [ "${cpu[stock-$mode]}" != n/a ] \
      && printf 'stock / tuned  CPU per transaction, %s     = %5sx whole container\n' "$mode" \
        "$(ratio "${cpu[stock-$mode]}" "${cpu[tuned-$mode]}")"
    [ "${scpu[tuned-$mode]}" != n/a ] && [ "${scpu[stock-$mode]}" != n/a ] \
      && printf 'stock / tuned  CPU per transaction, %s     = %5sx server alone\n' "$mode" \
        "$(ratio "${scpu[stock-$mode]}" "${scpu[tuned-$mode]}")"
  done
  printf '\nmemory held by each container at the end (MB, anonymous + page cache and shared memory):\n'
  local name
  for name in "${SIDES[@]}"; do
    printf '  %-18s %s\n' "$name" "$(memory_use "$name" | awk '{ print $1 " + " $2 }')"
  done
  if [ "$ROUNDS" -gt 1 ]; then
    printf '\nevery round (TPS; load average at the start of each run):\n'
    for key in "${keys[@]}"; do
      printf '  %-9s %s (load %s)\n' "$key" "${TPS[$key]% }" "${LOAD[$key]% }"
    done
    for mode in ro rw; do
      [[ " $MODES " == *" $mode "* ]] || continue
      printf '  tuned/stock %s by round: %s\n' "$mode" "$(awk -v a="${TPS[tuned-$mode]}" -v b="${TPS[stock-$mode]}" \
        'BEGIN { n = split(a, x, " "); split(b, y, " "); for (i = 1; i <= n; i++) printf "%.2f ", x[i] / y[i] }')"
    done
  fi
}

main() {
  ensure_container_workspace "$RELEASE"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  start_containers
  install_postgresql
  configure_tuned
  hugepages_for_tuned
  compare_settings
  initialise

  declare -gA TPS LAT CPU SCPU CORES READS HITS DISK LOAD
  LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
  local mode round order name
  # All read-only rounds first: the read-write runs change the tables.
  for mode in ro rw; do
    [[ " $MODES " == *" $mode "* ]] || continue
    for round in $(seq "$ROUNDS"); do
      ROUND="$round"
      # Alternate which side goes first, so that neither always runs right after the other.
      if [ $((round % 2)) -eq 1 ]; then order=("$TUNED" "$STOCK"); else order=("$STOCK" "$TUNED"); fi
      log "Round $round/$ROUNDS, $([ "$mode" = ro ] && echo 'read-only (-S)' || echo 'read-write (TPC-B-like)'): ${order[0]#gw-bench-pg-} then ${order[1]#gw-bench-pg-}, ${SECONDS_RUN}s each"
      for name in "${order[@]}"; do
        measure "$name" "$mode"
      done
    done
  done
  report
}

main "$@"
