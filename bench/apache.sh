#!/usr/bin/env bash
# Benchmark: the reverse proxy that groundwork.server.apache configures, against Debian's
# stock apache2 with the ProxyPass site of the documentation and against the proxy that
# groundwork.server.nginx configures from the same site model, side by side in one run on
# the same machine; plus a backend hit directly. During each run it counts the proxy's
# established connections to the backends and the connections the backends accepted, to
# show whether the proxy reuses its backend connections.
# Prints a table and the ratios with PASS/MISS against the targets of docs/BENCHMARKS.md.
# Exits 0 whether or not a target is met (it is a measurement), non-zero on errors.
#
# Containers (all removed on exit, also on failure or Ctrl-C), network gwbench-apache:
#   gwbench-apache-backend1, -backend2  Debian nginx answering a fixed 1 KB body
#   gwbench-apache-ours                 groundwork.server.apache (bench/apache/ours.yml)
#   gwbench-apache-stock                Debian apache2, stock configuration + ProxyPass site
#   gwbench-apache-nginx                groundwork.server.nginx, the same model
#   gwbench-apache-client               the load generator: wrk
# The names differ from bench/nginx.sh's, so both benchmarks can exist at the same time.
# CPU: the client is pinned to CPU 0, every server container to CPU 1, so that the load
# generator and the servers do not steal each other's core on a 2-core machine.
#
# Settings (environment):
#   GW_BENCH_RELEASE=12        Debian release of the containers (12 or 13)
#   GW_BENCH_DURATION=10       seconds per measurement
#   GW_BENCH_WARMUP=3          seconds of warm-up before each measurement
#   GW_BENCH_ROUNDS=3          rounds of all measurements; the median is reported
#   GW_BENCH_CLIENT_CPUS=0     cpuset of the client container
#   GW_BENCH_SERVER_CPUS=1     cpuset of the server containers
#   GW_BENCH_KEEP=1            keep the containers after the run (for inspection)
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$GW_ROOT/scripts/lib/images.sh"
# shellcheck source=scripts/lib/containers.sh
. "$GW_ROOT/scripts/lib/containers.sh"

BENCH_DIR="$GW_ROOT/bench/apache"
RELEASE="${GW_BENCH_RELEASE:-12}"
DURATION="${GW_BENCH_DURATION:-10}"
WARMUP="${GW_BENCH_WARMUP:-3}"
ROUNDS="${GW_BENCH_ROUNDS:-3}"
THREADS=2
CONNECTIONS=64
BODY_BYTES=1024
TARGET_STOCK=2     # ours >= 2x stock Apache requests/s
TARGET_NGINX=0.8   # ours >= 0.8x our nginx requests/s

NETWORK=gwbench-apache
BACKENDS=(gwbench-apache-backend1 gwbench-apache-backend2)
OURS=gwbench-apache-ours
STOCK=gwbench-apache-stock
NGINX=gwbench-apache-nginx
CLIENT=gwbench-apache-client
SERVERS=("${BACKENDS[@]}" "$OURS" "$STOCK" "$NGINX")
CONTAINERS=("${SERVERS[@]}" "$CLIENT")
LABEL=org.groundwork.bench=apache
SITE_NAME=bench.gwbench.test
WORK="$(mktemp -d /tmp/gwbench-apache.XXXXXX)"
# The measurements in the order of the table: name, then the row's label.
MEASUREMENTS=(direct stock ours nginx)
declare -A LABELS=(
  [direct]="direct: requests to backend1"
  [stock]="stock: Debian's apache2 + a2enmod proxy proxy_http + ProxyPass"
  [ours]="ours: requests via groundwork.server.apache"
  [nginx]="nginx: requests via groundwork.server.nginx (same model)"
)

for setting in DURATION WARMUP ROUNDS; do
  [[ "${!setting}" =~ ^[1-9][0-9]*$ ]] || die "GW_BENCH_$setting must be a positive integer (got '${!setting}')"
done

cleanup() {
  local rc=$?
  # A sampler still running in the background (after a failure) belongs to this script.
  local pid
  for pid in $(jobs -p); do
    kill "$pid" 2>/dev/null || true
  done
  remove_all_unless_kept
  rm -rf "$WORK"
  exit "$rc"
}

# ---------------------------------------------------------------------------------------
# The five servers
# ---------------------------------------------------------------------------------------
# Each backend's body: its name on the first line, padded to exactly BODY_BYTES bytes.
configure_backends() {
  local name padding
  for name in "${BACKENDS[@]}"; do
    padding="$(head -c $((BODY_BYTES - ${#name} - 2)) /dev/zero | tr '\0' x)"
    sed -e "s/@NAME@/$name/" -e "s/@PADDING@/$padding/" "$BENCH_DIR/backend.conf" \
      | put_file "$name" /etc/nginx/sites-enabled/default
    docker exec "$name" nginx -t -q || die "nginx -t failed in $name"
    docker exec "$name" systemctl reload nginx
  done
}

# Debian's apache2 as installed, the two modules the documentation enables, and the
# ProxyPass lines in Debian's default site.
configure_stock() {
  sed -e "s/@BACKEND@/$BACKEND1_IP:80/" "$BENCH_DIR/stock-site.conf" \
    | put_file "$STOCK" /etc/apache2/sites-available/000-default.conf
  docker exec "$STOCK" a2enmod -q proxy proxy_http >/dev/null
  docker exec "$STOCK" apache2ctl -t 2>/dev/null || die "apache2ctl -t failed in $STOCK"
  docker exec "$STOCK" systemctl restart apache2
}

configure_ours() {
  log "Applying groundwork.server.apache to $OURS and groundwork.server.nginx to $NGINX (bench/apache/ours.yml)"
  (cd "$GW_ROOT" && ansible-playbook -i "$BENCH_DIR/inventory.yml" "$BENCH_DIR/ours.yml" \
    -e "{\"gwbench_backends\": [\"$BACKEND1_IP\", \"$BACKEND2_IP\"], \"gwbench_site_name\": \"$SITE_NAME\"}") \
    >"$WORK/ours.log" 2>&1 || {
    tail -n 40 "$WORK/ours.log" >&2
    die "applying the roles to $OURS and $NGINX failed (bench/apache/ours.yml)"
  }
}

# Every answer must be the 1 KB body of the expected backend(s), before a figure means
# anything. Every request carries the site's name: the roles refuse requests for host
# names they do not serve.
check_target() {
  local url="$1" want="$2" seen
  seen="$(docker exec "$CLIENT" sh -c \
    "for i in 1 2 3 4 5 6 7 8; do curl -sS --max-time 5 -H 'Host: $SITE_NAME' -w '\n%{http_code} %{size_download}\n' '$url' | sed -n '1p;\$p' | tr '\n' ' '; echo; done" \
    | sort -u | tr '\n' '|')"
  [ "$seen" = "$want" ] || die "$url answered '$seen' (expected '$want')"
}

check_targets() {
  local one="gwbench-apache-backend1 200 $BODY_BYTES |" two="gwbench-apache-backend2 200 $BODY_BYTES |"
  check_target "http://$BACKEND1_IP:80/" "$one"
  check_target "http://$STOCK_IP:80/" "$one"
  check_target "http://$OURS_IP:80/" "$one$two"
  check_target "http://$NGINX_IP:80/" "$one$two"
}

# Connections the backends accepted and requests they answered so far, summed over both
# (from stub_status on their loopback port): "ACCEPTS REQUESTS".
backend_counters() {
  local name accepts=0 requests=0 a r
  for name in "${BACKENDS[@]}"; do
    read -r a _ r < <(docker exec "$name" curl -sS --max-time 5 http://127.0.0.1:8080/ | sed -n 3p)
    [[ "$a$r" =~ ^[0-9]+$ ]] || die "no stub_status counters from $name"
    accepts=$((accepts + a))
    requests=$((requests + r))
  done
  echo "$accepts $requests"
}

# Established TCP connections from PROXY to port 80 (the backends; the clients' connections
# to the proxy have port 80 on the proxy's side), with ss, or from /proc/net/tcp without it.
backend_connections() {
  docker exec "$1" sh -c "
    if command -v ss >/dev/null 2>&1; then
      ss -Htn state established '( dport = :80 )' | wc -l
    else
      awk 'NR > 1 && \$4 == \"01\" && \$3 ~ /:0050\$/' /proc/net/tcp | wc -l
    fi"
}

# Context switches (voluntary and involuntary) of every thread in container NAME so far,
# one "TID COUNT" line per thread, from the container's /proc.
context_switches() {
  docker exec "$1" sh -c 'cat /proc/[0-9]*/task/[0-9]*/status 2>/dev/null' \
    | awk '/^Pid:/ { tid = $2 } /^(non)?voluntary_ctxt_switches:/ { n[tid] += $2 }
           END { for (tid in n) print tid, n[tid] }'
}

# switches_between BEFORE AFTER: the context switches made between the two snapshots of
# context_switches by the threads alive at the end (a thread started meanwhile counts in
# full; one that ended meanwhile is missing, as Apache's children come and go, so this is
# a lower bound).
switches_between() {
  awk 'NR == FNR { before[$1] = $2; next } { total += $2 - (($1 in before) ? before[$1] : 0) }
       END { print total + 0 }' "$1" "$2"
}

# Three samples of backend_connections PROXY during the measurement, at 1/4, 1/2 and 3/4
# of it: "N N N".
sample_connections() {
  local proxy="$1" step samples=()
  step="$(awk -v d="$DURATION" 'BEGIN { printf "%.2f", d / 4 }')"
  while [ "${#samples[@]}" -lt 3 ]; do
    sleep "$step"
    samples+=("$(backend_connections "$proxy")")
  done
  echo "${samples[*]}"
}

# http_rps NAME URL PROXY: requests/s of wrk with 64 keep-alive connections against URL;
# PROXY is the proxy container ("" for the backend directly). The server cores count the
# proxy and both backends. For a proxy, also the established backend connections during
# the load and the connections the backends accepted in the measured seconds.
http_rps() {
  local name="$1" url="$2" proxy="$3"
  local wrk=(wrk -t"$THREADS" -c"$CONNECTIONS" -H "Host: $SITE_NAME")
  local servers=("${BACKENDS[@]}")
  [ -z "$proxy" ] || servers+=("$proxy")
  run_load "$name-warmup" "${servers[*]}" "${wrk[@]}" -d"${WARMUP}s" "$url"
  local before after sampler="" measured="${proxy:-${BACKENDS[0]}}" switches
  before="$(backend_counters)"
  context_switches "$measured" >"$WORK/$name.csw0"
  if [ -n "$proxy" ]; then
    sample_connections "$proxy" >"$WORK/$name.pool" &
    sampler=$!
  fi
  run_load "$name" "${servers[*]}" "${wrk[@]}" -d"${DURATION}s" "$url"
  context_switches "$measured" >"$WORK/$name.csw1"
  [ -z "$sampler" ] || wait "$sampler" || die "sampling the backend connections of $proxy failed"
  after="$(backend_counters)"
  local out rps
  out="$(cat "$WORK/$name.out")"
  if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then
    printf '%s\n' "$out" >&2
    die "$name ($url) answered with errors under load"
  fi
  if grep -q 'Socket errors' <<<"$out"; then
    warn "$name: $(grep 'Socket errors' <<<"$out")"
  fi
  rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")"
  [ -n "$rps" ] || die "no Requests/sec in the output of wrk for $url: $out"
  record "$name" "$rps"
  switches="$(switches_between "$WORK/$name.csw0" "$WORK/$name.csw1")"
  CSW[$name]+="$(awk -v c="$switches" -v r="$rps" -v d="$DURATION" 'BEGIN { printf "%.1f", c / (r * d) }') "
  if [ -n "$proxy" ]; then
    local a0 r0 a1 r1
    read -r a0 r0 <<<"$before"
    read -r a1 r1 <<<"$after"
    POOL[$name]+="$(cat "$WORK/$name.pool") "
    ACCEPTS[$name]+="$((a1 - a0)) "
    PERCONN[$name]+="$(awk -v r=$((r1 - r0)) -v a=$((a1 - a0)) 'BEGIN { printf "%.0f", a ? r / a : r }') "
  fi
}

range() {
  tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print (lo == hi ? lo : lo "-" hi) }'
}

# round_ratios "A1 A2 ..." "B1 B2 ...": A1/B1 A2/B2 ...
round_ratios() {
  paste -d' ' <(tr ' ' '\n' <<<"$1" | grep -v '^$') <(tr ' ' '\n' <<<"$2" | grep -v '^$') \
    | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 / $2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "PASS" : "MISS") }'; }

dashes() { printf -- '-%.0s' $(seq "$1"); }

report() {
  local name
  local -A val server client perop csw
  for name in "${MEASUREMENTS[@]}"; do
    csw[$name]="$(median "${CSW[$name]}")"
    val[$name]="$(median "${RATE[$name]}")"
    server[$name]="$(median "${SCORES[$name]}")"
    client[$name]="$(median "${CCORES[$name]}")"
    perop[$name]="$(median "${PEROP[$name]}")"
  done
  local r_stock r_nginx r_direct
  r_stock="$(ratio "${val[ours]}" "${val[stock]}")"
  r_nginx="$(ratio "${val[ours]}" "${val[nginx]}")"
  r_direct="$(ratio "${val[ours]}" "${val[direct]}")"
  local apache_version nginx_version mpm
  apache_version="$(docker exec "$OURS" apache2 -v | sed -n 's/^Server version: //p')"
  nginx_version="$(docker exec "$NGINX" nginx -v 2>&1 | sed 's/^nginx version: //')"
  # The role's sizing, as its configuration states it.
  mpm="$(docker exec "$OURS" sh -c 'grep -h "^# Event MPM" /etc/apache2/conf-enabled/*.conf /etc/apache2/conf-available/*.conf 2>/dev/null | head -n1' | sed 's/^# //')"

  printf '\n'
  printf 'groundwork.server Apache benchmark, %s, Debian %s containers, %s CPUs: client on CPU %s, servers on CPU %s\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$RELEASE" "$(nproc)" "$CLIENT_CPUS" "$SERVER_CPUS"
  printf '%s (ours and stock), %s (nginx); ours: %s\n' "$apache_version" "$nginx_version" "${mpm:-MPM sizing not found}"
  printf '%s s per measurement after %s s warm-up; median of %s round(s); load average before: %s, after: %s\n\n' \
    "$DURATION" "$WARMUP" "$ROUNDS" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)"
  local row='| %-66s | %10s | %12s | %12s | %15s | %13s |\n'
  # shellcheck disable=SC2059  # the format is ours
  {
    printf "$row" measurement "requests/s" "server cores" "client cores" "server µs / req" "ctx sw / req"
    printf '|%s|%s|%s|%s|%s|%s|\n' "$(dashes 68)" "$(dashes 12)" "$(dashes 14)" "$(dashes 14)" "$(dashes 17)" "$(dashes 15)"
    for name in "${MEASUREMENTS[@]}"; do
      printf "$row" "${LABELS[$name]}" "${val[$name]}" "${server[$name]}" "${client[$name]}" "${perop[$name]}" "${csw[$name]}"
    done
  }
  printf '\nwrk -t%s -c%s -d%ss (keep-alive), %s-byte responses; server cores: the proxy and both backends;\n' \
    "$THREADS" "$CONNECTIONS" "$DURATION" "$BODY_BYTES"
  printf 'ctx sw / req: context switches of the proxy'"'"'s threads (backend1'"'"'s for direct) per request.\n\n' 
  printf 'ours / stock Apache  requests/s = %5sx   target >= %sx    %s\n' "$r_stock" "$TARGET_STOCK" "$(verdict "$r_stock" "$TARGET_STOCK")"
  printf 'ours / our nginx     requests/s = %5sx   target >= %sx  %s\n' "$r_nginx" "$TARGET_NGINX" "$(verdict "$r_nginx" "$TARGET_NGINX")"
  printf 'ours / direct        requests/s = %5sx   (the cost of the extra hop)\n' "$r_direct"

  printf '\nConnections to the backends while %s client connections send requests (all rounds):\n' "$CONNECTIONS"
  row='| %-8s | %34s | %32s | %30s |\n'
  # shellcheck disable=SC2059
  {
    printf "$row" proxy "established during load (samples)" "new backend connections / run" "requests per backend connection"
    printf '|%s|%s|%s|%s|\n' "$(dashes 10)" "$(dashes 36)" "$(dashes 34)" "$(dashes 32)"
    for name in stock ours nginx; do
      printf "$row" "$name" "$(range "${POOL[$name]}") (median $(median "${POOL[$name]}"))" \
        "$(median "${ACCEPTS[$name]}")" "$(median "${PERCONN[$name]}")"
    done
  }
  printf '(established: ss in the proxy, 3 samples per run; new connections and requests: the backends'"'"' stub_status\n'
  printf ' counters over the measured %s s, medians of the rounds)\n' "$DURATION"
  if [ "$ROUNDS" -gt 1 ]; then
    printf '\nevery round (requests/s):\n'
    for name in "${MEASUREMENTS[@]}"; do
      printf '  %-7s %s\n' "$name" "${RATE[$name]}"
    done
    # Per round: other load on the machine shifts a whole round, the ratio less.
    printf '  ours/stock %s\n' "$(round_ratios "${RATE[ours]}" "${RATE[stock]}")"
    printf '  ours/nginx %s\n' "$(round_ratios "${RATE[ours]}" "${RATE[nginx]}")"
  fi
}

main() {
  ensure_container_workspace "$RELEASE"
  cpusets
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
  start_containers
  BACKEND1_IP="$(address_of "${BACKENDS[0]}")"
  BACKEND2_IP="$(address_of "${BACKENDS[1]}")"
  STOCK_IP="$(address_of "$STOCK")"
  OURS_IP="$(address_of "$OURS")"
  NGINX_IP="$(address_of "$NGINX")"

  log "Installing nginx in the backends, apache2 in the stock proxy, wrk in the client"
  install_packages "${BACKENDS[0]}:nginx curl" "${BACKENDS[1]}:nginx curl" "$STOCK:apache2" \
    "$CLIENT:wrk curl ca-certificates"
  configure_backends
  configure_stock
  configure_ours
  check_targets

  declare -gA RATE SCORES CCORES PEROP CSW POOL ACCEPTS PERCONN
  local round
  for round in $(seq "$ROUNDS"); do
    log "Round $round/$ROUNDS: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s against direct, stock, ours, nginx"
    http_rps direct "http://$BACKEND1_IP:80/" ""
    http_rps stock "http://$STOCK_IP:80/" "$STOCK"
    http_rps ours "http://$OURS_IP:80/" "$OURS"
    http_rps nginx "http://$NGINX_IP:80/" "$NGINX"
  done
  report
}

main "$@"
