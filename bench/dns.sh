#!/usr/bin/env bash
# Benchmark: DNS as groundwork.server.dns configures it, with dnsperf (Debian's package), in one
# run: cached answers per second of the role's resolver (unbound) against Debian's stock unbound
# on the same machine, side by side, and the answers per second of the role's authoritative
# server (BIND). Prints a table and the ratio ours/stock with PASS/MISS against the target of
# docs/BENCHMARKS.md (at least stock's throughput, validation on in both).
# Exits 0 whether or not the target is met (it is a measurement), non-zero on errors.
#
# Containers (all removed on exit, also on failure or Ctrl-C), network gwbench-dns-net:
#   gwbench-dns-ns1           the zone's primary: groundwork.server.dns (bench/dns/ours.yml), BIND
#                             and, as on every host of the role, its resolver (idle here); it also
#                             carries the network aliases that are the comparison's query set
#   gwbench-dns-ours          a host with groundwork.server.dns: the role's unbound, measured
#   gwbench-dns-stock         Debian's unbound (apt-get install unbound: with its recommendation
#                             dns-root-data) and one drop-in, the same upstream as ours (below)
#   gwbench-dns-client-ours   dnsperf, in the network namespace of gwbench-dns-ours: both
#   gwbench-dns-client-stock  resolvers answer 127.0.0.1 only, so each client shares its
#                             resolver's namespace and asks 127.0.0.1, the same way on both sides
#   gwbench-dns-client        dnsperf against the primary's address on the network
# The servers run on the same CPUs (GW_BENCH_SERVER_CPUS), the clients on others
# (GW_BENCH_CLIENT_CPUS; cpusets in scripts/lib/containers.sh). The role reads the CPUs it may
# use (1 by default): its unbound runs 1 thread, as stock does. Each server may use only half
# of its CPU (GW_BENCH_SERVER_SHARE, docker --cpus, a CFS quota): with a whole CPU each, a cached
# answer costs unbound about as much CPU as dnsperf spends asking, so dnsperf on the other CPU
# is the limit and both sides measure the client; with half, the server is the limit (srv
# cores ~0.5 on an idle machine) and the answers per second compare the servers.
#
# The same query set on both resolvers. Stock unbound cannot know the internal zone, and no
# resolver here can reach the root servers: the only upstream is Docker's embedded DNS
# (127.0.0.11), which answers the names of its network itself and has no DNSSEC. So the query
# set of the comparison is GW_BENCH_NAMES network aliases of gwbench-dns-ns1
# (single labels, gwbench-dns-a0001 ...), which Docker answers itself (only unbound's attempts
# to fetch the root's DNSKEY go on, through the engine, to this machine's resolver, as in
# molecule/dns), and stock gets what ours gets from the role for the same upstream, in one
# drop-in (/etc/unbound/unbound.conf.d/gwbench-forward.conf): forward-zone "." to 127.0.0.11,
# do-not-query-localhost: no (unbound does not ask a loopback address otherwise) and
# val-permissive-mode: yes. Both keep Debian's validation with the root's trust anchor; since
# the root's DNSKEY cannot be had through Docker's DNS, every answer fails validation and is
# passed on without the AD flag, and unbound caches such an answer for 60 s (val-bogus-ttl)
# whatever its TTL. Hence each measured run starts from a flushed cache, warmed by one pass
# through the query set, and lasts at most 50 s; the script checks with unbound-control that
# the run was answered from the cache (the hit % column). Both resolver containers have an IPv6
# loopback (sysctl), as a real host has: Debian's stock unbound listens on ::1 as well and does
# not start without it.
# The zone's own names (gwbench.internal, GW_BENCH_NAMES A records) are measured on ours only
# (stock cannot answer them), through its cache, and against BIND directly.
#
# Settings (environment):
#   GW_BENCH_RELEASE=12          Debian release of the containers (12 or 13)
#   GW_BENCH_ROUNDS=3            rounds; each measures every run once
#   GW_BENCH_SECONDS=20          seconds per measured dnsperf run (1 to 50: see above)
#   GW_BENCH_NAMES=200           names in each query set (1 to 1000)
#   GW_BENCH_CLIENTS=4           dnsperf -c: clients (sockets) it acts as
#   GW_BENCH_OUTSTANDING=100     dnsperf -q: queries outstanding at most
#   GW_BENCH_QPS=0               dnsperf -Q: a cap on queries per second (0: none)
#   GW_BENCH_DNSSEC=1            sign the zone (dns_dnssec): BIND answers with signatures (dnsperf
#                                sets the DO bit against it) and ours validates the zone's answers
#   GW_BENCH_SERVER_SHARE=0.5    share of their CPUs the servers may use (0.1 to 1; see above)
#   GW_BENCH_CLIENT_CPUS=0       cpuset of the client containers
#   GW_BENCH_SERVER_CPUS=1       cpuset of the server containers
#   GW_BENCH_AA=1                configure the "ours" resolver like stock as well: an A/A run that
#                                shows what the harness alone makes of two identical resolvers
#                                (the role serves the zone from ns1 only; no cached run of the zone)
#   GW_BENCH_KEEP=1              keep the containers after the run (for inspection)
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$GW_ROOT/scripts/lib/images.sh"
# shellcheck source=scripts/lib/containers.sh
. "$GW_ROOT/scripts/lib/containers.sh"

BENCH_DIR="$GW_ROOT/bench/dns"
RELEASE="${GW_BENCH_RELEASE:-12}"
ROUNDS="${GW_BENCH_ROUNDS:-3}"
SECONDS_RUN="${GW_BENCH_SECONDS:-20}"
NAMES="${GW_BENCH_NAMES:-200}"
CLIENTS="${GW_BENCH_CLIENTS:-4}"
OUTSTANDING="${GW_BENCH_OUTSTANDING:-100}"
QPS_CAP="${GW_BENCH_QPS:-0}"
DNSSEC="${GW_BENCH_DNSSEC:-0}"
SHARE="${GW_BENCH_SERVER_SHARE:-0.5}"
TARGET=1.00   # ours >= stock, cached answers per second

NETWORK=gwbench-dns-net
NS1=gwbench-dns-ns1
OURS=gwbench-dns-ours
STOCK=gwbench-dns-stock
CLIENT=gwbench-dns-client
CLIENT_OURS=gwbench-dns-client-ours
CLIENT_STOCK=gwbench-dns-client-stock
SERVERS=("$NS1" "$OURS" "$STOCK")
CLIENTS_ALL=("$CLIENT_OURS" "$CLIENT_STOCK" "$CLIENT")
# the clients first: two of them live in a server's network namespace
CONTAINERS=("${CLIENTS_ALL[@]}" "${SERVERS[@]}")
LABEL=org.groundwork.bench=dns
ZONE=gwbench.internal
ALIAS_PREFIX=gwbench-dns-a   # the comparison's names: network aliases of $NS1
QUERY_DIR=/root/dnsperf      # in the clients
WORK=""   # scratch directory, made by main() and removed on exit

for setting in ROUNDS SECONDS_RUN NAMES CLIENTS OUTSTANDING; do
  [[ "${!setting}" =~ ^[1-9][0-9]*$ ]] || die "GW_BENCH_${setting%_RUN} must be a positive integer (got '${!setting}')"
done
[ "$SECONDS_RUN" -le 50 ] \
  || die "GW_BENCH_SECONDS must be at most 50 (got $SECONDS_RUN): the answers unbound caches here live 60 s (val-bogus-ttl)"
[ "$NAMES" -le 1000 ] || die "GW_BENCH_NAMES must be at most 1000 (got $NAMES)"
[[ "$SHARE" =~ ^(0\.[1-9][0-9]?|1|1\.0)$ ]] || die "GW_BENCH_SERVER_SHARE must be a share of a CPU from 0.1 to 1 (got '$SHARE')"
[[ "$QPS_CAP" =~ ^(0|[1-9][0-9]*)$ ]] || die "GW_BENCH_QPS must be 0 (no cap) or a positive integer (got '$QPS_CAP')"
case "$DNSSEC" in
  0 | 1) ;;
  *) die "GW_BENCH_DNSSEC must be 0 or 1 (got '$DNSSEC')" ;;
esac
case "${GW_BENCH_AA:-}" in
  "" | 1) ;;
  *) die "GW_BENCH_AA must be 1 or unset (got '$GW_BENCH_AA')" ;;
esac

# ---------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------
# A server: systemd as PID 1 (the settings of scripts/lib/containers.sh), its share of its
# CPUs (a CFS quota), an IPv6 loopback, and any further docker run options (network aliases).
start_server() {
  local name="$1"
  shift
  docker run -d --name "$name" --hostname "$name" --network "$NETWORK" --label "$LABEL" \
    --cpuset-cpus "$SERVER_CPUS" --cpus "$SHARE" --sysctl net.ipv6.conf.lo.disable_ipv6=0 \
    --cap-add SYS_ADMIN --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    --stop-signal SIGRTMIN+3 "$@" \
    "$GW_IMAGE_REPO:$RELEASE" /lib/systemd/systemd >/dev/null
}

# A client: no systemd, only a shell that waits; NETWORK_MODE is the network or
# container:<server> (that server's network namespace).
start_client() {
  docker run -d --name "$1" --network "$2" --label "$LABEL" --cpuset-cpus "$CLIENT_CPUS" \
    --tmpfs /tmp "$GW_IMAGE_REPO:$RELEASE" sleep infinity >/dev/null
}

start_all() {
  local aliases=() i
  for i in $(seq -f '%04g' "$NAMES"); do
    aliases+=(--network-alias "$ALIAS_PREFIX$i")
  done
  # A run that was killed with SIGKILL leaves its containers behind: they carry our
  # names, so they are ours to remove.
  remove_all
  docker network create --label "$LABEL" "$NETWORK" >/dev/null
  log "Starting ${CONTAINERS[*]} (Debian $RELEASE; servers on CPU $SERVER_CPUS with a share of $SHARE, clients on CPU $CLIENT_CPUS)"
  start_server "$NS1" "${aliases[@]}"
  start_server "$OURS"
  start_server "$STOCK"
  start_client "$CLIENT_OURS" "container:$OURS"
  start_client "$CLIENT_STOCK" "container:$STOCK"
  start_client "$CLIENT" "$NETWORK"
  wait_for_systemd "${SERVERS[@]}"
}

cleanup() {
  local rc=$?
  remove_all_unless_kept
  [ -z "$WORK" ] || rm -rf "$WORK"
  exit "$rc"
}

# Containers on this engine that are not this benchmark's (other sessions' tests share the CPUs).
others_running() {
  docker ps --format '{{.Names}}' | grep -vc '^gwbench-dns-' || true
}

# CPU time (ns) this machine spent busy so far, all CPUs (/proc/stat, in USER_HZ ticks).
host_busy_ns() {
  awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) * 1e9 / hz }' /proc/stat
}

# ---------------------------------------------------------------------------------------
# The resolvers and the primary
# ---------------------------------------------------------------------------------------
# Debian's unbound as installed, plus what the sandbox's only upstream needs (see the header).
configure_stock() {
  local name="$1"
  log "Configuring $name: Debian's unbound plus gwbench-forward.conf (forward-zone \".\" to 127.0.0.11, do-not-query-localhost: no, val-permissive-mode: yes)"
  put_file "$name" /etc/unbound/unbound.conf.d/gwbench-forward.conf <<'EOF'
# bench/dns.sh: the sandbox's only upstream, as groundwork.server.dns configures it for
# dns_resolver_upstreams [127.0.0.11] and dns_resolver_permissive; nothing else
server:
	do-not-query-localhost: no
	val-permissive-mode: yes

forward-zone:
	name: "."
	forward-addr: 127.0.0.11
EOF
  docker exec "$name" sh -ec 'unbound-checkconf >/dev/null; systemctl reset-failed unbound; systemctl restart unbound' \
    || die "unbound did not start in $name with the drop-in"
}

# The zone's query set as records for the role: zNNNN A 198.18.x.y (RFC 2544's range).
zone_records() {
  local i first=1
  printf '['
  for i in $(seq "$NAMES"); do
    [ "$first" = 1 ] || printf ', '
    first=0
    printf '{"name": "z%04d", "type": "A", "value": "198.18.%d.%d"}' "$i" $((i / 256)) $((i % 256))
  done
  printf ']'
}

configure_ours() {
  local limit=()
  if [ -n "${GW_BENCH_AA:-}" ]; then
    warn "GW_BENCH_AA is set: $OURS gets Debian's stock unbound as well (A/A run); the role configures $NS1 only"
    configure_stock "$OURS"
    limit=(--limit "$NS1")
  fi
  [ -f "$GW_ROOT/roles/dns/tasks/main.yml" ] || die "roles/dns is not in this checkout"
  local dnssec=false
  [ "$DNSSEC" = 0 ] || dnssec=true
  printf '{"gw_bench_dnssec": %s, "gw_bench_records": %s}\n' "$dnssec" "$(zone_records)" >"$WORK/ours-vars.json"
  log "Applying groundwork.server.dns to ${limit[1]:-$NS1 and $OURS} (bench/dns/ours.yml, zone $ZONE, DNSSEC $dnssec)"
  (cd "$GW_ROOT" && ansible-playbook -i "$BENCH_DIR/inventory.yml" "$BENCH_DIR/ours.yml" \
    -e "@$WORK/ours-vars.json" "${limit[@]}") >"$WORK/ours.log" 2>&1 || {
    tail -n 40 "$WORK/ours.log" >&2
    die "applying groundwork.server.dns failed (bench/dns/ours.yml; log above)"
  }
}

# The query files in every client: the comparison's names (Docker's) and the zone's.
write_queries() {
  local name i
  for i in $(seq -f '%04g' "$NAMES"); do
    printf '%s%s A\n' "$ALIAS_PREFIX" "$i" >>"$WORK/upstream.txt"
    printf 'z%s.%s A\n' "$i" "$ZONE" >>"$WORK/zone.txt"
  done
  for name in "${CLIENTS_ALL[@]}"; do
    docker exec "$name" mkdir -p "$QUERY_DIR"
    put_file "$name" "$QUERY_DIR/upstream.txt" <"$WORK/upstream.txt"
    put_file "$name" "$QUERY_DIR/zone.txt" <"$WORK/zone.txt"
  done
}

# The options of unbound that differ between the two: the value each side runs with.
compare_settings() {
  local option
  : >"$WORK/settings"
  for option in num-threads so-reuseport msg-cache-slabs rrset-cache-slabs infra-cache-slabs key-cache-slabs \
    msg-cache-size rrset-cache-size prefetch prefetch-key harden-referral-path val-permissive-mode \
    do-not-query-localhost module-config; do
    printf '%s\t%s\t%s\n' "$option" \
      "$(docker exec "$OURS" unbound-checkconf -o "$option" 2>/dev/null | xargs || echo '?')" \
      "$(docker exec "$STOCK" unbound-checkconf -o "$option" 2>/dev/null | xargs || echo '?')" >>"$WORK/settings"
  done
}

# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------
# dnsperf CLIENT SERVER-ADDRESS FILE OUT ARGS...: one dnsperf run, its output in $WORK/OUT.out;
# bounded by its own -l or -n and a timeout.
dnsperf_run() {
  local client="$1" address="$2" file="$3" out="$4"
  shift 4
  local cap=()
  [ "$QPS_CAP" = 0 ] || cap=(-Q "$QPS_CAP")
  docker exec "$client" timeout $((SECONDS_RUN + 60)) dnsperf -s "$address" -d "$QUERY_DIR/$file" \
    -c "$CLIENTS" -q "$OUTSTANDING" "${cap[@]}" "$@" >"$WORK/$out.out" 2>&1 || {
    tail -n 20 "$WORK/$out.out" >&2
    die "dnsperf in $client against $address failed"
  }
}

# field OUT NAME: a figure of dnsperf's statistics (qps, sent, completed, lost %, noerror %, latency µs).
field() {
  awk -v want="$2" '
    /Queries sent:/ { sent = $3 }
    /Queries completed:/ { completed = $3 }
    /Queries lost:/ { gsub(/[()%]/, "", $4); lost = $4 }
    /Response codes:/ { for (i = 3; i <= NF; i += 3) if ($i == "NOERROR") { noerror = $(i + 2); gsub(/[()%,]/, "", noerror) } }
    /Queries per second:/ { qps = $4 }
    /Average Latency/ { latency = $4 * 1e6 }
    END {
      v["sent"] = sent; v["completed"] = completed; v["lost"] = lost; v["noerror"] = noerror == "" ? "0" : noerror
      v["qps"] = qps; v["latency"] = latency
      if (want == "qps") printf "%.0f\n", v[want]; else if (want == "latency") printf "%.0f\n", v[want]; else print v[want]
    }' "$WORK/$1.out"
}

# warm CLIENT RESOLVER FILE: empty the resolver's cache, then one pass through FILE; every
# name must be answered (NOERROR). The first pass after a start can time out while unbound
# tries the root's key: then once more.
warm() {
  local client="$1" resolver="$2" file="$3" try
  docker exec "$resolver" unbound-control flush_zone . >/dev/null || die "unbound-control flush_zone in $resolver failed"
  for try in 1 2 3; do
    dnsperf_run "$client" 127.0.0.1 "$file" "warm-$resolver" -n 1
    if [ "$(field "warm-$resolver" completed)" = "$NAMES" ] && [ "$(field "warm-$resolver" noerror)" = 100.00 ]; then
      return 0
    fi
    [ "$try" = 3 ] || sleep 2
  done
  tail -n 15 "$WORK/warm-$resolver.out" >&2
  die "$resolver did not answer every name of $file with NOERROR (after 3 passes)"
}

# unbound_stat NAME COUNTER: a counter of unbound-control stats_noreset.
unbound_stat() {
  docker exec "$1" unbound-control stats_noreset | awk -F= -v k="total.num.$2" '$1 == k { print $2 }'
}

# measure RUN CLIENT SERVER ADDRESS FILE ARGS...: one measured run, recorded under RUN: qps,
# latency, lost %, NOERROR %, the cores server and client kept busy, the server's CPU per answer,
# and for a resolver the share of answers from its cache.
measure() {
  local run="$1" client="$2" server="$3" address="$4" file="$5"
  shift 5
  local out="$run-$ROUND" s0 c0 t0 s1 c1 t1 h0 a0 h1 a1
  if [ "$address" = 127.0.0.1 ]; then
    warm "$client" "$server" "$file"
    docker exec "$server" unbound-control stats >/dev/null   # resets the counters
  fi
  a0="$(cpu_ns "${CONTAINERS[@]}")"
  h0="$(host_busy_ns)"
  s0="$(cpu_ns "$server")"
  c0="$(cpu_ns "$client")"
  t0="$(date +%s%N)"
  dnsperf_run "$client" "$address" "$file" "$out" -l "$SECONDS_RUN" "$@"
  t1="$(date +%s%N)"
  s1="$(cpu_ns "$server")"
  c1="$(cpu_ns "$client")"
  h1="$(host_busy_ns)"
  a1="$(cpu_ns "${CONTAINERS[@]}")"
  SERVER_CORES="$(cores "$s0" "$s1" $((t1 - t0)))"
  CLIENT_CORES="$(cores "$c0" "$c1" $((t1 - t0)))"
  local qps noerror
  qps="$(field "$out" qps)"
  noerror="$(field "$out" noerror)"
  if [ -z "$qps" ] || [ "$qps" -eq 0 ]; then
    die "no result in dnsperf's output for $run: $(tail -n 15 "$WORK/$out.out")"
  fi
  [ "$noerror" = 100.00 ] || warn "$run, round $ROUND: only $noerror% of the answers were NOERROR"
  RATE[$run]+="$qps "
  SCORES[$run]+="$SERVER_CORES "
  CCORES[$run]+="$CLIENT_CORES "
  # the server's CPU time per answer, in µs with two decimals (record() of containers.sh rounds
  # to whole µs, too coarse for a few µs per answer)
  if [ "$SERVER_CORES" = n/a ]; then PEROP[$run]+="n/a "; else
    PEROP[$run]+="$(awk -v a="$s0" -v b="$s1" -v n="$(field "$out" completed)" 'BEGIN { printf "%.2f", (b - a) / 1000 / n }') "
  fi
  # what the rest of the machine kept busy meanwhile: all CPU time but the benchmark's containers'
  if [ "$a0" -lt 0 ] || [ "$a1" -lt 0 ]; then OTHERS[$run]+="n/a "; else
    OTHERS[$run]+="$(awk -v h="$((h1 - h0))" -v a="$((a1 - a0))" -v w="$((t1 - t0))" 'BEGIN { v = (h - a) / w; printf "%.2f", v < 0 ? 0 : v }') "
  fi
  LAT[$run]+="$(field "$out" latency) "
  LOST[$run]+="$(field "$out" lost) "
  NOERR[$run]+="$noerror "
  if [ "$address" = 127.0.0.1 ]; then
    local queries hits prefetch
    queries="$(unbound_stat "$server" queries)"
    hits="$(unbound_stat "$server" cachehits)"
    prefetch="$(unbound_stat "$server" prefetch)"
    HITS[$run]+="$(awk -v h="$hits" -v q="$queries" 'BEGIN { printf "%.2f", q ? 100 * h / q : 0 }') "
    PREFETCH[$run]+="$prefetch "
  else
    HITS[$run]+="- "
    PREFETCH[$run]+="- "
  fi
}

# The status and flags of an answer to NAME from SERVER (default: the resolver on 127.0.0.1), as
# dig shows them with the DO bit, asked from CLIENT.
show_flags() {
  local client="$1" name="$2" server="${3:-127.0.0.1}" recurse=+recurse
  [ "$server" = 127.0.0.1 ] || recurse=+norecurse
  docker exec "$client" dig +tries=1 +time=5 "$recurse" +dnssec "@$server" "$name" A 2>&1 \
    | awk '/->>HEADER<<-/ { gsub(/,/, "", $6); status = $6 }
      /^;; flags:/ { sub(/^;; flags: /, ""); sub(/;.*/, ""); flags = $0 }
      END { printf "%s, flags %s", status, flags }'
}

check_answers() {
  FLAGS_STOCK="$(show_flags "$CLIENT_STOCK" "${ALIAS_PREFIX}0001")"
  FLAGS_OURS="$(show_flags "$CLIENT_OURS" "${ALIAS_PREFIX}0001")"
  # (an A/A run's "ours" is stock: it cannot know the zone)
  FLAGS_ZONE="not asked (A/A run)"
  [ -n "${GW_BENCH_AA:-}" ] || FLAGS_ZONE="$(show_flags "$CLIENT_OURS" "z0001.$ZONE")"
  FLAGS_AUTH="$(show_flags "$CLIENT" "z0001.$ZONE" "$NS1_IP")"
  [[ "$FLAGS_STOCK" == NOERROR* ]] || die "stock does not answer ${ALIAS_PREFIX}0001: $FLAGS_STOCK"
  [[ "$FLAGS_OURS" == NOERROR* ]] || die "ours does not answer ${ALIAS_PREFIX}0001: $FLAGS_OURS"
  [[ "$FLAGS_ZONE" == NOERROR* ]] || [ -n "${GW_BENCH_AA:-}" ] || die "ours does not answer z0001.$ZONE: $FLAGS_ZONE"
  [[ "$FLAGS_AUTH" == NOERROR* ]] || die "$NS1 does not answer z0001.$ZONE: $FLAGS_AUTH"
}

report() {
  local run
  local -A qps lat lost noerr hits prefetch server client perq others
  for run in "${RUNS[@]}"; do
    qps[$run]="$(median "${RATE[$run]}")"
    lat[$run]="$(median "${LAT[$run]}")"
    lost[$run]="$(median "${LOST[$run]}")"
    noerr[$run]="$(median "${NOERR[$run]}")"
    if [[ "${HITS[$run]}" == -* ]]; then
      hits[$run]=-
      prefetch[$run]=-
    else
      hits[$run]="$(median "${HITS[$run]}")"
      prefetch[$run]="$(median "${PREFETCH[$run]}")"
    fi
    server[$run]="$(median "${SCORES[$run]}")"
    client[$run]="$(median "${CCORES[$run]}")"
    perq[$run]="$(median "${PEROP[$run]}")"
    others[$run]="$(median "${OTHERS[$run]}")"
  done
  local r_qps unbound named dnsperf
  r_qps="$(ratio "${qps[ours]}" "${qps[stock]}")"
  unbound="$(docker exec "$OURS" unbound -V | awk 'NR == 1 { print $2 }')"
  named="$(docker exec "$NS1" named -v | awk '{ print $2 }')"
  dnsperf="$(docker exec "$CLIENT" dnsperf -h 2>&1 | awk '/^Version/ { print $2 }')"

  printf '\n'
  printf 'groundwork.server dns benchmark, %s, Debian %s containers, unbound %s, BIND %s, dnsperf %s\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$RELEASE" "$unbound" "$named" "$dnsperf"
  printf 'host: %s CPUs, %s; servers: CPUs %s, at most %s of them (--cpus); clients: CPUs %s\n' \
    "$(nproc)" "$(awk '/^MemTotal:/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)" \
    "$SERVER_CPUS" "$SHARE" "$CLIENT_CPUS"
  printf 'other containers on the engine (other sessions share the CPUs): %s at the start, %s at the end\n' \
    "$OTHERS_BEFORE" "$(others_running)"
  printf 'runs: dnsperf -l %s -c %s -q %s%s, %s names per query set; resolvers from a flushed cache warmed by one pass;\n' \
    "$SECONDS_RUN" "$CLIENTS" "$OUTSTANDING" "$([ "$QPS_CAP" = 0 ] || echo " -Q $QPS_CAP")" "$NAMES"
  printf '      one run after the other, ours and stock alternate; median of %s round(s); load average before: %s, after: %s\n' \
    "$ROUNDS" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'zone %s: %s A records, DNSSEC %s; answers (dig +dnssec):\n' "$ZONE" "$NAMES" "$([ "$DNSSEC" = 1 ] && echo on || echo off)"
  printf '  %-44s %s\n' "stock, ${ALIAS_PREFIX}0001 (Docker's DNS)" "$FLAGS_STOCK" \
    "ours, ${ALIAS_PREFIX}0001 (Docker's DNS)" "$FLAGS_OURS" \
    "ours, z0001.$ZONE" "$FLAGS_ZONE" \
    "ns1 (BIND, no recursion), z0001.$ZONE" "$FLAGS_AUTH"
  [ -z "${GW_BENCH_AA:-}" ] || printf 'A/A RUN: the "ours" resolver runs the stock configuration as well\n'

  printf '\nunbound options, ours | stock (unbound-checkconf -o):\n'
  awk -F'\t' '{ printf "  %-24s %30s | %s\n", $1, $2, $3 }' "$WORK/settings"

  printf '\n'
  # Column widths; a heading with µ gets one more (printf pads bytes, and µ takes two).
  local widths=(40 7 6 6 9 6 8 9 8 8 11) headings=(run QPS "lat µs" "lost %" "NOERROR %" "hit %" prefetch "srv cores" "cl cores" "srv µs/q" "other cores")
  local row='|' head='|' sep='|' i
  for i in "${!widths[@]}"; do
    row+=" %${widths[$i]}s |"
    head+=" %$((widths[i] + $([[ "${headings[$i]}" == *µ* ]] && echo 1 || echo 0)))s |"
    sep+="$(printf -- '-%.0s' $(seq $((widths[i] + 1)))):|"
  done
  row="${row/ %40s/ %-40s}"$'\n'
  head="${head/ %40s/ %-40s}"$'\n'
  sep="${sep/-:|/--|}"
  local label
  local -A labels=([ours]="ours: resolver, cached (Docker's names)" [stock]="stock: resolver, cached (Docker's names)"
    [zone]="ours: resolver, cached (the zone)" [auth]="ours: BIND, authoritative (the zone)")
  # shellcheck disable=SC2059  # the formats are ours
  {
    printf "$head" "${headings[@]}"
    printf '%s\n' "$sep"
    for run in "${RUNS[@]}"; do
      label="${labels[$run]}"
      printf "$row" "$label" "${qps[$run]}" "${lat[$run]}" "${lost[$run]}" "${noerr[$run]}" \
        "${hits[$run]}" "${prefetch[$run]}" "${server[$run]}" "${client[$run]}" "${perq[$run]}" "${others[$run]}"
    done
  }
  printf '\nQPS: answers per second (dnsperf); lat µs: mean latency; hit %%: answers from the cache\n'
  printf '(unbound-control: cachehits / queries during the run); prefetch: prefetches started during the\n'
  printf 'run; srv cores, cl cores: CPUs kept busy by the server and the client container; srv µs/q:\n'
  printf 'CPU time of the server container per answer; other cores: CPUs the rest of the machine kept\n'
  printf 'busy meanwhile (/proc/stat less the benchmark'"'"'s containers; 0 on an idle machine).\n\n'
  printf 'ours / stock  QPS, cached answers = %5sx   target >= %sx   %s\n' "$r_qps" "$TARGET" "$(verdict "$r_qps" "$TARGET")"
  if [ "${perq[ours]}" != n/a ] && [ "${perq[stock]}" != n/a ]; then
    printf 'stock / ours  server CPU per answer = %sx\n' "$(ratio "${perq[stock]}" "${perq[ours]}")"
  fi
  if [ "$ROUNDS" -gt 1 ]; then
    printf '\nevery round (QPS):\n'
    for run in "${RUNS[@]}"; do
      printf '  %-11s %s\n' "$run" "${RATE[$run]}"
    done
    printf '  %-11s %s   (median %s)\n' ours/stock "$(round_ratios "${RATE[ours]}" "${RATE[stock]}")" \
      "$(median "$(round_ratios "${RATE[ours]}" "${RATE[stock]}")")"
    printf 'every round (server µs per answer):\n'
    for run in "${RUNS[@]}"; do
      printf '  %-11s %s\n' "$run" "${PEROP[$run]}"
    done
    printf 'every round (cores the rest of the machine kept busy: other processes and containers):\n'
    for run in "${RUNS[@]}"; do
      printf '  %-11s %s\n' "$run" "${OTHERS[$run]}"
    done
  fi
}

main() {
  ensure_container_workspace "$RELEASE"
  cpusets
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  WORK="$(mktemp -d /tmp/gwbench-dns.XXXXXX)"
  OTHERS_BEFORE="$(others_running)"
  [ "$OTHERS_BEFORE" = 0 ] || warn "$OTHERS_BEFORE other containers are running on this engine: they share the CPUs"
  LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
  start_all
  NS1_IP="$(address_of "$NS1")"
  [ -n "$NS1_IP" ] || die "no address of $NS1 on $NETWORK"

  log "Installing Debian's unbound in $STOCK${GW_BENCH_AA:+ and $OURS}, dnsperf and dig in the clients"
  local specs=("$STOCK:unbound dns-root-data" "$CLIENT_OURS:dnsperf bind9-dnsutils"
    "$CLIENT_STOCK:dnsperf bind9-dnsutils" "$CLIENT:dnsperf bind9-dnsutils")
  [ -z "${GW_BENCH_AA:-}" ] || specs+=("$OURS:unbound dns-root-data")
  install_packages "${specs[@]}"
  configure_stock "$STOCK"
  configure_ours
  write_queries
  compare_settings
  check_answers

  local dnssec=()
  [ "$DNSSEC" = 0 ] || dnssec=(-D)
  declare -gA RATE SCORES CCORES PEROP LAT LOST NOERR HITS PREFETCH OTHERS
  RUNS=(ours stock zone auth)
  [ -z "${GW_BENCH_AA:-}" ] || RUNS=(ours stock auth)
  local round
  for round in $(seq "$ROUNDS"); do
    ROUND="$round"
    # Alternate which resolver goes first, so that neither always runs right after the other.
    if [ $((round % 2)) -eq 1 ]; then
      log "Round $round/$ROUNDS: ours, stock, then ${RUNS[*]:2}; ${SECONDS_RUN}s each"
      measure ours "$CLIENT_OURS" "$OURS" 127.0.0.1 upstream.txt
      measure stock "$CLIENT_STOCK" "$STOCK" 127.0.0.1 upstream.txt
    else
      log "Round $round/$ROUNDS: stock, ours, then ${RUNS[*]:2}; ${SECONDS_RUN}s each"
      measure stock "$CLIENT_STOCK" "$STOCK" 127.0.0.1 upstream.txt
      measure ours "$CLIENT_OURS" "$OURS" 127.0.0.1 upstream.txt
    fi
    [ -n "${GW_BENCH_AA:-}" ] || measure zone "$CLIENT_OURS" "$OURS" 127.0.0.1 zone.txt
    # as a validating resolver asks: with the DO bit when the zone is signed
    measure auth "$CLIENT" "$NS1" "$NS1_IP" zone.txt "${dnssec[@]}"
  done
  report
}

main "$@"
