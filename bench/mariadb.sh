#!/usr/bin/env bash
# Benchmark: MariaDB as groundwork.server.mariadb tunes it, against Debian's stock
# configuration, side by side in one run: sysbench (Debian's package) oltp_read_only from a
# client container over TLS, on a data set larger than the stock buffer pool (128 MiB) that
# fits the tuned one.
# Prints a table and the ratio with PASS/MISS against the target of docs/BENCHMARKS.md.
# Exits 0 whether or not the target is met (it is a measurement), non-zero on errors.
#
# Containers (all removed on exit, also on failure or Ctrl-C), network gw-bench-mariadb:
#   gw-bench-mariadb-ours    groundwork.server.tls + groundwork.server.mariadb (bench/mariadb/ours.yml)
#   gw-bench-mariadb-stock   Debian's mariadb-server; a drop-in with only what a remote client
#                            needs: bind-address and a certificate (see configure_stock)
#   gw-bench-mariadb-client  sysbench and the mariadb client
# Both servers get the same memory limit (swap off; the page cache counts against it) and
# the same cpuset; the client runs on other CPUs (cpusets in scripts/lib/containers.sh).
# Both are reached the same way: by name, over TLS 1.2/1.3 with a certificate of the run's
# own CA, as user sbtest that may only connect over TLS. The sides are measured one after
# the other, never at the same time, in alternating order; the median of the rounds counts.
#
# Settings (environment):
#   GW_BENCH_RELEASE=12          Debian release of the containers (12 or 13)
#   GW_BENCH_ROUNDS=3            rounds; each measures both sides
#   GW_BENCH_SECONDS=30          seconds per measured sysbench run
#   GW_BENCH_WARMUP=10           seconds of unmeasured sysbench before each measured run
#   GW_BENCH_TABLES=8            sysbench tables
#   GW_BENCH_TABLE_SIZE=250000   rows per table (8 x 250000: about 550 MiB with the indexes)
#   GW_BENCH_THREADS=8           sysbench threads (client connections)
#   GW_BENCH_RAND=uniform        sysbench --rand-type: uniform, special (sysbench's default:
#                                75% of the lookups go to 1% of the rows), gaussian, pareto
#   GW_BENCH_MEMORY=2g           memory limit of each database container (no swap)
#   GW_BENCH_CLIENT_CPUS=0       cpuset of the client container
#   GW_BENCH_SERVER_CPUS=1       cpuset of the database containers
#   GW_BENCH_SETTINGS='{}'       JSON object of overrides for the role (mariadb_settings), e.g.
#                                '{"innodb_buffer_pool_size": "128M"}', to find what matters
#   GW_BENCH_AA=1                configure the "ours" side like stock as well: an A/A run that
#                                shows what the harness alone makes of two identical servers
#   GW_BENCH_KEEP=1              keep the containers after the run (for inspection)
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$GW_ROOT/scripts/lib/images.sh"
# shellcheck source=scripts/lib/containers.sh
. "$GW_ROOT/scripts/lib/containers.sh"

BENCH_DIR="$GW_ROOT/bench/mariadb"
RELEASE="${GW_BENCH_RELEASE:-12}"
ROUNDS="${GW_BENCH_ROUNDS:-3}"
SECONDS_RUN="${GW_BENCH_SECONDS:-30}"
WARMUP="${GW_BENCH_WARMUP:-10}"
TABLES="${GW_BENCH_TABLES:-8}"
TABLE_SIZE="${GW_BENCH_TABLE_SIZE:-250000}"
THREADS="${GW_BENCH_THREADS:-8}"
RAND="${GW_BENCH_RAND:-uniform}"
MEMORY="${GW_BENCH_MEMORY:-2g}"
SETTINGS="${GW_BENCH_SETTINGS:-}"
TARGET=1.3   # ours >= 1.3x stock transactions/s, oltp_read_only

NETWORK=gw-bench-mariadb
OURS=gw-bench-mariadb-ours
STOCK=gw-bench-mariadb-stock
CLIENT=gw-bench-mariadb-client
SERVERS=("$OURS" "$STOCK")
CONTAINERS=("${SERVERS[@]}" "$CLIENT")
LABEL=org.groundwork.bench=mariadb
DB=sbtest
DB_USER=sbtest
SQL_TIMEOUT=300             # seconds for any one statement of the script (bounded run time)
PREPARE_TIMEOUT=900         # seconds for sysbench prepare (both servers at the same time)
CLIENT_DIR=/root/sysbench   # in the client: sysbench 1.0 reads its TLS files from the working directory
WORK=""   # scratch directory (mode 0700), made by main() and removed on exit

for setting in ROUNDS SECONDS_RUN WARMUP TABLES TABLE_SIZE THREADS; do
  [[ "${!setting}" =~ ^[1-9][0-9]*$ ]] || die "GW_BENCH_${setting%_RUN} must be a positive integer (got '${!setting}')"
done
case "$RAND" in
  uniform | special | gaussian | pareto) ;;
  *) die "GW_BENCH_RAND must be uniform, special, gaussian or pareto (got '$RAND')" ;;
esac
[[ "$MEMORY" =~ ^[1-9][0-9]*[mMgG]$ ]] || die "GW_BENCH_MEMORY must be a size such as 2g or 1536m (got '$MEMORY')"

# The password of the benchmark user: made here, written only into files of mode 0600 (the
# role's extra variables, sysbench's and the client's option files) and into the stock
# server through stdin; never on a command line.
PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"

# As start_containers in scripts/lib/containers.sh, but waiting for systemd patiently
# (wait_for_systemd): on a busy machine the first systemctl can come too early.
start_all() {
  local name
  # A run that was killed with SIGKILL leaves its containers behind: they carry our
  # names, so they are ours to remove.
  remove_all
  docker network create --label "$LABEL" "$NETWORK" >/dev/null
  log "Starting ${CONTAINERS[*]} (Debian $RELEASE; client on CPU $CLIENT_CPUS, servers on CPU $SERVER_CPUS, memory $MEMORY each)"
  for name in "${SERVERS[@]}"; do
    start_container "$name" "$SERVER_CPUS"
    limit_memory "$name" "$MEMORY"
  done
  start_container "$CLIENT" "$CLIENT_CPUS"
  wait_for_systemd "${CONTAINERS[@]}"
}

cleanup() {
  local rc=$?
  remove_all_unless_kept
  [ -z "$WORK" ] || rm -rf "$WORK"
  exit "$rc"
}

# The text of a file with the password blanked out, for error messages.
redacted() {
  local text
  text="$(tail -n "${2:-40}" "$1")"
  printf '%s\n' "${text//"$PASSWORD"/********}"
}

# ---------------------------------------------------------------------------------------
# TLS: one CA for the run, in the scratch directory on this machine
# ---------------------------------------------------------------------------------------
# The CA as groundwork.server.tls makes its internal CA (ECDSA P-384, CA:TRUE, pathlen 0),
# named so that the role uses it for "ours" (bench/mariadb/vars/ours.yml). The stock server's
# and the client's certificates are signed here with it, with the role's profile (ECDSA
# P-256, server and client authentication); sysbench verifies both servers against it.
make_ca() {
  local ca="$WORK/ca"
  mkdir -m 0700 "$ca"
  openssl req -x509 -nodes -days 7 -subj "/CN=gw-bench internal CA" \
    -newkey ec -pkeyopt ec_paramgen_curve:P-384 -sha384 \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$ca/ca.key" -out "$ca/ca.crt" 2>"$WORK/openssl.log" || {
    cat "$WORK/openssl.log" >&2
    die "creating the run's CA failed"
  }
}

# issue NAME: NAME.key and NAME.crt in $WORK/ca for the host name NAME.
issue() {
  local ca="$WORK/ca" name="$1"
  if ! openssl req -new -nodes -subj "/CN=$name" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$ca/$name.key" -out "$ca/$name.csr" 2>>"$WORK/openssl.log"; then
    cat "$WORK/openssl.log" >&2
    die "making a key for $name failed"
  fi
  openssl x509 -req -in "$ca/$name.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -CAcreateserial \
    -days 7 -sha256 -out "$ca/$name.crt" -extfile <(printf '%s\n' \
      "subjectAltName=DNS:$name" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth,clientAuth") \
    2>>"$WORK/openssl.log" || {
    cat "$WORK/openssl.log" >&2
    die "signing the certificate of $name failed"
  }
}

# ---------------------------------------------------------------------------------------
# The servers
# ---------------------------------------------------------------------------------------
# sql NAME QUERY: one query as root through the unix socket (Debian's root logs in by
# unix_socket), tab-separated, no column names; at most SQL_TIMEOUT seconds.
sql() {
  docker exec "$1" timeout "$SQL_TIMEOUT" mariadb -B -N -e "$2"
}

# Debian's mariadb-server as installed, plus the smallest change a remote client needs:
#   /etc/mysql/mariadb.conf.d/60-bench.cnf  bind-address = 0.0.0.0 (Debian binds 127.0.0.1),
#                                           ssl_cert/ssl_key: the run's certificate (10.11 has
#                                           no TLS without one; 11.8 would make its own, which
#                                           no client can verify)
#   the run's CA in the system trust store  mariadbd verifies every client certificate
#                                           against it, and sysbench 1.0 always presents one
#   database sbtest                         utf8mb4_unicode_ci, as the role creates it
#                                           (Debian's server default is utf8mb4_general_ci,
#                                           and sysbench's ranges sort by a CHAR column)
#   user sbtest@<client address>            Debian's default plugin (mysql_native_password),
#                                           REQUIRE SSL: a run without TLS fails
configure_stock() {
  local name="$1" ca="$WORK/ca"
  log "Configuring $name: Debian's configuration plus 60-bench.cnf (bind-address, certificate), the CA, user $DB_USER"
  issue "$name"
  put_file "$name" /usr/local/share/ca-certificates/gw-bench-ca.crt <"$ca/ca.crt"
  docker exec "$name" sh -ec 'update-ca-certificates >/dev/null 2>&1; mkdir -p /etc/mysql/bench'
  put_file "$name" /etc/mysql/bench/cert.pem <"$ca/$name.crt"
  put_file "$name" /etc/mysql/bench/key.pem <"$ca/$name.key"
  docker exec "$name" sh -ec 'chown root:mysql /etc/mysql/bench/key.pem; chmod 0640 /etc/mysql/bench/key.pem'
  put_file "$name" /etc/mysql/mariadb.conf.d/60-bench.cnf <<'EOF'
# bench/mariadb.sh: what a client on another host needs, nothing else
[mariadbd]
bind-address = 0.0.0.0
ssl_cert = /etc/mysql/bench/cert.pem
ssl_key = /etc/mysql/bench/key.pem
EOF
  docker exec "$name" systemctl restart mariadb || die "mariadb did not restart in $name"
  [ "$(sql "$name" 'SELECT @@have_ssl')" = YES ] || die "TLS is not on in $name after the drop-in"
  # The password goes through stdin.
  docker exec -i "$name" mariadb <<EOF || die "creating user $DB_USER in $name failed"
CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER '$DB_USER'@'$CLIENT_IP' IDENTIFIED BY '$PASSWORD' REQUIRE SSL;
GRANT ALL ON $DB.* TO '$DB_USER'@'$CLIENT_IP';
EOF
}

configure_ours() {
  if [ -n "${GW_BENCH_AA:-}" ]; then
    warn "GW_BENCH_AA is set: $OURS gets Debian's stock configuration as well (A/A run)"
    configure_stock "$OURS"
    return 0
  fi
  [ -f "$GW_ROOT/roles/mariadb/tasks/main.yml" ] \
    || die "roles/mariadb is not in this checkout (GW_BENCH_AA=1 runs the harness with both sides stock)"
  local settings='{}'
  [ -z "$SETTINGS" ] || settings="$SETTINGS"
  (
    umask 077
    printf '%s\n' "gw_bench_ca_dir: \"$WORK/ca\"" "gw_bench_client_address: \"$CLIENT_IP\"" \
      "gw_bench_password: \"$PASSWORD\"" "gw_bench_settings: $settings" >"$WORK/ours-vars.yml"
  )
  log "Applying groundwork.server.tls and groundwork.server.mariadb to $OURS (bench/mariadb/ours.yml${SETTINGS:+, overrides $SETTINGS})"
  (cd "$GW_ROOT" && ansible-playbook -i "$BENCH_DIR/inventory.yml" "$BENCH_DIR/ours.yml" -e "@$WORK/ours-vars.yml") \
    >"$WORK/ours.log" 2>&1 || {
    redacted "$WORK/ours.log" >&2
    die "applying the roles to $OURS failed (bench/mariadb/ours.yml)"
  }
}

# The client: the CA, its own certificate and key (in the working directory, where sysbench
# looks for them), and one option file per server for sysbench (the connection; the
# workload's options go on the command line, sysbench reads only its own from the file)
# and for the mariadb client.
configure_client() {
  local ca="$WORK/ca" name side
  issue "$CLIENT"
  docker exec "$CLIENT" sh -ec "mkdir -m 0700 -p $CLIENT_DIR"
  put_file "$CLIENT" "$CLIENT_DIR/cacert.pem" <"$ca/ca.crt"
  put_file "$CLIENT" "$CLIENT_DIR/client-cert.pem" <"$ca/$CLIENT.crt"
  put_file "$CLIENT" "$CLIENT_DIR/client-key.pem" <"$ca/$CLIENT.key"
  for name in "${SERVERS[@]}"; do
    side="${name#gw-bench-mariadb-}"
    put_file "$CLIENT" "$CLIENT_DIR/$side.cfg" <<EOF
db-driver=mysql
mysql-host=$name
mysql-port=3306
mysql-user=$DB_USER
mysql-password=$PASSWORD
mysql-db=$DB
mysql-ssl=on
EOF
    put_file "$CLIENT" "$CLIENT_DIR/$side.cnf" <<EOF
[client]
host=$name
user=$DB_USER
password=$PASSWORD
database=$DB
ssl-ca=$CLIENT_DIR/cacert.pem
ssl-cert=$CLIENT_DIR/client-cert.pem
ssl-key=$CLIENT_DIR/client-key.pem
ssl-verify-server-cert
EOF
  done
  docker exec "$CLIENT" sh -ec "chmod 0600 $CLIENT_DIR/*"
}

# How the client reaches each side: the TLS version and cipher of a session of the mariadb
# client with the same files (verifying the server's certificate and name), and the
# authentication plugin of the account.
check_connections() {
  local name side out
  for name in "${SERVERS[@]}"; do
    side="${name#gw-bench-mariadb-}"
    out="$(docker exec "$CLIENT" mariadb --defaults-extra-file="$CLIENT_DIR/$side.cnf" -B -N \
      -e "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')" 2>&1)" \
      || die "the client cannot log in to $name over TLS: $out"
    TLS[$side]="$(awk '$1 == "Ssl_version" { v = $2 } $1 == "Ssl_cipher" { c = $2 } END { print v " " c }' <<<"$out")"
    [[ "${TLS[$side]}" =~ ^TLS ]] || die "the session with $name is not encrypted: $out"
    AUTH[$side]="$(sql "$name" "SELECT DISTINCT plugin FROM mysql.user WHERE user = '$DB_USER'")"
  done
}

# The variables the role wrote (90-groundwork.cnf, without the file locations), with the
# value each side runs with.
compare_settings() {
  local names listed name
  # (none in an A/A run)
  names="$(docker exec "$OURS" sh -c 'cat /etc/mysql/mariadb.conf.d/90-groundwork.cnf 2>/dev/null || true' \
    | awk -F' *= *' '/^[a-z_]+ *=/ && $1 !~ /^ssl_(cert|key|ca)/ { print $1 }')"
  listed="'innodb_buffer_pool_size'"
  for name in $names; do
    listed+=", '$name'"
  done
  : >"$WORK/settings"
  local query="SELECT LOWER(VARIABLE_NAME), IFNULL(GLOBAL_VALUE, '') FROM information_schema.SYSTEM_VARIABLES
    WHERE LOWER(VARIABLE_NAME) IN ($listed) ORDER BY VARIABLE_NAME"
  LC_ALL=C join -t $'\t' -a 1 <(sql "$OURS" "$query" | LC_ALL=C sort) <(sql "$STOCK" "$query" | LC_ALL=C sort) \
    | awk -F'\t' 'function show(v) { return v == "" ? "-" : length(v) > 24 ? substr(v, 1, 21) "..." : v }
      { print $1, show($2), show($3) }' >"$WORK/settings"
  OURS_POOL="$(sql "$OURS" 'SELECT @@innodb_buffer_pool_size')"
  STOCK_POOL="$(sql "$STOCK" 'SELECT @@innodb_buffer_pool_size')"
}

# The same tables on both sides, written at the same time by sysbench prepare; then each
# side writes its dirty pages out (FLUSH TABLES ... FOR EXPORT), updates its statistics and
# reads every table once, so that no side flushes during the other's measurement and both
# start with the tables in memory as far as their buffer pool reaches.
initialise() {
  local pids=() name side i tables="" n started="$SECONDS"
  log "sysbench oltp_read_only prepare: $TABLES tables of $TABLE_SIZE rows on both servers"
  for name in "${SERVERS[@]}"; do
    side="${name#gw-bench-mariadb-}"
    docker exec -w "$CLIENT_DIR" "$CLIENT" timeout "$PREPARE_TIMEOUT" sysbench --config-file="$side.cfg" --threads="$TABLES" \
      oltp_read_only --tables="$TABLES" --table-size="$TABLE_SIZE" prepare >"$WORK/prepare-$side.log" 2>&1 &
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || {
      redacted "$WORK/prepare-${SERVERS[$i]#gw-bench-mariadb-}.log" 20 >&2
      die "sysbench prepare against ${SERVERS[$i]} failed (or took more than $PREPARE_TIMEOUT s)"
    }
  done
  for n in $(seq "$TABLES"); do
    tables+="${tables:+, }$DB.sbtest$n"
  done
  for name in "${SERVERS[@]}"; do
    sql "$name" "FLUSH TABLES $tables FOR EXPORT; UNLOCK TABLES; ANALYZE TABLE $tables" >/dev/null
    for n in $(seq "$TABLES"); do
      sql "$name" "SELECT SUM(LENGTH(c)) FROM $DB.sbtest$n" >/dev/null
    done
  done
  log "Data set written, flushed and read once in $((SECONDS - started)) s"
  local size="SELECT SUM(data_length + index_length) FROM information_schema.TABLES WHERE table_schema = '$DB'"
  DB_BYTES="$(sql "$STOCK" "$size")"
  [ "$(sql "$OURS" "$size")" -gt 0 ] || die "no tables in $DB on $OURS"
  [ "$DB_BYTES" -gt "$STOCK_POOL" ] \
    || die "the data set ($(mib "$DB_BYTES")) is not larger than the stock buffer pool ($(mib "$STOCK_POOL")): raise GW_BENCH_TABLE_SIZE"
  [ "$DB_BYTES" -lt "$OURS_POOL" ] || [ -n "${GW_BENCH_AA:-}" ] \
    || warn "the data set ($(mib "$DB_BYTES")) does not fit the tuned buffer pool ($(mib "$OURS_POOL"))"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }

# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------
# Pages InnoDB read from the disk into its buffer pool, and its logical page reads, so far.
pool_counters() {
  local status="SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME"
  sql "$1" "SELECT CONCAT(($status = 'INNODB_BUFFER_POOL_READS'), ' ', ($status = 'INNODB_BUFFER_POOL_READ_REQUESTS'))"
}

# measure NAME: warm-up, then the measured run; records transactions/s, the latency, the
# server's and the client's CPU, and how often InnoDB had to read a page from the disk.
measure() {
  local name="$1" side
  side="${name#gw-bench-mariadb-}"
  local run=(sh -c "cd $CLIENT_DIR && exec sysbench --config-file=$side.cfg --threads=$THREADS --time=\"\$0\" --rand-type=$RAND oltp_read_only --tables=$TABLES --table-size=$TABLE_SIZE run")
  run_load "warmup" "$name" "${run[@]}" "$WARMUP"
  local p0 p1 d0 d1
  p0="$(pool_counters "$name")"
  d0="$(container_read_bytes "$name")"
  run_load "$side-$ROUND" "$name" "${run[@]}" "$SECONDS_RUN"
  d1="$(container_read_bytes "$name")"
  p1="$(pool_counters "$name")"
  local out tps qps txs errors lat p95
  out="$(cat "$WORK/$side-$ROUND.out")"
  read -r txs tps < <(awk '$1 == "transactions:" { gsub(/\(/, "", $3); printf "%s %.0f\n", $2, $3 }' <<<"$out")
  qps="$(awk '$1 == "queries:" { gsub(/\(/, "", $3); printf "%.0f", $3 }' <<<"$out")"
  errors="$(awk '$1 == "ignored" && $2 == "errors:" { print $3 }' <<<"$out")"
  lat="$(awk '$1 == "avg:" { print $2 }' <<<"$out")"
  p95="$(awk '$1 == "95th" { print $3 }' <<<"$out")"
  if [ -z "$tps" ] || [ -z "$txs" ] || [ "$txs" -eq 0 ]; then
    die "no result in the output of sysbench against $name: $(redacted "$WORK/$side-$ROUND.out")"
  fi
  [ "${errors:-0}" = 0 ] || die "sysbench against $name reports $errors ignored errors: $(redacted "$WORK/$side-$ROUND.out")"
  record "$side" "$tps"
  QPS[$side]+="$qps "
  LAT[$side]+="$lat "
  P95[$side]+="$p95 "
  local reads requests
  read -r reads requests <<<"$(awk -v a="$p0" -v b="$p1" 'BEGIN { split(a, x, " "); split(b, y, " "); print y[1] - x[1], y[2] - x[2] }')"
  READS[$side]+="$(awk -v r="$reads" -v n="$txs" 'BEGIN { printf "%.2f", r / n }') "
  HITS[$side]+="$(awk -v r="$reads" -v q="$requests" 'BEGIN { printf "%.2f", q ? 100 * (q - r) / q : 0 }') "
  if [ "$d0" -ge 0 ] && [ "$d1" -ge 0 ]; then
    DISK[$side]+="$(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.0f", (b - a) / 1048576 }') "
  else
    DISK[$side]+="n/a "
  fi
}

report() {
  local side
  local -A tps qps lat p95 server client perop reads hits disk
  for side in ours stock; do
    tps[$side]="$(median "${RATE[$side]}")"
    qps[$side]="$(median "${QPS[$side]}")"
    lat[$side]="$(median "${LAT[$side]}")"
    p95[$side]="$(median "${P95[$side]}")"
    server[$side]="$(median "${SCORES[$side]}")"
    client[$side]="$(median "${CCORES[$side]}")"
    perop[$side]="$(median "${PEROP[$side]}")"
    reads[$side]="$(median "${READS[$side]}")"
    hits[$side]="$(median "${HITS[$side]}")"
    disk[$side]="$(median "${DISK[$side]}")"
  done
  local r_tps version sysbench
  r_tps="$(ratio "${tps[ours]}" "${tps[stock]}")"
  version="$(sql "$OURS" 'SELECT VERSION()')"
  sysbench="$(docker exec "$CLIENT" sysbench --version)"

  printf '\n'
  printf 'groundwork.server mariadb benchmark, %s, Debian %s containers, MariaDB %s, %s\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$RELEASE" "$version" "$sysbench"
  printf 'host: %s CPUs, %s; servers: memory %s each (no swap), CPUs %s; client: CPUs %s\n' \
    "$(nproc)" "$(awk '/^MemTotal:/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)" "$MEMORY" \
    "$SERVER_CPUS" "$CLIENT_CPUS"
  printf 'data set: %s tables x %s rows, %s (information_schema: data + indexes); buffer pool ours %s, stock %s\n' \
    "$TABLES" "$TABLE_SIZE" "$(mib "$DB_BYTES")" "$(mib "$OURS_POOL")" "$(mib "$STOCK_POOL")"
  printf 'runs: sysbench oltp_read_only --threads=%s --time=%s --rand-type=%s (after --time=%s warm-up), from the client over TLS;\n' \
    "$THREADS" "$SECONDS_RUN" "$RAND" "$WARMUP"
  printf '      sides alternate, never at the same time; median of %s round(s); load average before: %s, after: %s\n' \
    "$ROUNDS" "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'connections: ours %s, user %s (%s); stock %s, user %s (%s)\n' \
    "${TLS[ours]}" "$DB_USER" "${AUTH[ours]}" "${TLS[stock]}" "$DB_USER" "${AUTH[stock]}"
  [ -z "$SETTINGS" ] || printf 'overrides given to the role: %s\n' "$SETTINGS"
  [ -z "${GW_BENCH_AA:-}" ] || printf 'A/A RUN: the "ours" side runs the stock configuration as well\n'

  if [ -s "$WORK/settings" ]; then
    printf '\nvariables the role wrote (90-groundwork.cnf), ours | stock:\n'
    awk '{ printf "  %-32s %24s | %s\n", $1, $2, $3 }' "$WORK/settings"
  fi

  printf '\n'
  # Column widths; the header by hand, since printf pads bytes and µ takes two.
  local widths=(24 6 6 7 7 9 9 8 8 6 8) row='|' sep='|' width
  for width in "${widths[@]}"; do
    row+=" %${width}s |"
    sep+="$(printf -- '-%.0s' $(seq $((width + 1)))):|"
  done
  row="${row/ %24s/ %-24s}"$'\n'
  sep="${sep/-:|/--|}"
  # shellcheck disable=SC2059  # the format is ours
  {
    printf "${row/\%9s/%s}" run TPS QPS "lat ms" "p95 ms" "srv µs/tx" "srv cores" "cl cores" "reads/tx" "hit %" "disk MiB"
    printf '%s\n' "$sep"
    for side in ours stock; do
      printf "$row" "$side: oltp_read_only" "${tps[$side]}" "${qps[$side]}" "${lat[$side]}" "${p95[$side]}" \
        "${perop[$side]}" "${server[$side]}" "${client[$side]}" "${reads[$side]}" "${hits[$side]}" "${disk[$side]}"
    done
  }
  printf '\nTPS, QPS: sysbench transactions and statements per second (16 per transaction: 10 point\n'
  printf 'selects, 4 range queries of 100 rows, BEGIN, COMMIT); lat ms, p95 ms: mean and 95th percentile\n'
  printf 'latency of a transaction; srv µs/tx: CPU time of the server container per transaction; srv\n'
  printf 'cores, cl cores: CPUs kept busy by server and client; reads/tx: pages InnoDB read from storage\n'
  printf 'into its buffer pool (Innodb_buffer_pool_reads) per transaction; hit %%: logical page reads the\n'
  printf 'pool answered; disk MiB: what the server'"'"'s processes read from storage during the run\n'
  printf '(/proc/PID/io read_bytes: InnoDB reads with O_DIRECT, the page cache does not answer them).\n\n'
  printf 'ours / stock  TPS oltp_read_only = %5sx   target >= %sx   %s\n' "$r_tps" "$TARGET" "$(verdict "$r_tps" "$TARGET")"
  if [ "${perop[ours]}" != n/a ] && [ "${perop[stock]}" != n/a ]; then
    printf 'stock / ours  server CPU per transaction = %sx\n' "$(ratio "${perop[stock]}" "${perop[ours]}")"
  fi
  printf '\nmemory held by each server container at the end (MiB, anonymous + page cache):\n'
  local name
  for name in "${SERVERS[@]}"; do
    printf '  %-24s %s\n' "$name" "$(memory_use "$name" | awk '{ print $1 " + " $2 }')"
  done
  if [ "$ROUNDS" -gt 1 ]; then
    printf '\nevery round (TPS):\n'
    printf '  %-11s %s\n' ours "${RATE[ours]}" stock "${RATE[stock]}"
    printf '  %-11s %s\n' ours/stock "$(round_ratios "${RATE[ours]}" "${RATE[stock]}")"
  fi
}

main() {
  ensure_container_workspace "$RELEASE"
  cpusets
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  WORK="$(mktemp -d /tmp/gw-bench-mariadb.XXXXXX)"
  LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
  start_all
  CLIENT_IP="$(address_of "$CLIENT")"
  [ -n "$CLIENT_IP" ] || die "no address of $CLIENT on $NETWORK"

  log "Installing Debian's mariadb-server in $STOCK${GW_BENCH_AA:+ and $OURS}, sysbench and mariadb-client in $CLIENT"
  local specs=("$STOCK:mariadb-server" "$CLIENT:sysbench mariadb-client")
  [ -z "${GW_BENCH_AA:-}" ] || specs+=("$OURS:mariadb-server")
  install_packages "${specs[@]}"
  make_ca
  configure_stock "$STOCK"
  configure_ours
  configure_client
  declare -gA TLS AUTH
  check_connections
  compare_settings
  initialise

  declare -gA RATE SCORES CCORES PEROP QPS LAT P95 READS HITS DISK
  local round order name
  for round in $(seq "$ROUNDS"); do
    ROUND="$round"
    # Alternate which side goes first, so that neither always runs right after the other.
    if [ $((round % 2)) -eq 1 ]; then order=("$OURS" "$STOCK"); else order=("$STOCK" "$OURS"); fi
    log "Round $round/$ROUNDS: ${order[0]#gw-bench-mariadb-} then ${order[1]#gw-bench-mariadb-}, ${SECONDS_RUN}s each after ${WARMUP}s warm-up"
    for name in "${order[@]}"; do
      measure "$name"
    done
  done
  report
}

main "$@"
