#!/usr/bin/env bash
# Benchmark: the reverse proxy that groundwork.server.nginx configures, against Debian's
# stock nginx.conf with a plain proxy_pass site and against a backend hit directly,
# side by side in one run on the same containers; then TLS full handshakes per second
# with an ECDSA P-256 certificate against the same server with an RSA-2048 one.
# Prints a table and the ratios with PASS/MISS against the targets of docs/BENCHMARKS.md.
# Exits 0 whether or not a target is met (it is a measurement), non-zero on errors.
#
# Containers (all removed on exit, also on failure or Ctrl-C), network gwbench:
#   gwbench-backend1, gwbench-backend2  Debian nginx answering a fixed body
#   gwbench-ours                        configured by the role (bench/nginx/ours.yml)
#   gwbench-stock                       Debian nginx, stock nginx.conf + proxy_pass site
#   gwbench-client                      the load generators: wrk, bench/nginx/handshakes.py
# CPU: the client is pinned to CPU 0, every server container to CPU 1, so that the load
# generator and the servers do not steal each other's core on a 2-core machine. For the
# TLS handshakes the proxy is also capped (docker update --cpus) so that it, and not the
# client, is the bottleneck.
#
# Settings (environment):
#   GW_BENCH_RELEASE=12        Debian release of the containers (12 or 13)
#   GW_BENCH_DURATION=10       seconds per measurement
#   GW_BENCH_WARMUP=3          seconds of warm-up before each measurement
#   GW_BENCH_ROUNDS=3          rounds of all measurements; the median is reported
#   GW_BENCH_TLS_CLIENTS=8     concurrent handshake clients (processes)
#   GW_BENCH_TLS_SERVER_CPUS=0.25  CPU cap of the proxy during the handshake measurements
#   GW_BENCH_CLIENT_CPUS=0     cpuset of the client container
#   GW_BENCH_SERVER_CPUS=1     cpuset of the server containers
#   GW_BENCH_KEEP=1            keep the containers after the run (for inspection)
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$GW_ROOT/scripts/lib/images.sh"
# shellcheck source=scripts/lib/containers.sh
. "$GW_ROOT/scripts/lib/containers.sh"

BENCH_DIR="$GW_ROOT/bench/nginx"
RELEASE="${GW_BENCH_RELEASE:-12}"
DURATION="${GW_BENCH_DURATION:-10}"
WARMUP="${GW_BENCH_WARMUP:-3}"
ROUNDS="${GW_BENCH_ROUNDS:-3}"
TLS_CLIENTS="${GW_BENCH_TLS_CLIENTS:-8}"
TLS_SERVER_CPUS="${GW_BENCH_TLS_SERVER_CPUS:-0.25}"
THREADS=2
CONNECTIONS=64
TARGET_PROXY=2   # ours >= 2x stock requests/s
TARGET_TLS=3     # ECDSA >= 3x RSA full handshakes/s

NETWORK=gwbench
BACKENDS=(gwbench-backend1 gwbench-backend2)
OURS=gwbench-ours
STOCK=gwbench-stock
CLIENT=gwbench-client
SERVERS=("${BACKENDS[@]}" "$OURS" "$STOCK")
CONTAINERS=("${SERVERS[@]}" "$CLIENT")
LABEL=org.groundwork.bench=nginx
CERT_NAME=bench                          # /etc/ssl/groundwork/bench/ on gwbench-ours
SITE_NAME=bench.gwbench.test
WORK="$(mktemp -d /tmp/gwbench-nginx.XXXXXX)"

for setting in DURATION WARMUP ROUNDS TLS_CLIENTS; do
  [[ "${!setting}" =~ ^[1-9][0-9]*$ ]] || die "GW_BENCH_$setting must be a positive integer (got '${!setting}')"
done
[[ "$TLS_SERVER_CPUS" =~ ^[0-9]*\.?[0-9]+$ ]] || die "GW_BENCH_TLS_SERVER_CPUS must be a number of CPUs (got '$TLS_SERVER_CPUS')"

cleanup() {
  local rc=$?
  remove_all_unless_kept
  rm -rf "$WORK"
  exit "$rc"
}

reload_nginx() {
  docker exec "$1" nginx -t -q || die "nginx -t failed in $1"
  docker exec "$1" systemctl reload nginx
}

# ---------------------------------------------------------------------------------------
# The four servers
# ---------------------------------------------------------------------------------------
configure_backends() {
  local name
  for name in "${BACKENDS[@]}"; do
    sed "s/@NAME@/$name/" "$BENCH_DIR/backend.conf" | put_file "$name" /etc/nginx/sites-enabled/default
    reload_nginx "$name"
  done
}

configure_stock() {
  sed -e "s/@BACKEND1@/$BACKEND1_IP/" -e "s/@BACKEND2@/$BACKEND2_IP/" "$BENCH_DIR/stock-site.conf" \
    | put_file "$STOCK" /etc/nginx/sites-enabled/default
  reload_nginx "$STOCK"
}

# Certificates as the tls role lays them out: /etc/ssl/groundwork/<name>/. The ECDSA
# P-256 one is what the role serves; the RSA-2048 one waits in /root for the swap.
make_certificates() {
  docker exec "$OURS" sh -ec "
    umask 077
    mkdir -p /etc/ssl/groundwork/$CERT_NAME /root/rsa
    openssl req -x509 -nodes -days 7 -subj /CN=$SITE_NAME -addext subjectAltName=DNS:$SITE_NAME \
      -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
      -keyout /etc/ssl/groundwork/$CERT_NAME/privkey.pem -out /etc/ssl/groundwork/$CERT_NAME/fullchain.pem 2>/dev/null
    openssl req -x509 -nodes -days 7 -subj /CN=$SITE_NAME -addext subjectAltName=DNS:$SITE_NAME \
      -newkey rsa:2048 -keyout /root/rsa/privkey.pem -out /root/rsa/fullchain.pem 2>/dev/null
    chmod 0644 /etc/ssl/groundwork/$CERT_NAME/fullchain.pem /root/rsa/fullchain.pem
    cp -p /etc/ssl/groundwork/$CERT_NAME/privkey.pem /root/ecdsa-privkey.pem
    cp -p /etc/ssl/groundwork/$CERT_NAME/fullchain.pem /root/ecdsa-fullchain.pem"
}

configure_ours() {
  make_certificates
  log "Applying groundwork.server.nginx to $OURS (bench/nginx/ours.yml)"
  (cd "$GW_ROOT" && ansible-playbook -i "$BENCH_DIR/inventory.yml" "$BENCH_DIR/ours.yml" \
    -e "{\"gwbench_backends\": [\"$BACKEND1_IP\", \"$BACKEND2_IP\"], \"gwbench_cert_name\": \"$CERT_NAME\", \"gwbench_site_name\": \"$SITE_NAME\"}") \
    >"$WORK/ours.log" 2>&1 || {
    tail -n 40 "$WORK/ours.log" >&2
    die "applying the role to $OURS failed (bench/nginx/ours.yml)"
  }
}

# Put the ECDSA or the RSA certificate in place under the same name and reload: the
# server configuration stays byte for byte the same.
use_certificate() {
  local kind="$1" src
  case "$kind" in
    ecdsa) src="/root/ecdsa-" ;;
    rsa) src="/root/rsa/" ;;
  esac
  docker exec "$OURS" sh -ec "
    cp -p ${src}privkey.pem /etc/ssl/groundwork/$CERT_NAME/privkey.pem
    cp -p ${src}fullchain.pem /etc/ssl/groundwork/$CERT_NAME/fullchain.pem"
  reload_nginx "$OURS"
  sleep 1
  local key
  key="$(docker exec "$CLIENT" sh -c \
    "openssl s_client -connect $OURS_IP:443 -servername $SITE_NAME </dev/null 2>/dev/null | sed -n 's/^Server public key is //p'")"
  case "$kind:$key" in
    "ecdsa:256 bit" | "rsa:2048 bit") ;;
    *) die "after switching to the $kind certificate the server's key is '$key'" ;;
  esac
}

# The backend answers with its name, and each proxy must reach both backends, before a
# figure means anything. Every request carries the site's name: the role refuses
# requests for host names it does not serve.
check_target() {
  local url="$1" want="$2" seen
  seen="$(docker exec "$CLIENT" sh -c \
    "for i in 1 2 3 4; do curl -sS --max-time 5 -H 'Host: $SITE_NAME' -w ' %{http_code}' '$url' | tr -d '\n'; echo; done" \
    | sort -u | tr '\n' ' ')"
  [ "$seen" = "$want" ] || die "$url answered '$seen' (expected '$want')"
}

check_targets() {
  check_target "http://$BACKEND1_IP:80/" "gwbench-backend1 200 "
  check_target "http://$STOCK_IP:80/" "gwbench-backend1 200 gwbench-backend2 200 "
  check_target "http://$OURS_IP:80/" "gwbench-backend1 200 gwbench-backend2 200 "
}

# http_rps NAME URL SERVER...: requests/s of wrk with 64 keep-alive connections.
http_rps() {
  local name="$1" url="$2"
  shift 2
  local wrk=(wrk -t"$THREADS" -c"$CONNECTIONS" -H "Host: $SITE_NAME")
  run_load "$name-warmup" "$*" "${wrk[@]}" -d"${WARMUP}s" "$url"
  run_load "$name" "$*" "${wrk[@]}" -d"${DURATION}s" "$url"
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
}

# tls_hps KIND: full TLS handshakes/s against the proxy with the KIND certificate.
# bench/nginx/handshakes.py: TLS_CLIENTS processes, each connecting, completing a
# handshake with SNI and a fresh session (none offered, so never resumed) and closing.
tls_hps() {
  local kind="$1" out
  use_certificate "$kind"
  local hs=(python3 /root/handshakes.py "$OURS_IP" 443 "$SITE_NAME" "$TLS_CLIENTS")
  run_load "$kind-warmup" "$OURS" "${hs[@]}" "$WARMUP"
  run_load "$kind" "$OURS" "${hs[@]}" "$DURATION"
  out="$(cat "$WORK/$kind.out")"
  # handshakes=N seconds=S resumed=R failed=F
  local -A f
  local pair
  for pair in $out; do
    f[${pair%%=*}]="${pair#*=}"
  done
  if [ "${f[resumed]:-x}" != 0 ] || [ "${f[failed]:-x}" != 0 ]; then
    die "handshakes against $OURS_IP:443 ($kind): $out"
  fi
  record "$kind" "$(awk -v n="${f[handshakes]}" -v s="${f[seconds]}" 'BEGIN { printf "%.0f", n / s }')"
}

# Signatures per second of one core of the proxy's CPU (context for the TLS figures).
# OpenSSL 3.0 prints "rsa 2048 bits ... sign/s verify/s", 3.5 "rsa2048 ... keygens/s sign/s
# verify/s" (after a KEM table for the same key): take the column under "sign/s".
signature_speed() {
  docker exec "$OURS" openssl speed -seconds 1 rsa2048 ecdsap256 2>/dev/null | awk '
    /sign\/s/ { col = 0; for (i = 1; i <= NF; i++) if ($i == "sign/s") col = NF - i; next }
    /(^| )(encaps|decaps)/ { col = -1 }
    col >= 0 && /^ *rsa ?2048( bits)? / { rsa = $(NF - col) }
    col >= 0 && /bits ecdsa \(nistp256\)/ { ec = $(NF - col) }
    END { if (rsa && ec) printf "%.0f %.0f", rsa, ec }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "PASS" : "MISS") }'; }

report() {
  local name
  local -A val server client perop
  for name in direct stock ours ecdsa rsa; do
    val[$name]="$(median "${RATE[$name]}")"
    server[$name]="$(median "${SCORES[$name]}")"
    client[$name]="$(median "${CCORES[$name]}")"
    perop[$name]="$(median "${PEROP[$name]}")"
  done
  local r_stock r_direct r_tls
  r_stock="$(ratio "${val[ours]}" "${val[stock]}")"
  r_direct="$(ratio "${val[ours]}" "${val[direct]}")"
  r_tls="$(ratio "${val[ecdsa]}" "${val[rsa]}")"
  local nginx_ours nginx_stock openssl_ours
  nginx_ours="$(docker exec "$OURS" nginx -v 2>&1 | sed 's/^nginx version: //')"
  nginx_stock="$(docker exec "$STOCK" nginx -v 2>&1 | sed 's/^nginx version: //')"
  openssl_ours="$(docker exec "$OURS" openssl version | cut -d' ' -f1-2)"

  printf '\n'
  printf 'groundwork.server nginx benchmark, %s, Debian %s containers, %s CPUs: client on CPU %s, servers on CPU %s\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$RELEASE" "$(nproc)" "$CLIENT_CPUS" "$SERVER_CPUS"
  printf '%s (ours) and %s (stock), %s; %s s per measurement after %s s warm-up; median of %s round(s)\n\n' \
    "$nginx_ours" "$nginx_stock" "$openssl_ours" "$DURATION" "$WARMUP" "$ROUNDS"
  local row='| %-56s | %10s | %12s | %12s | %14s |\n'
  # shellcheck disable=SC2059  # the format is ours
  {
    printf "$row" measurement "per second" "server cores" "client cores" "server µs / op"
    printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..58})" "$(printf -- '-%.0s' {1..12})" \
      "$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..14})" "$(printf -- '-%.0s' {1..16})"
    printf "$row" "direct: requests to backend1" "${val[direct]}" "${server[direct]}" "${client[direct]}" "${perop[direct]}"
    printf "$row" "stock: requests via Debian's nginx.conf + proxy_pass" "${val[stock]}" "${server[stock]}" "${client[stock]}" "${perop[stock]}"
    printf "$row" "ours: requests via groundwork.server.nginx" "${val[ours]}" "${server[ours]}" "${client[ours]}" "${perop[ours]}"
    printf "$row" "ours, TLS full handshakes, ECDSA P-256 (cap $TLS_SERVER_CPUS CPU)" "${val[ecdsa]}" "${server[ecdsa]}" "${client[ecdsa]}" "${perop[ecdsa]}"
    printf "$row" "ours, TLS full handshakes, RSA-2048 (cap $TLS_SERVER_CPUS CPU)" "${val[rsa]}" "${server[rsa]}" "${client[rsa]}" "${perop[rsa]}"
  }
  printf '\nrequests: wrk -t%s -c%s -d%ss (keep-alive); server cores: the proxy and both backends\n' "$THREADS" "$CONNECTIONS" "$DURATION"
  printf '(backend1 alone for direct); handshakes: %s clients, server cores: the proxy.\n\n' "$TLS_CLIENTS"
  printf 'ours / stock   requests/s  = %5sx   target >= %sx   %s\n' "$r_stock" "$TARGET_PROXY" "$(verdict "$r_stock" "$TARGET_PROXY")"
  printf 'ours / direct  requests/s  = %5sx   (the cost of the extra hop)\n' "$r_direct"
  printf 'ECDSA / RSA    handshakes/s = %5sx   target >= %sx   %s\n' "$r_tls" "$TARGET_TLS" "$(verdict "$r_tls" "$TARGET_TLS")"
  if [ -n "$SIGNATURES" ]; then
    local rsa_sign ec_sign
    read -r rsa_sign ec_sign <<<"$SIGNATURES"
    printf '(openssl speed on this CPU: RSA-2048 %s signs/s, ECDSA P-256 %s signs/s, %sx)\n' \
      "$rsa_sign" "$ec_sign" "$(ratio "$ec_sign" "$rsa_sign")"
    if [ "${perop[ecdsa]}" != n/a ]; then
      # What a handshake costs the server besides its one signature (key exchange, key
      # schedule, session, TCP): the same for both certificates, it bounds the ratio.
      awk -v op="${perop[ecdsa]}" -v r="$rsa_sign" -v e="$ec_sign" 'BEGIN {
        fixed = op - 1e6 / e
        printf "(per handshake the server spends ~%.0f µs besides the signature; with that, the\n", fixed
        printf " ratio can reach at most (%.0f + %.0f) / (%.0f + %.0f) = %.2fx on this machine)\n",
          fixed, 1e6 / r, fixed, 1e6 / e, (fixed + 1e6 / r) / (fixed + 1e6 / e) }'
    fi
  fi
  if [ "$ROUNDS" -gt 1 ]; then
    printf '\nevery round (per second):\n'
    for name in direct stock ours ecdsa rsa; do
      printf '  %-7s %s\n' "$name" "${RATE[$name]}"
    done
  fi
}

main() {
  ensure_container_workspace "$RELEASE"
  cpusets
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  start_containers
  BACKEND1_IP="$(address_of gwbench-backend1)"
  BACKEND2_IP="$(address_of gwbench-backend2)"
  STOCK_IP="$(address_of "$STOCK")"
  OURS_IP="$(address_of "$OURS")"

  log "Installing nginx in the backends and the stock proxy, wrk in the client"
  install_packages "gwbench-backend1:nginx" "gwbench-backend2:nginx" "$STOCK:nginx" \
    "$CLIENT:wrk openssl curl ca-certificates"
  put_file "$CLIENT" /root/handshakes.py <"$BENCH_DIR/handshakes.py"
  configure_backends
  configure_stock
  configure_ours
  check_targets

  declare -gA RATE SCORES CCORES PEROP
  local round
  for round in $(seq "$ROUNDS"); do
    log "Round $round/$ROUNDS: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s against direct, stock, ours"
    http_rps direct "http://$BACKEND1_IP:80/" "${BACKENDS[0]}"
    http_rps stock "http://$STOCK_IP:80/" "$STOCK" "${BACKENDS[@]}"
    http_rps ours "http://$OURS_IP:80/" "$OURS" "${BACKENDS[@]}"
  done
  SIGNATURES="$(signature_speed)"
  docker update --cpus "$TLS_SERVER_CPUS" "$OURS" >/dev/null
  for round in $(seq "$ROUNDS"); do
    log "Round $round/$ROUNDS: TLS full handshakes for ${DURATION}s, ECDSA P-256 then RSA-2048 (proxy capped at $TLS_SERVER_CPUS CPU)"
    tls_hps ecdsa
    tls_hps rsa
  done
  report
}

main "$@"
