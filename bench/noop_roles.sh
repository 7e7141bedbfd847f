#!/usr/bin/env bash
# Benchmark: the no-op re-run of the roles every host gets first in playbooks/site.yml
# (base, firewall, tls) on four containers like the demo's, and how many tasks each host
# executes and skips. Optionally the same plays with another version of the collection
# (a git revision), run interleaved with the working tree's on the same containers, so
# that both see the same load on a busy machine.
#
# Creates the containers gw-speed-{lb,app1,app2,db} on the network gw-speed, converges
# once, times the no-op runs, prints the median seconds and the tasks per host, and
# removes the containers at the end. Exits non-zero on errors and when a no-op run
# changes anything (then it was not a no-op).
#
# Settings (environment):
#   GW_SPEED_RUNS=5        no-op runs per version
#   GW_SPEED_COMPARE=REV   also run the roles of git revision REV (e.g. 95b6db0); REV
#                          converges first, then the working tree
#   GW_SPEED_TREE=0        leave out the working tree (only with GW_SPEED_COMPARE)
#   GW_SPEED_RELEASE=12    Debian release of the containers
#   GW_SPEED_KEEP=1        keep the containers and the work directory
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"

RUNS="${GW_SPEED_RUNS:-5}"
COMPARE="${GW_SPEED_COMPARE:-}"
RELEASE="${GW_SPEED_RELEASE:-12}"
NETWORK=gw-speed
HOSTS=(gw-speed-lb gw-speed-app1 gw-speed-app2 gw-speed-db)
BENCH="$GW_ROOT/bench/noop_roles"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "GW_SPEED_RUNS must be a positive integer (got '$RUNS')"
WORK="$(mktemp -d /tmp/gw-speed.XXXXXX)"
export GW_SPEED_DIR="$WORK"

cleanup() {
  [ "${GW_SPEED_KEEP:-0}" = 1 ] && { log "Kept the containers and $WORK"; return; }
  local host
  for host in "${HOSTS[@]}"; do docker rm -f "$host" >/dev/null 2>&1 || true; done
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

median() { sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

start_containers() {
  local host
  for host in "${HOSTS[@]}"; do docker rm -f "$host" >/dev/null 2>&1 || true; done
  docker network inspect "$NETWORK" >/dev/null 2>&1 || docker network create "$NETWORK" >/dev/null
  for host in "${HOSTS[@]}"; do
    # systemd as PID 1 with the settings that work on this engine (as scripts/demo.sh)
    docker run -d --name "$host" --hostname "$host" --network "$NETWORK" \
      --cap-add SYS_ADMIN --cap-add NET_ADMIN --cgroupns host \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      --stop-signal SIGRTMIN+3 \
      "groundwork/debian:$RELEASE" /lib/systemd/systemd >/dev/null
  done
  docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$NETWORK" | awk '{print $1}' >"$WORK/network"
  ssh-keygen -q -t ed25519 -N '' -C gw-speed -f "$WORK/id_ed25519"
  local state tries
  for host in "${HOSTS[@]}"; do
    # Right after `docker run` systemd may not answer yet ("offline"): ask a few times.
    for ((tries = 1; tries <= 10; tries++)); do
      state="$(docker exec "$host" timeout 60 systemctl is-system-running --wait 2>/dev/null || true)"
      case "$state" in running | degraded) break ;; esac
      sleep 2
    done
    case "$state" in
      running | degraded) ;;
      *) die "systemd in $host did not come up (state: '$state')" ;;
    esac
  done
}

# The collection of git revision $1 as an ANSIBLE_COLLECTIONS_PATH of its own.
extract_revision() {
  local dest="$WORK/rev/ansible_collections/groundwork/server"
  mkdir -p "$dest"
  git -C "$GW_ROOT" archive "$1" galaxy.yml meta plugins roles | tar -x -C "$dest"
  printf '%s\n' "$WORK/rev"
}

# One run of the plays with version $1 (path of a collections directory); prints seconds.
run_plays() {
  local version="$1" log="$2" start end
  start="$(date +%s.%N)"
  if ! (cd "$GW_ROOT" && ANSIBLE_COLLECTIONS_PATH="$version" \
    ansible-playbook -i "$BENCH/hosts.yml" "$BENCH/play.yml") >"$log" 2>&1; then
    tail -40 "$log" >&2
    die "the plays failed; full output in $log"
  fi
  end="$(date +%s.%N)"
  awk -v s="$start" -v e="$end" 'BEGIN {printf "%.2f\n", e - s}'
}

tasks_per_host() {
  sed -n '/PLAY RECAP/,$p' "$1" | awk '/ok=/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "  %-15s executed %3d   skipped %3d   changed %3d\n", $1, v["ok"], v["skipped"], v["changed"] }'
}

main() {
  ensure_venv
  activate_venv
  ensure_docker
  local -a names=() paths=()
  if [ -n "$COMPARE" ]; then
    names+=("$COMPARE")
    paths+=("$(extract_revision "$COMPARE")")
  fi
  if [ "${GW_SPEED_TREE:-1}" != 0 ]; then
    names+=(working-tree)
    paths+=("$GW_ROOT/.collections")
  fi
  [ "${#names[@]}" -gt 0 ] || die "nothing to run: GW_SPEED_TREE=0 needs GW_SPEED_COMPARE"
  log "Creating ${HOSTS[*]} (Debian $RELEASE)"
  start_containers
  local v i seconds
  # Each version converges in turn (the revision first): after the first, a converge shows
  # what the next version would change on a host the first one set up.
  for v in "${!names[@]}"; do
    log "Converging with ${names[v]}"
    seconds="$(run_plays "${paths[v]}" "$WORK/converge$v.log")"
    printf 'converge with %-14s %6.2f s\n' "${names[v]}" "$seconds"
    tasks_per_host "$WORK/converge$v.log"
    : >"$WORK/times$v"
  done
  for ((i = 1; i <= RUNS; i++)); do
    for v in "${!names[@]}"; do
      seconds="$(run_plays "${paths[v]}" "$WORK/noop$v.$i.log")"
      if grep -Eq 'changed=[1-9]' "$WORK/noop$v.$i.log"; then
        tasks_per_host "$WORK/noop$v.$i.log" >&2
        grep -B3 -A12 '^changed:' "$WORK/noop$v.$i.log" | head -60 >&2
        die "no-op run $i with ${names[v]} changed something"
      fi
      printf 'no-op run %d with %-14s %6.2f s\n' "$i" "${names[v]}" "$seconds"
      echo "$seconds" >>"$WORK/times$v"
    done
  done
  for v in "${!names[@]}"; do
    printf '\n%s: median no-op run %s s (%d runs); tasks per host (executed = ok, which counts the changed ones too):\n' \
      "${names[v]}" "$(median <"$WORK/times$v")" "$RUNS"
    tasks_per_host "$WORK/noop$v.$RUNS.log"
  done
  printf '\nmachine: %s CPUs, load average at the end: %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

main "$@"
