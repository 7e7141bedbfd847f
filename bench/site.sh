#!/usr/bin/env bash
# Benchmark: how long playbooks/site.yml takes on the four demo containers, cold (fresh
# containers) and as a no-op re-run (nothing to change), and how many tasks each host
# executes in the no-op run. Prints every run, the medians and the target of
# docs/BENCHMARKS.md (no-op re-run <= 10 s on a 2-core machine, and at most 2.5 times the
# yardstick timed side by side).
# Exits 0 whether or not the target is met (it is a measurement), non-zero on errors,
# and when a no-op run changes anything (then it was not a no-op).
#
# Before each no-op run it times a yardstick (bench/site/reference.yml: trivial tasks and one
# command per host on the same containers) and prints its median too: it shows how fast the
# machine runs Ansible at that moment, so figures from other machines or days compare.
#
# It uses the demo (scripts/demo.sh): an existing demo is removed first, and the last
# cold run is left standing as a converged demo (scripts/demo.sh down removes it).
# Cold runs include the package downloads from the Debian mirror.
#
# Settings (environment):
#   GW_BENCH_COLD=5     cold converges (each on fresh containers); the median is reported
#   GW_BENCH_NOOP=5     no-op re-runs after the last cold converge
#   GW_DEMO_RELEASE=12  Debian release of the containers
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"

COLD="${GW_BENCH_COLD:-5}"
NOOP="${GW_BENCH_NOOP:-5}"
TARGET_NOOP=10
# The no-op re-run against the yardstick timed next to it (docs/BENCHMARKS.md): at most 2.5x.
TARGET_RATIO=2.5
for setting in COLD NOOP; do
  [[ "${!setting}" =~ ^[1-9][0-9]*$ ]] || die "GW_BENCH_$setting must be a positive integer (got '${!setting}')"
done
WORK="$(mktemp -d /tmp/gwbench-site.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

median() { sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

# Seconds of one run of a playbook (default site.yml); its output in $WORK/<name>.log.
timed_site() {
  local name="$1" playbook="${2:-playbooks/site.yml}" start end
  start="$(date +%s.%N)"
  if ! (cd "$GW_ROOT" && ansible-playbook -i inventories/demo "$playbook") >"$WORK/$name.log" 2>&1; then
    tail -40 "$WORK/$name.log" >&2
    die "$playbook failed in run $name"
  fi
  end="$(date +%s.%N)"
  awk -v s="$start" -v e="$end" 'BEGIN {printf "%.2f\n", e - s}'
}

main() {
  ensure_venv
  activate_venv
  local i seconds
  : >"$WORK/cold"
  : >"$WORK/noop"
  : >"$WORK/reference"
  : >"$WORK/ratio"
  for ((i = 1; i <= COLD; i++)); do
    "$GW_ROOT/scripts/demo.sh" down >/dev/null 2>&1
    "$GW_ROOT/scripts/demo.sh" containers >/dev/null 2>&1 || die "could not create the demo containers"
    seconds="$(timed_site "cold$i")"
    printf 'cold converge %d: %6.2f s\n' "$i" "$seconds"
    echo "$seconds" >>"$WORK/cold"
  done
  for ((i = 1; i <= NOOP; i++)); do
    seconds="$(timed_site "reference$i" bench/site/reference.yml)"
    printf 'yardstick %d:     %6.2f s\n' "$i" "$seconds"
    echo "$seconds" >>"$WORK/reference"
    seconds="$(timed_site "noop$i")"
    grep -Eq 'changed=[1-9]' "$WORK/noop$i.log" && die "no-op run $i changed something: see the recap above"
    printf 'no-op re-run %d: %6.2f s   ratio to its yardstick: %.2f\n' "$i" "$seconds" \
      "$(awk -v n="$seconds" -v r="$(tail -1 "$WORK/reference")" 'BEGIN {print n / r}')"
    echo "$seconds" >>"$WORK/noop"
    awk -v n="$seconds" -v r="$(tail -1 "$WORK/reference")" 'BEGIN {print n / r}' >>"$WORK/ratio"
  done
  printf '\nTasks per host in the last no-op run (executed = ok, which counts changed too; skipped never reach the host):\n'
  sed -n '/PLAY RECAP/,$p' "$WORK/noop$NOOP.log" | awk '/ok=/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "  %-18s executed %3d   skipped %3d\n", $1, v["ok"], v["skipped"] }'
  local cold_median noop_median reference_median ratio_median verdict ratio_verdict
  cold_median="$(median <"$WORK/cold")"
  noop_median="$(median <"$WORK/noop")"
  reference_median="$(median <"$WORK/reference")"
  ratio_median="$(median <"$WORK/ratio")"
  ratio_verdict="$(awk -v m="$ratio_median" -v t="$TARGET_RATIO" 'BEGIN {print (m <= t) ? "PASS" : "MISS"}')"
  verdict="$(awk -v m="$noop_median" -v t="$TARGET_NOOP" 'BEGIN {print (m <= t) ? "PASS" : "MISS"}')"
  printf '\nmedian cold converge: %s s (%d runs)\n' "$cold_median" "$COLD"
  printf 'median no-op re-run:  %s s (%d runs)   target <= %d s: %s\n' "$noop_median" "$NOOP" "$TARGET_NOOP" "$verdict"
  printf 'median yardstick:     %s s (bench/site/reference.yml, run before each no-op run)\n' "$reference_median"
  printf 'median ratio no-op/yardstick: %.2f (each no-op run against the yardstick just before it)   target <= %s: %s\n' \
    "$ratio_median" "$TARGET_RATIO" "$ratio_verdict"
  printf 'machine: %s CPUs, %s, Debian %s containers, load average at the end: %s\n' \
    "$(nproc)" "$(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo)" \
    "${GW_DEMO_RELEASE:-12}" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

main "$@"
