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
