#!/usr/bin/env bash
# Benchmark: how the cost of playbooks/site.yml grows with the number of hosts.
#
# For each size N (default 4 8 16 32) it creates N fresh Debian containers with systemd on a
# Docker network of its own (two balancers, one database server below 8 hosts and two from
# 8 on, the rest application servers; bench/fleet/inventory.py writes the inventory, shaped
# like inventories/demo: nginx balancers, PostgreSQL, the demo application, an internal CA in
# this run's work directory), then times
#   cold_s    one converge of the fresh containers (package downloads from Debian's mirror
#             included): every size converges once, from scratch. Growing the previous
#             size's converged fleet would time a run where most hosts are already done, not
#             the cold converge of N hosts, so each size gets new containers;
#   noop_s    the median of GW_FLEET_NOOP re-runs that change nothing (the run fails when one
#             changes anything);
#   change_s  the median of GW_FLEET_CHANGE runs that change one application setting on every
#             application server: app_environment's FLEET_SETTING (bench/fleet/group_vars/
#             appservers.yml) set to a new value each run (-e fleet_setting=K), so each run
#             rewrites the environment file and restarts every application server, one at a
#             time, drained from both balancers (the rolling deploy of playbooks/appservers.yml);
#             the run fails unless every application server changed;
# and prints one line per size:
#   fleet: hosts=N cold_s=… noop_s=… change_s=… controller_cpu_s=… controller_rss_mb=…
# followed by a line fleet-detail: with each run's figures and the load average (1 minute)
# at its start. Then the marginal cost per added host and per added application server of
# each kind of run (bench/fleet/report.py: least-squares slopes), the targets of issue 18,
# and the picture docs/fleet.svg (seconds against hosts, one panel per kind of run).
#
# The controller's share, measured by bench/fleet/measure.py around each ansible-playbook:
#   controller_cpu_s   user + system CPU seconds of ansible-playbook and every process it
#                      starts (forked workers, docker CLI processes), from getrusage(RUSAGE_
#                      CHILDREN) before and after the run; median over the no-op runs. Work in
#                      the containers and in the Docker engine is not included.
#   controller_rss_mb  the peak, sampled every 0.2 s, of the summed PSS (proportional set size,
#                      /proc/PID/smaps_rollup) of the ansible-playbook process tree; the highest
#                      over the no-op runs. PSS, not RSS: the forked workers share most pages with
#                      ansible-playbook, and summed RSS counts them once per worker (the summed
#                      RSS is printed too, as rss_sum_mb, in fleet-detail).
#
# Optional sweeps at the largest size, after everything above is printed (the no-op,
# interleaved round by round so that each setting sees the same load):
#   GW_FLEET_SWEEP_FORKS="5 10 20 32"       forks (ansible-playbook -f)
#   GW_FLEET_SWEEP_CONNECTIONS="docker docker_api ssh"
#                                           the connection: community.docker.docker (docker
#                                           exec, the demo's), community.docker.docker_api (the
#                                           engine's API from Python), ssh (to the containers'
#                                           addresses as the admin user the base role created,
#                                           with become; pipelining and ControlPersist from
#                                           ansible.cfg; the ControlPersist masters' CPU is not
#                                           counted, they leave the process tree)
# each printing fleet-forks: / fleet-connection: lines, and
#   GW_FLEET_AGAINST=REV                    a git revision: GW_FLEET_CHANGE change runs of the
#                                           largest fleet with this tree's collection and as many
#                                           with the collection (roles, plugins, playbooks) as it
#                                           was at REV, alternately on the same containers, and
#                                           the ratio of their medians (fleet-against: line).
#
# Settings (environment):
#   GW_FLEET_SIZES="4 8 16 32"  sizes, each from 4 to 64 hosts (memory: about 100 MB a container)
#   GW_FLEET_NOOP=3             no-op runs per size (median)
#   GW_FLEET_CHANGE=1           change runs per size (median)
#   GW_FLEET_FORKS=             forks of every run (default: ansible.cfg's)
#   GW_FLEET_DATABASES=auto     database servers: auto (1 below 8 hosts, 2 from 8), 1 or 2
#   GW_FLEET_RELEASE=12         Debian release of the containers
#   GW_FLEET_SVG=docs/fleet.svg where the picture goes (empty: none)
#   GW_FLEET_KEEP=1             keep the last size's containers and the work directory
#   GW_FLEET_LOGS=DIR           copy every run's output to DIR at the end (after a failure too)
#
# Every run is bounded: a cold converge gets 900 s + 60 s a host, a no-op 300 s + 10 s a host,
# a change run 600 s + 60 s an application server; then it is stopped and the bench fails.
# The containers (gwfleet-*) and the network (gwfleet-net) carry the label
# org.groundwork.fleet=<this run's id>; on exit, failure or Ctrl-C exactly those are removed,
# with the work directory (its internal CA included). Exits 0 when it measured (whether or
# not the targets are met), non-zero on errors.
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$GW_ROOT/scripts/lib/images.sh"

SIZES="${GW_FLEET_SIZES:-4 8 16 32}"
NOOP="${GW_FLEET_NOOP:-3}"
CHANGE="${GW_FLEET_CHANGE:-1}"
FORKS="${GW_FLEET_FORKS:-}"
DATABASES="${GW_FLEET_DATABASES:-auto}"
RELEASE="${GW_FLEET_RELEASE:-12}"
SVG="${GW_FLEET_SVG-$GW_ROOT/docs/fleet.svg}"
SWEEP_FORKS="${GW_FLEET_SWEEP_FORKS:-}"
SWEEP_CONNECTIONS="${GW_FLEET_SWEEP_CONNECTIONS:-}"
AGAINST="${GW_FLEET_AGAINST:-}"
MAX_HOSTS=64
NETWORK=gwfleet-net
LABEL=org.groundwork.fleet
FLEET="$GW_ROOT/bench/fleet"

for setting in NOOP CHANGE; do
  [[ "${!setting}" =~ ^[1-9][0-9]?$ ]] || die "GW_FLEET_$setting must be from 1 to 99 (got '${!setting}')"
done
[ -z "$FORKS" ] || [[ "$FORKS" =~ ^[1-9][0-9]{0,2}$ ]] || die "GW_FLEET_FORKS must be a number of forks (got '$FORKS')"
case "$DATABASES" in auto | 1 | 2) ;; *) die "GW_FLEET_DATABASES must be auto, 1 or 2 (got '$DATABASES')" ;; esac
read -r -a SIZE_LIST <<<"$(tr ' ' '\n' <<<"$SIZES" | sed '/^$/d' | sort -n | uniq | tr '\n' ' ')"
[ "${#SIZE_LIST[@]}" -gt 0 ] || die "GW_FLEET_SIZES names no size"
for size in "${SIZE_LIST[@]}"; do
  if ! [[ "$size" =~ ^[0-9]+$ ]] || [ "$size" -lt 4 ] || [ "$size" -gt "$MAX_HOSTS" ]; then
    die "every size in GW_FLEET_SIZES must be from 4 to $MAX_HOSTS hosts (got '$size')"
  fi
done
for forks in $SWEEP_FORKS; do
  [[ "$forks" =~ ^[1-9][0-9]{0,2}$ ]] || die "GW_FLEET_SWEEP_FORKS: '$forks' is not a number of forks"
done
for connection in $SWEEP_CONNECTIONS; do
  case "$connection" in docker | docker_api | ssh) ;; *) die "GW_FLEET_SWEEP_CONNECTIONS: '$connection' is not docker, docker_api or ssh" ;; esac
done
if [ -n "$AGAINST" ]; then
  git -C "$GW_ROOT" rev-parse --verify --quiet "$AGAINST^{commit}" >/dev/null \
    || die "GW_FLEET_AGAINST: '$AGAINST' is not a commit of this repository"
fi

WORK="$(mktemp -d /tmp/gwfleet.XXXXXX)"
RUN_ID="$(basename "$WORK")"
RESULTS="$WORK/results.tsv"
CURRENT_SETTING=0

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "${GW_FLEET_LOGS:-}" ] && [ -d "$WORK/logs" ]; then
    mkdir -p "$GW_FLEET_LOGS" && cp -a "$WORK/logs/." "$GW_FLEET_LOGS/" && log "Run logs copied to $GW_FLEET_LOGS"
  fi
  if [ "${GW_FLEET_KEEP:-0}" = 1 ]; then
    log "Kept the containers (label $LABEL=$RUN_ID) and $WORK"
    exit "$rc"
  fi
  remove_fleet
  docker network ls -q --filter "label=$LABEL=$RUN_ID" | xargs -r docker network rm >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Only what this run created: the containers with its label.
remove_fleet() {
  docker ps -aq --filter "label=$LABEL=$RUN_ID" | xargs -r docker rm -f >/dev/null 2>&1 || true
}

median() { sort -n | awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }
maximum() { sort -n | tail -n1; }
load1() { cut -d' ' -f1 /proc/loadavg; }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# The anonymous memory (processes' own, not the page cache) of the containers' cgroups, in MiB
# (docker stats reads nothing with the host's cgroup namespace).
containers_memory() {
  local host id dir total=0 bytes
  for host in "$@"; do
    id="$(docker inspect -f '{{.Id}}' "$host")"
    for dir in "/sys/fs/cgroup/system.slice/docker-$id.scope" "/sys/fs/cgroup/docker/$id" "/sys/fs/cgroup/memory/docker/$id"; do
      [ -r "$dir/memory.stat" ] || continue
      bytes="$(awk '$1 == "anon" || $1 == "total_rss" {print $2; exit}' "$dir/memory.stat")"
      total=$((total + ${bytes:-0}))
      break
    done
  done
  echo $((total / 1048576))
}

create_network() {
  docker network create --label "$LABEL=$RUN_ID" "$NETWORK" >/dev/null \
    || die "could not create the network $NETWORK (is an earlier fleet run still there? docker ps --filter label=$LABEL)"
  docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$NETWORK" | awk '{print $1}' >"$WORK/state/network"
  [ -s "$WORK/state/network" ] || die "could not read the subnet of $NETWORK"
}

# create_fleet NAME...: fresh containers with systemd as PID 1 (the settings of scripts/demo.sh).
create_fleet() {
  local host pids=() pid failed=0
  for host in "$@"; do
    docker run -d --name "$host" --hostname "$host" --network "$NETWORK" --label "$LABEL=$RUN_ID" \
      --cap-add SYS_ADMIN --cap-add NET_ADMIN --cgroupns host \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      --stop-signal SIGRTMIN+3 \
      "$GW_IMAGE_REPO:$RELEASE" /lib/systemd/systemd >/dev/null &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" = 0 ] || die "could not create the containers"
  pids=()
  for host in "$@"; do
    (
      # Right after the start systemctl cannot reach systemd yet and prints nothing: ask again.
      for ((try = 1; try <= 90; try++)); do
        state="$(docker exec "$host" timeout 60 systemctl is-system-running --wait 2>/dev/null || true)"
        case "$state" in running | degraded) exit 0 ;; esac
        sleep 1
      done
      echo "systemd in $host did not come up (state: '$state')" >&2
      exit 1
    ) &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" = 0 ] || die "systemd did not come up in every container"
}

# write_inventory DIR SIZE CONNECTION: the inventory of SIZE hosts for CONNECTION in DIR.
write_inventory() {
  local dir="$1" size="$2" connection="$3" args=()
  mkdir -p "$dir"
  rm -rf "$dir/state"
  cp -a "$WORK/state" "$dir/state"
  if [ "$connection" = ssh ]; then
    local host
    {
      printf '{'
      local first=1
      for host in $(python3 "$FLEET/inventory.py" --hosts "$size" --databases "$DATABASES" --names); do
        [ "$first" = 1 ] || printf ','
        first=0
        printf '"%s": "%s"' "$host" "$(docker inspect -f "{{(index .NetworkSettings.Networks \"$NETWORK\").IPAddress}}" "$host")"
      done
      printf '}\n'
    } >"$dir/addresses.json"
    args=(--addresses "$dir/addresses.json")
  fi
  python3 "$FLEET/inventory.py" --hosts "$size" --databases "$DATABASES" --dir "$dir" \
    --connection "$connection" --ca-dir "$WORK/ca-$size" "${args[@]}"
}

# run_site NAME INVENTORY TIMEOUT [ARGS...]: one measured site.yml run; prints measure.py's line
# (wall_s cpu_s pss_mb rss_mb rc) with load=; the output goes to $WORK/logs/NAME.log. With
# SITE_TREE set, the playbook and the collection are that tree's (ansible.cfg stays this one's).
run_site() {
  local name="$1" inventory="$2" timeout="$3" load line
  shift 3
  local forks=() site=(playbooks/site.yml)
  [ -n "$FORKS" ] && forks=(-f "$FORKS")
  [ -n "${SITE_TREE:-}" ] && site=("$SITE_TREE/playbooks/site.yml")
  load="$(load1)"
  line="$(cd "$GW_ROOT" && ${SITE_TREE:+env ANSIBLE_COLLECTIONS_PATH="$SITE_TREE/../../.."} \
    python3 "$FLEET/measure.py" --timeout "$timeout" --output "$WORK/logs/$name.log" -- \
    ansible-playbook -i "$inventory/hosts.yml" "${site[@]}" "${forks[@]}" "$@")"
  if [ "$(field rc "$line")" != 0 ]; then
    tail -n 40 "$WORK/logs/$name.log" >&2
    [ "$(field rc "$line")" = 124 ] && die "run $name took longer than $timeout s and was stopped"
    die "playbooks/site.yml failed in run $name (exit $(field rc "$line")); the end of its output is above"
  fi
  printf '%s load=%s\n' "$line" "$load"
}

# The recap's changed= of each host of a run's log, as "host changed" lines.
recap_changes() {
  sed -n '/PLAY RECAP/,$p' "$1" | awk '/ok=/ {for (i = 2; i <= NF; i++) if ($i ~ /^changed=/) {split($i, kv, "="); print $1, kv[2]}}'
}

check_noop() {
  local log="$1"
  if recap_changes "$log" | awk '$2 > 0 {found = 1} END {exit !found}'; then
    recap_changes "$log" | awk '$2 > 0' >&2
    die "a no-op run changed something ($log): it was not a no-op"
  fi
}

check_change() {
  local log="$1" size="$2" host changed
  for host in $(python3 "$FLEET/inventory.py" --hosts "$size" --databases "$DATABASES" --names | grep -- '-app'); do
    changed="$(recap_changes "$log" | awk -v h="$host" '$1 == h {print $2}')"
    [ "${changed:-0}" -gt 0 ] || die "the change run did not change $host ($log)"
  done
}

noop_round() {
  local name="$1" inventory="$2" size="$3"
  shift 3
  local line
  line="$(run_site "$name" "$inventory" $((300 + 10 * size)) -e "fleet_setting=$CURRENT_SETTING" "$@")"
  check_noop "$WORK/logs/$name.log"
  printf '%s\n' "$line"
}

measure_size() {
  local size="$1"
  local inventory="$WORK/inventory-$size" names apps dbs i line
  mapfile -t names < <(python3 "$FLEET/inventory.py" --hosts "$size" --databases "$DATABASES" --names)
  apps="$(printf '%s\n' "${names[@]}" | grep -c -- '-app')"
  dbs="$(printf '%s\n' "${names[@]}" | grep -c -- '-db')"
  log "Fleet of $size: 2 balancers, $dbs database server(s), $apps application server(s): fresh containers"
  remove_fleet
  create_fleet "${names[@]}"
  write_inventory "$inventory" "$size" docker
  CURRENT_SETTING=0

  log "Fleet of $size: cold converge (bounded to $((900 + 60 * size)) s)"
  local cold
  cold="$(run_site "cold-$size" "$inventory" $((900 + 60 * size)) -e "fleet_setting=$CURRENT_SETTING")"
  : >"$WORK/noop-$size"
  for ((i = 1; i <= NOOP; i++)); do
    log "Fleet of $size: no-op run $i of $NOOP"
    noop_round "noop-$size-$i" "$inventory" "$size" >>"$WORK/noop-$size"
  done
  : >"$WORK/change-$size"
  for ((i = 1; i <= CHANGE; i++)); do
    CURRENT_SETTING=$((CURRENT_SETTING + 1))
    log "Fleet of $size: change run $i of $CHANGE (FLEET_SETTING=$CURRENT_SETTING on $apps application servers)"
    line="$(run_site "change-$size-$i" "$inventory" $((600 + 60 * apps)) -e "fleet_setting=$CURRENT_SETTING")"
    check_change "$WORK/logs/change-$size-$i.log" "$size"
    printf '%s\n' "$line" >>"$WORK/change-$size"
  done

  local noop_s change_s cpu_s pss_mb rss_mb memory
  noop_s="$(while read -r line; do field wall_s "$line"; done <"$WORK/noop-$size" | median)"
  change_s="$(while read -r line; do field wall_s "$line"; done <"$WORK/change-$size" | median)"
  cpu_s="$(while read -r line; do field cpu_s "$line"; done <"$WORK/noop-$size" | median)"
  pss_mb="$(while read -r line; do field pss_mb "$line"; done <"$WORK/noop-$size" | maximum)"
  rss_mb="$(while read -r line; do field rss_mb "$line"; done <"$WORK/noop-$size" | maximum)"
  memory="$(containers_memory "${names[@]}")"
  printf 'fleet: hosts=%s cold_s=%s noop_s=%s change_s=%s controller_cpu_s=%s controller_rss_mb=%s\n' \
    "$size" "$(field wall_s "$cold")" "$noop_s" "$change_s" "$cpu_s" "$pss_mb"
  printf 'fleet-detail: hosts=%s balancers=2 databases=%s appservers=%s cold=[%s] noop=[%s] change=[%s] rss_sum_mb=%s containers_anon_mb=%s\n' \
    "$size" "$dbs" "$apps" "$cold" \
    "$(paste -sd';' "$WORK/noop-$size" | sed 's/;/; /g')" "$(paste -sd';' "$WORK/change-$size" | sed 's/;/; /g')" \
    "$rss_mb" "$memory"
  printf '%s\t2\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$dbs" "$apps" "$(field wall_s "$cold")" \
    "$noop_s" "$change_s" "$cpu_s" "$pss_mb" "$rss_mb" "$(field load "$cold")" >>"$RESULTS"
}

# sweep KIND SIZE VALUE...: no-op runs of the largest fleet for each forks value or connection,
# interleaved round by round.
sweep() {
  local kind="$1" size="$2" value round line
  shift 2
  for value in "$@"; do
    : >"$WORK/sweep-$kind-$value"
    if [ "$kind" = connection ]; then
      write_inventory "$WORK/inventory-$size-$value" "$size" "$value"
      : >"$WORK/state/known_hosts"
      cp "$WORK/state/known_hosts" "$WORK/inventory-$size-$value/state/known_hosts"
    fi
  done
  for ((round = 1; round <= NOOP; round++)); do
    for value in "$@"; do
      log "Fleet of $size: no-op with $kind $value (round $round of $NOOP)"
      if [ "$kind" = forks ]; then
        line="$(FORKS="$value" noop_round "sweep-forks-$value-$round" "$WORK/inventory-$size" "$size")"
      else
        line="$(noop_round "sweep-connection-$value-$round" "$WORK/inventory-$size-$value" "$size")"
      fi
      printf '%s\n' "$line" >>"$WORK/sweep-$kind-$value"
    done
  done
  for value in "$@"; do
    printf 'fleet-%s: hosts=%s %s=%s noop_s=%s controller_cpu_s=%s controller_rss_mb=%s runs=[%s]\n' \
      "$kind" "$size" "$kind" "$value" \
      "$(while read -r line; do field wall_s "$line"; done <"$WORK/sweep-$kind-$value" | median)" \
      "$(while read -r line; do field cpu_s "$line"; done <"$WORK/sweep-$kind-$value" | median)" \
      "$(while read -r line; do field pss_mb "$line"; done <"$WORK/sweep-$kind-$value" | maximum)" \
      "$(while read -r line; do printf '%s@%s ' "$(field wall_s "$line")" "$(field load "$line")"; done <"$WORK/sweep-$kind-$value" | sed 's/ $//')"
  done
}

# against SIZE REV: change runs of the largest fleet, round by round with this tree's collection
# and with the collection as it was at REV (git archive into the work directory), on the same
# containers and inventory; each run sets a new FLEET_SETTING, so both restart every
# application server, one at a time, drained from both balancers.
against() {
  local size="$1" rev="$2" round side line apps
  local tree="$WORK/against/ansible_collections/groundwork/server"
  apps="$(python3 "$FLEET/inventory.py" --hosts "$size" --databases "$DATABASES" --names | grep -c -- '-app')"
  mkdir -p "$tree"
  git -C "$GW_ROOT" archive "$rev" | tar -x -C "$tree"
  : >"$WORK/against-here"
  : >"$WORK/against-rev"
  for ((round = 1; round <= CHANGE; round++)); do
    for side in here rev; do
      CURRENT_SETTING=$((CURRENT_SETTING + 1))
      log "Fleet of $size: change run with the collection $([ "$side" = rev ] && echo "at $rev" || echo "of this tree") (round $round of $CHANGE)"
      if [ "$side" = rev ]; then
        line="$(SITE_TREE="$tree" run_site "against-$side-$round" "$WORK/inventory-$size" $((600 + 60 * apps)) -e "fleet_setting=$CURRENT_SETTING")"
      else
        line="$(run_site "against-$side-$round" "$WORK/inventory-$size" $((600 + 60 * apps)) -e "fleet_setting=$CURRENT_SETTING")"
      fi
      check_change "$WORK/logs/against-$side-$round.log" "$size"
      printf '%s\n' "$line" >>"$WORK/against-$side"
    done
  done
  local here there
  here="$(while read -r line; do field wall_s "$line"; done <"$WORK/against-here" | median)"
  there="$(while read -r line; do field wall_s "$line"; done <"$WORK/against-rev" | median)"
  printf 'fleet-against: hosts=%s rev=%s change_s=%s change_s_rev=%s ratio=%s runs=[%s] runs_rev=[%s]\n' \
    "$size" "$(git -C "$GW_ROOT" rev-parse --short "$rev")" "$here" "$there" \
    "$(awk -v a="$here" -v b="$there" 'BEGIN {printf "%.2f", a / b}')" \
    "$(while read -r line; do printf '%s ' "$(field wall_s "$line")"; done <"$WORK/against-here" | sed 's/ $//')" \
    "$(while read -r line; do printf '%s ' "$(field wall_s "$line")"; done <"$WORK/against-rev" | sed 's/ $//')"
}

main() {
  ensure_container_workspace "$RELEASE"
  have ssh-keygen || apt_install openssh-client
  if [ -n "$(docker ps -aq --filter "label=$LABEL")" ]; then
    die "containers of another fleet run exist (docker ps -a --filter label=$LABEL); remove them first"
  fi
  mkdir -p "$WORK/state" "$WORK/logs"
  ssh-keygen -q -t ed25519 -N '' -C gwfleet -f "$WORK/state/id_ed25519"
  # The database password, made here so that every inventory of the run (one a size and
  # connection, each with a copy of state/) has the same one.
  python3 -c 'import secrets, string; print("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24)))' \
    >"$WORK/state/db_password"
  chmod 0600 "$WORK/state/db_password"
  create_network
  : >"$RESULTS"
  local size
  for size in "${SIZE_LIST[@]}"; do
    measure_size "$size"
  done
  printf '\n'
  local svg=()
  [ -n "$SVG" ] && svg=(--svg "$SVG" --subtitle "$(date -u +%Y-%m-%d), $(nproc) CPUs, Debian $RELEASE containers, docker connection, forks ${FORKS:-of ansible.cfg}; load average (1 min) at the start of each cold run: $(cut -f11 "$RESULTS" | paste -sd' ')")
  python3 "$FLEET/report.py" "$RESULTS" "${svg[@]}"
  [ -n "$SVG" ] && printf 'picture: %s\n' "$SVG"
  printf 'machine: %s CPUs, %s, Debian %s containers, forks %s, load average at the end: %s\n' \
    "$(nproc)" "$(awk '/MemTotal/ {printf "%.0f GB RAM", $2/1048576}' /proc/meminfo)" "$RELEASE" \
    "${FORKS:-of ansible.cfg}" "$(cut -d' ' -f1-3 /proc/loadavg)"
  # The sweeps last: the figures above are printed even when one of them fails.
  size="${SIZE_LIST[-1]}"
  # shellcheck disable=SC2086 # word lists
  [ -z "$SWEEP_FORKS" ] || sweep forks "$size" $SWEEP_FORKS
  # shellcheck disable=SC2086
  [ -z "$SWEEP_CONNECTIONS" ] || sweep connection "$size" $SWEEP_CONNECTIONS
  [ -z "$AGAINST" ] || against "$size" "$AGAINST"
}

main "$@"
