# shellcheck shell=bash
# Helpers for scripts that work in containers of their own (the benchmarks). Sourced after
# scripts/lib/common.sh, never executed.

# install_packages NAME:"PKG PKG..." ...: apt-get in several containers at once, each
# writing its log to $WORK/apt-NAME.log (WORK is the caller's scratch directory); the
# log of a container that failed is shown.
install_packages() {
  local pids=() names=() spec name pkgs i
  for spec in "$@"; do
    name="${spec%%:*}"
    pkgs="${spec#*:}"
    names+=("$name")
    # shellcheck disable=SC2086  # a space-separated package list on purpose
    docker exec -e DEBIAN_FRONTEND=noninteractive "$name" sh -c \
      "apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs" \
      >"$WORK/apt-$name.log" 2>&1 &
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || {
      tail -n 20 "$WORK/apt-${names[$i]}.log" >&2
      die "installing packages in ${names[$i]} failed"
    }
  done
}

# --- The benchmarks' containers and load (bench/nginx.sh, bench/apache.sh) -------------
# The caller defines NETWORK, LABEL, RELEASE, SERVERS (server containers), CLIENT,
# CONTAINERS (all of them), WORK (scratch directory) and the associative arrays RATE,
# SCORES, CCORES and PEROP that record() fills; cpusets() sets CLIENT_CPUS and SERVER_CPUS,
# run_load() SERVER_CORES and CLIENT_CORES.

# ---------------------------------------------------------------------------------------
# Containers: only the ones named here, created by this script, removed on exit
# ---------------------------------------------------------------------------------------
remove_all() {
  local name
  for name in "${CONTAINERS[@]}"; do
    docker rm -f "$name" >/dev/null 2>&1 || true
  done
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
}

# On a benchmark's exit: its containers and network are removed, unless GW_BENCH_KEEP is set
# (then it says how to remove them).
remove_all_unless_kept() {
  if [ -n "${GW_BENCH_KEEP:-}" ]; then
    warn "GW_BENCH_KEEP is set: containers ${CONTAINERS[*]} are left running; remove them with: docker rm -f ${CONTAINERS[*]} && docker network rm $NETWORK"
  else
    remove_all
  fi
}

cpusets() {
  local cpus
  cpus="$(nproc)"
  CLIENT_CPUS="${GW_BENCH_CLIENT_CPUS:-0}"
  SERVER_CPUS="${GW_BENCH_SERVER_CPUS:-1}"
  if [ "$cpus" -lt 2 ] && [ -z "${GW_BENCH_CLIENT_CPUS:-}${GW_BENCH_SERVER_CPUS:-}" ]; then
    warn "only $cpus CPU: client and servers share it, the figures are less meaningful"
    CLIENT_CPUS=0
    SERVER_CPUS=0
  fi
}

start_container() {
  local name="$1" cpus="$2"
  docker run -d --name "$name" --hostname "$name" --network "$NETWORK" --label "$LABEL" \
    --cpuset-cpus "$cpus" \
    --cap-add SYS_ADMIN --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    --stop-signal SIGRTMIN+3 \
    "$GW_IMAGE_REPO:$RELEASE" /lib/systemd/systemd >/dev/null
}

start_containers() {
  local name state
  # A run that was killed with SIGKILL leaves its containers behind: they carry our
  # names, so they are ours to remove.
  remove_all
  docker network create --label "$LABEL" "$NETWORK" >/dev/null
  log "Starting ${CONTAINERS[*]} (Debian $RELEASE; client on CPU $CLIENT_CPUS, servers on CPU $SERVER_CPUS)"
  # shellcheck disable=SC2153  # SERVERS is the caller's
  for name in "${SERVERS[@]}"; do
    start_container "$name" "$SERVER_CPUS"
  done
  start_container "$CLIENT" "$CLIENT_CPUS"
  for name in "${CONTAINERS[@]}"; do
    state="$(docker exec "$name" timeout 60 systemctl is-system-running --wait 2>/dev/null || true)"
    case "$state" in
      running | degraded) ;;
      *) die "systemd in $name did not come up (state: '$state')" ;;
    esac
  done
}

address_of() {
  docker inspect -f "{{ (index .NetworkSettings.Networks \"$NETWORK\").IPAddress }}" "$1"
}

# Write a file into a container from stdin.
put_file() {
  docker exec -i "$1" sh -c "cat >'$2'"
}

# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------
# CPU time (ns) used so far by the named containers, from their cgroups (v1 or v2);
# -1 when the engine keeps them elsewhere.
cpu_ns() {
  local total=0 name id file
  for name in "$@"; do
    id="$(docker inspect -f '{{.Id}}' "$name")"
    for file in "/sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage" \
      "/sys/fs/cgroup/system.slice/docker-$id.scope/cpu.stat"; do
      [ -r "$file" ] || continue
      case "$file" in
        *.usage) total=$((total + $(cat "$file"))) ;;
        *) total=$((total + 1000 * $(awk '$1 == "usage_usec" { print $2 }' "$file"))) ;;
      esac
      continue 2
    done
    echo -1
    return
  done
  echo "$total"
}

# cores BEFORE_NS AFTER_NS WALL_NS -> CPU cores busy on average, or "n/a"
cores() {
  if [ "$1" -lt 0 ] || [ "$2" -lt 0 ]; then echo n/a; else
    awk -v a="$1" -v b="$2" -v w="$3" 'BEGIN { printf "%.2f", (b - a) / w }'
  fi
}

# run_load NAME "SERVER..." ARGV...: run ARGV in the client container, keep its output
# in $WORK/NAME.out and record the cores the servers and the client kept busy meanwhile.
run_load() {
  local name="$1" servers="$2"
  shift 2
  local s0 c0 t0 s1 c1 t1
  # shellcheck disable=SC2086  # a list of container names
  s0="$(cpu_ns $servers)"
  c0="$(cpu_ns "$CLIENT")"
  t0="$(date +%s%N)"
  docker exec "$CLIENT" "$@" >"$WORK/$name.out" 2>&1 || {
    cat "$WORK/$name.out" >&2
    die "the load generator failed: $*"
  }
  t1="$(date +%s%N)"
  # shellcheck disable=SC2086
  s1="$(cpu_ns $servers)"
  c1="$(cpu_ns "$CLIENT")"
  SERVER_CORES="$(cores "$s0" "$s1" $((t1 - t0)))"
  CLIENT_CORES="$(cores "$c0" "$c1" $((t1 - t0)))"
}

# record NAME RATE: one round's figures, with the server CPU time per operation (µs).
# shellcheck disable=SC2004  # the caller's associative arrays: the key needs its $
record() {
  local name="$1" rate="$2" per_op=n/a
  [ "$SERVER_CORES" = n/a ] || per_op="$(awk -v c="$SERVER_CORES" -v r="$rate" 'BEGIN { printf "%.0f", c * 1e6 / r }')"
  RATE[$name]+="$rate "
  SCORES[$name]+="$SERVER_CORES "
  CCORES[$name]+="$CLIENT_CORES "
  PEROP[$name]+="$per_op "
}

median() {
  tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "n/a") }'
}

# --- Added for bench/mariadb.sh; generic ------------------------------------------------
# limit_memory NAME SIZE: limit a running container to SIZE of memory (docker's units:
# 2g, 1536m) without swap; the page cache counts against it (cgroup v1 and v2).
limit_memory() {
  docker update --memory "$2" --memory-swap "$2" "$1" >/dev/null
}

# wait_for_systemd NAME...: wait until systemd in each container is up (running or
# degraded), at most GW_SYSTEMD_WAIT seconds (default 90) in all. Right after docker run,
# and on a busy machine for longer, systemctl cannot reach systemd yet: it asks again.
wait_for_systemd() {
  local name state deadline=$((SECONDS + ${GW_SYSTEMD_WAIT:-90}))
  for name in "$@"; do
    while :; do
      state="$(docker exec "$name" timeout 10 systemctl is-system-running --wait 2>/dev/null || true)"
      case "$state" in
        running | degraded) break ;;
      esac
      [ "$SECONDS" -lt "$deadline" ] || die "systemd in $name did not come up within ${GW_SYSTEMD_WAIT:-90} s (state: '$state')"
      sleep 1
    done
  done
}

# The directory of a container's cgroup for CONTROLLER (v1: memory, blkio; v2: ignored),
# or failure when the engine keeps it elsewhere.
container_cgroup() {
  local controller="$1" id dir
  id="$(docker inspect -f '{{.Id}}' "$2")"
  for dir in "/sys/fs/cgroup/$controller/docker/$id" "/sys/fs/cgroup/system.slice/docker-$id.scope" \
    "/sys/fs/cgroup/docker/$id"; do
    [ -d "$dir" ] && { echo "$dir"; return 0; }
  done
  return 1
}

# Bytes the processes of container NAME read from storage so far: read_bytes of /proc/PID/io
# (direct I/O and page-cache misses; not what the page cache answered), summed over the
# processes alive now, read from this machine's /proc (root); -1 when they cannot be read.
# It counts where the engine's blkio statistics stay empty, as they do on the project's VM.
container_read_bytes() {
  local dir pid bytes total=0
  dir="$(container_cgroup memory "$1")" || { echo -1; return; }
  while read -r pid; do
    [ -e "/proc/$pid/io" ] || continue   # ended meanwhile
    bytes="$(awk '$1 == "read_bytes:" { print $2 }' "/proc/$pid/io" 2>/dev/null)" || true
    [ -n "$bytes" ] || { echo -1; return; }
    total=$((total + bytes))
  done < <(find "$dir" -name cgroup.procs -exec cat {} +)
  echo "$total"
}

# Memory the container NAME's cgroup holds, in MiB: "ANONYMOUS PAGE-CACHE" (page cache
# including shared memory), or "n/a n/a".
memory_use() {
  local dir
  if dir="$(container_cgroup memory "$1")" && [ -r "$dir/memory.stat" ]; then
    awk '$1 == "total_rss" || $1 == "anon" { a = $2 } $1 == "total_cache" || $1 == "file" { c = $2 }
      END { printf "%.0f %.0f", a / 1048576, c / 1048576 }' "$dir/memory.stat"
  else
    echo "n/a n/a"
  fi
}

# ratio A B -> A/B with two decimals; verdict RATIO TARGET -> PASS or MISS.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "PASS" : "MISS") }'; }

# round_ratios "A1 A2 ..." "B1 B2 ...": A1/B1 A2/B2 ... (one ratio per round).
round_ratios() {
  paste -d' ' <(tr ' ' '\n' <<<"$1" | grep -v '^$') <(tr ' ' '\n' <<<"$2" | grep -v '^$') \
    | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 / $2 }'
}
