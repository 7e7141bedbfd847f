#!/usr/bin/env bash
# Benchmark: how long playbooks/site.yml takes on the four demo containers, cold (fresh
# containers) and as a no-op re-run (nothing to change), each against a floor timed side by
# side in the same run:
#   - the no-op re-run against a yardstick (bench/site/reference.yml: trivial tasks and one
#     command per host on the same containers), timed just before it: target <= 1.5x;
#   - the cold converge against the package floor: the same fresh containers installing the
#     same Debian packages (those the stack installed on each host, read from a converged
#     run) with one apt-get update and one apt transaction each, the containers in parallel
#     as Ansible's forks run them: target <= 1.3x.
# It prints every run, the medians, the targets, and where the cold converge's time goes
# (each role, the package installation, the slowest tasks).
# Exits 0 whether or not the targets are met (it is a measurement), non-zero on errors,
# and when a no-op run changes anything (then it was not a no-op).
#
# It uses the demo (scripts/demo.sh, with its shared package cache): an existing demo is
# removed first, and the last cold run is left standing as a converged demo (scripts/demo.sh
# down removes it). A first cold converge (the warm-up, not counted) fills the package cache
# and tells which packages each host gets; then each round times the floor and a cold
# converge, each on fresh containers, with the same cache.
#
# Settings (environment):
#   GW_BENCH_COLD=3     rounds of floor + cold converge (each on fresh containers); medians reported
#   GW_BENCH_NOOP=5     no-op re-runs after the last cold converge
#   GW_DEMO_RELEASE=12  Debian release of the containers
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"

COLD="${GW_BENCH_COLD:-3}"
NOOP="${GW_BENCH_NOOP:-5}"
TARGET_NOOP=10
# The no-op re-run against the yardstick timed next to it (docs/BENCHMARKS.md).
TARGET_RATIO=1.5
# The cold converge against the package floor timed in the same run.
TARGET_COLD_RATIO=1.3
HOSTS=(groundwork-lb groundwork-app1 groundwork-app2 groundwork-db)
for setting in COLD NOOP; do
  [[ "${!setting}" =~ ^[1-9][0-9]*$ ]] || die "GW_BENCH_$setting must be a positive integer (got '${!setting}')"
done
WORK="$(mktemp -d /tmp/gwbench-site.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

median() { sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }
seconds_since() { awk -v s="$1" -v e="$(now_s)" 'BEGIN {printf "%.2f\n", e - s}'; }

# Seconds of one run of a playbook (default site.yml); its output in $WORK/<name>.log.
timed_site() {
  local name="$1" playbook="${2:-playbooks/site.yml}" start
  start="$(now_s)"
  if ! (cd "$GW_ROOT" && ansible-playbook -i inventories/demo "$playbook") >"$WORK/$name.log" 2>&1; then
    tail -40 "$WORK/$name.log" >&2
    die "$playbook failed in run $name"
  fi
  seconds_since "$start"
}

fresh_containers() {
  "$GW_ROOT/scripts/demo.sh" down >/dev/null 2>&1
  "$GW_ROOT/scripts/demo.sh" containers >"$WORK/containers.log" 2>&1 \
    || { cat "$WORK/containers.log" >&2; die "could not create the demo containers"; }
}

# The packages the stack installed on each host: what apt marks as installed by hand on the
# converged host and not on a fresh one (the image's). One file per host in $WORK/packages/.
read_packages() {
  local host image
  image="$(docker inspect -f '{{.Config.Image}}' "${HOSTS[0]}")"
  docker run --rm "$image" apt-mark showmanual | sort >"$WORK/image-packages"
  mkdir -p "$WORK/packages"
  for host in "${HOSTS[@]}"; do
    docker exec "$host" apt-mark showmanual | sort | comm -23 - "$WORK/image-packages" >"$WORK/packages/$host"
    [ -s "$WORK/packages/$host" ] || die "found no package the stack installed on $host"
  done
}

# The floor: on fresh containers, each host's packages with one apt-get update and one
# transaction, all hosts at once. Seconds until the last host is done.
floor_run() {
  local name="$1" start host pids=()
  start="$(now_s)"
  for host in "${HOSTS[@]}"; do
    # shellcheck disable=SC2046 # one word per package
    docker exec -e DEBIAN_FRONTEND=noninteractive "$host" sh -c \
      'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null' sh \
      $(cat "$WORK/packages/$host") >"$WORK/$name-$host.log" 2>&1 &
    pids+=("$!")
  done
  local pid failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" -eq 0 ] || { tail -20 "$WORK/$name"-*.log >&2; die "the floor's installation failed in $name"; }
  seconds_since "$start"
}

# Where the cold converge's time went: the roles and the package step (profile_roles), the
# slowest tasks (profile_tasks), and the floor it compares with.
breakdown() {
  local log="$1" floor="$2" cold="$3"
  printf '\nWhere the last cold converge went (%s s; the floor next to it: %s s):\n' "$cold" "$floor"
  sed -n '/^ROLES RECAP/,/^total/p' "$log" | grep -E ' -+ +[0-9.]+s$' \
    | sed -E 's/^(.*[^ -]) -+ +([0-9.]+s)$/  \2\t\1/' | sort -t$'\t' -k1,1 -rn | head -12 \
    | awk -F'\t' '{printf "  %-10s %s\n", $1, $2}'
  # a measure that does not spread with the machine's load (bench/site/task_results.py)
  printf 'Its task results on hosts (ok or changed; nearly all module runs): %s\n' \
    "$(python3 "$GW_ROOT/bench/site/task_results.py" "$log" | sed -E 's/.*: ([0-9]+) task results.*/\1/')"
  printf 'Its slowest tasks:\n'
  sed -n '/^TASKS RECAP/,/^ROLES RECAP/p' "$log" | grep -E ' -+ +[0-9.]+s$' | head -12 \
    | sed -E 's/^(.*[^ -]) -+ +([0-9.]+s)$/  \2\t\1/' | awk -F'\t' '{printf "  %-10s %s\n", $1, $2}'
}

main() {
  ensure_venv
  activate_venv
  local i seconds
  : >"$WORK/cold"
  : >"$WORK/floor"
  : >"$WORK/cold_ratio"
  : >"$WORK/noop"
  : >"$WORK/reference"
  : >"$WORK/ratio"
  export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_roles,ansible.posix.profile_tasks
  fresh_containers
  seconds="$(timed_site warmup)"
  printf 'warm-up converge:  %6.2f s (fills the package cache; not counted)\n' "$seconds"
  read_packages
  printf 'packages per host (read from the converged warm-up):\n'
  for host in "${HOSTS[@]}"; do
    printf '  %-18s %3d: %s\n' "$host" "$(wc -l <"$WORK/packages/$host")" "$(tr '\n' ' ' <"$WORK/packages/$host")"
  done
  local floor cold
  for ((i = 1; i <= COLD; i++)); do
    fresh_containers
    floor="$(floor_run "floor$i")"
    printf 'package floor %d:  %6.2f s\n' "$i" "$floor"
    echo "$floor" >>"$WORK/floor"
    fresh_containers
    cold="$(timed_site "cold$i")"
    printf 'cold converge %d:  %6.2f s   ratio to its floor: %.2f\n' "$i" "$cold" \
      "$(awk -v c="$cold" -v f="$floor" 'BEGIN {print c / f}')"
    echo "$cold" >>"$WORK/cold"
    awk -v c="$cold" -v f="$floor" 'BEGIN {print c / f}' >>"$WORK/cold_ratio"
  done
  unset ANSIBLE_CALLBACKS_ENABLED
  for ((i = 1; i <= NOOP; i++)); do
    seconds="$(timed_site "reference$i" bench/site/reference.yml)"
    printf 'yardstick %d:      %6.2f s\n' "$i" "$seconds"
    echo "$seconds" >>"$WORK/reference"
    seconds="$(timed_site "noop$i")"
    grep -Eq 'changed=[1-9]' "$WORK/noop$i.log" && die "no-op run $i changed something: see the recap above"
    printf 'no-op re-run %d:   %6.2f s   ratio to its yardstick: %.2f\n' "$i" "$seconds" \
      "$(awk -v n="$seconds" -v r="$(tail -1 "$WORK/reference")" 'BEGIN {print n / r}')"
    echo "$seconds" >>"$WORK/noop"
    awk -v n="$seconds" -v r="$(tail -1 "$WORK/reference")" 'BEGIN {print n / r}' >>"$WORK/ratio"
  done
  breakdown "$WORK/cold$COLD.log" "$floor" "$cold"
  printf '\nTasks per host in the last no-op run (executed = ok, which counts changed too; skipped never reach the host):\n'
  sed -n '/PLAY RECAP/,$p' "$WORK/noop$NOOP.log" | awk '/ok=/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "  %-18s executed %3d   skipped %3d\n", $1, v["ok"], v["skipped"] }'
  local ratio_median cold_ratio_median
  ratio_median="$(median <"$WORK/ratio")"
  cold_ratio_median="$(median <"$WORK/cold_ratio")"
  verdict() { awk -v m="$1" -v t="$2" 'BEGIN {print (m <= t) ? "PASS" : "MISS"}'; }
  printf '\nmedian package floor: %s s (%d runs)\n' "$(median <"$WORK/floor")" "$COLD"
  printf 'median cold converge: %s s (%d runs)\n' "$(median <"$WORK/cold")" "$COLD"
  printf 'median ratio cold/floor: %.2f (each cold converge against the floor timed just before it)   target <= %s: %s\n' \
    "$cold_ratio_median" "$TARGET_COLD_RATIO" "$(verdict "$cold_ratio_median" "$TARGET_COLD_RATIO")"
  printf 'median no-op re-run:  %s s (%d runs)   target <= %d s: %s\n' "$(median <"$WORK/noop")" "$NOOP" \
    "$TARGET_NOOP" "$(verdict "$(median <"$WORK/noop")" "$TARGET_NOOP")"
  printf 'median yardstick:     %s s (bench/site/reference.yml, run before each no-op run)\n' "$(median <"$WORK/reference")"
  printf 'median ratio no-op/yardstick: %.2f (each no-op run against the yardstick just before it)   target <= %s: %s\n' \
    "$ratio_median" "$TARGET_RATIO" "$(verdict "$ratio_median" "$TARGET_RATIO")"
  printf 'machine: %s CPUs, %s, Debian %s containers, load average at the end: %s\n' \
    "$(nproc)" "$(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo)" \
    "${GW_DEMO_RELEASE:-12}" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

main "$@"
