#!/usr/bin/env bash
# The demo: four Debian containers with systemd (groundwork-lb, groundwork-app1,
# groundwork-app2, groundwork-db) on the private Docker network groundwork-demo,
# configured by playbooks/site.yml with inventories/demo/. Safe to re-run: a second
# run converges with nothing changed.
#
# Usage: scripts/demo.sh [up]     create (when missing) and configure the demo
#        scripts/demo.sh down     remove the containers, the network and the demo key
#        scripts/demo.sh containers   only create (when missing) and start the containers
#   GW_DEMO_RELEASE=13            Debian release of the containers (default 12)
#   GW_DEMO_WEB=apache            the balancer's web server: nginx (default) or apache
#                                 (groundwork_web_server; switching re-creates the balancer)
#   GW_DEMO_DB=mariadb            the database: postgresql (default) or mariadb
#                                 (groundwork_database; switching re-creates the database server)
#   GW_DEMO_APT_CACHE=DIR         the package cache the containers share (default
#                                 ~/.cache/groundwork/apt; "off": each container downloads itself)
#   GW_VENV, GW_IMAGE_REPO        another virtualenv or image name (scripts/lib/common.sh, images.sh)
#
# On a fresh machine the steps that do not wait for each other run in parallel: the base
# image's file system is built (debootstrap) from the moment debootstrap is installed, while
# the other Debian packages the machine lacks are installed (one apt transaction), the
# virtualenv is built and the Docker engine starts. The containers share one
# package cache on the Docker host (scripts/demo/apt_cache.py, an apt proxy only the demo's
# containers are pointed at): each package is downloaded from the mirror once. The time of
# each step is printed at the end.
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$GW_ROOT/scripts/lib/images.sh"
# shellcheck source=scripts/lib/graphviz.sh
. "$GW_ROOT/scripts/lib/graphviz.sh"

NETWORK=groundwork-demo
HOSTS=(groundwork-lb groundwork-app1 groundwork-app2 groundwork-db)
LB=groundwork-lb
DB=groundwork-db
# The balancer listens on the ports it is published on (inventories/demo/group_vars/
# loadbalancers.yml), so that its redirect from plain HTTP names the HTTPS port a browser
# reaches.
HTTPS_PORT=8443
HTTP_PORT=8080
# The demo's internal CA (tls_internal_ca_dir in inventories/demo/group_vars/all.yml).
CA_DIR="$HOME/.local/share/groundwork/demo-ca"
RELEASE="${GW_DEMO_RELEASE:-12}"
WEB="${GW_DEMO_WEB:-nginx}"
case "$WEB" in
  nginx | apache) ;;
  *) die "GW_DEMO_WEB must be nginx or apache (got '$WEB')" ;;
esac
DATABASE="${GW_DEMO_DB:-postgresql}"
case "$DATABASE" in
  postgresql | mariadb) ;;
  *) die "GW_DEMO_DB must be postgresql or mariadb (got '$DATABASE')" ;;
esac
# The tiers' choices, for every playbook run of the demo.
CHOICES=(-e "groundwork_web_server=$WEB" -e "groundwork_database=$DATABASE")
DEMO_DIR="$GW_ROOT/.demo"
APT_CACHE_DIR="${GW_DEMO_APT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/groundwork/apt}"
# The apt configuration each container gets (not part of any role: the roles never see it).
APT_CACHE_CONF=/etc/apt/apt.conf.d/00groundwork-demo-cache
APT_CACHE_PIDFILE="$DEMO_DIR/apt-cache.pid"

container_state() {
  local state
  # docker inspect prints an empty line for a missing container before it fails
  state="$(docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" || state=absent
  printf '%s\n' "${state:-absent}"
}

start_containers() {
  docker network inspect "$NETWORK" >/dev/null 2>&1 \
    || docker network create --label org.groundwork.demo=1 "$NETWORK" >/dev/null
  local host
  # A balancer from an earlier version of the demo was not published, or published its ports
  # 443 and 80: create it anew.
  if [ "$(container_state "$LB")" != absent ] && [ -z "$(docker port "$LB" "$HTTPS_PORT/tcp" 2>/dev/null)" ]; then
    log "Re-creating $LB to publish it on 127.0.0.1:$HTTPS_PORT and 127.0.0.1:$HTTP_PORT"
    docker rm -f "$LB" >/dev/null
  fi
  # The balancer runs one web server, the database server one database: another choice gets
  # a fresh container.
  recreate_for_choice "$LB" web "$WEB"
  recreate_for_choice "$DB" db "$DATABASE"
  for host in "${HOSTS[@]}"; do
    case "$(container_state "$host")" in
      running) ;;
      absent)
        log "Creating container $host (Debian $RELEASE)"
        local ports=()
        # The balancer is published on loopback only (inventories/demo/group_vars/loadbalancers.yml).
        [ "$host" = "$LB" ] && ports=(-p "127.0.0.1:$HTTPS_PORT:$HTTPS_PORT" -p "127.0.0.1:$HTTP_PORT:$HTTP_PORT"
          --label "org.groundwork.demo.web=$WEB")
        [ "$host" = "$DB" ] && ports=(--label "org.groundwork.demo.db=$DATABASE")
        # systemd as PID 1 with the settings that work on this engine (ENVIRONMENT.md)
        docker run -d --name "$host" --hostname "$host" --network "$NETWORK" \
          --label org.groundwork.demo=1 "${ports[@]}" \
          --cap-add SYS_ADMIN --cap-add NET_ADMIN --cgroupns host \
          -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
          --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
          --stop-signal SIGRTMIN+3 \
          "$GW_IMAGE_REPO:$RELEASE" /lib/systemd/systemd >/dev/null
        ;;
      *) docker start "$host" >/dev/null ;;
    esac
  done
  record_network
  for host in "${HOSTS[@]}"; do
    local state
    state="$(docker exec "$host" timeout 60 systemctl is-system-running --wait 2>/dev/null || true)"
    case "$state" in
      running | degraded) ;;
      *) die "systemd in $host did not come up (state: '${state}')" ;;
    esac
  done
  use_apt_cache
}

# ---------------------------------------------------------------------------------------
# The package cache the demo's containers share (scripts/demo/apt_cache.py on the network's
# gateway address). Without it (GW_DEMO_APT_CACHE=off, or a container cannot reach it) each
# container downloads from the mirror itself.
# ---------------------------------------------------------------------------------------
apt_cache_running() {
  local pid
  pid="$(cat "$APT_CACHE_PIDFILE" 2>/dev/null)" || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'apt_cache\.py'
}

stop_apt_cache() {
  if apt_cache_running; then
    kill "$(cat "$APT_CACHE_PIDFILE")" 2>/dev/null || true
  fi
  rm -f "$APT_CACHE_PIDFILE" "$DEMO_DIR/apt-cache.port" "$DEMO_DIR/apt-cache.address"
}

# start_apt_cache ADDRESS MIRROR...: the cache listening on ADDRESS (kept when it already does).
start_apt_cache() {
  local address="$1" waited=0 mirror
  shift
  if apt_cache_running && [ "$(cat "$DEMO_DIR/apt-cache.address" 2>/dev/null)" = "$address" ] \
    && [ -s "$DEMO_DIR/apt-cache.port" ]; then
    return 0
  fi
  stop_apt_cache
  local args=(--dir "$APT_CACHE_DIR" --listen "$address" --port-file "$DEMO_DIR/apt-cache.port")
  for mirror in "$@"; do args+=(--mirror "$mirror"); done
  mkdir -p "$APT_CACHE_DIR"
  # its own session: it serves the containers after this script ends (scripts/demo.sh down stops it)
  setsid nohup python3 "$GW_ROOT/scripts/demo/apt_cache.py" "${args[@]}" \
    >>"$DEMO_DIR/apt-cache.log" 2>&1 </dev/null &
  local pid=$!
  printf '%s\n' "$pid" >"$APT_CACHE_PIDFILE"
  printf '%s\n' "$address" >"$DEMO_DIR/apt-cache.address"
  # (kill -0, not apt_cache_running: until the child has exec'd python its command line is bash's)
  until [ -s "$DEMO_DIR/apt-cache.port" ]; do
    kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 300 ] || return 1
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Without the cache, no container may keep the proxy setting of an earlier demo (its port is gone).
no_apt_cache() {
  local host
  for host in "${HOSTS[@]}"; do docker exec "$host" rm -f "$APT_CACHE_CONF"; done
}

use_apt_cache() {
  local host
  if [ "$APT_CACHE_DIR" = off ]; then
    no_apt_cache
    return 0
  fi
  local gateway mirrors
  gateway="$(docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}' "$NETWORK" | awk '{print $1}')"
  # The mirrors the containers' apt sources name (the image's), and only those.
  mirrors="$(docker exec "${HOSTS[0]}" sh -c 'cat /etc/apt/sources.list.d/* /etc/apt/sources.list 2>/dev/null; true' \
    | grep -Eo 'http://[^/[:space:]]+' | sed 's|^http://||' | sort -u | tr '\n' ' ')"
  # shellcheck disable=SC2086 # one word per mirror
  if [ -z "$gateway" ] || [ -z "$mirrors" ] || ! start_apt_cache "$gateway" $mirrors; then
    warn "the package cache could not start (see $DEMO_DIR/apt-cache.log): each container downloads itself"
    no_apt_cache
    return 0
  fi
  local port
  port="$(cat "$DEMO_DIR/apt-cache.port")"
  if ! docker exec "${HOSTS[0]}" python3 -c "import socket; socket.create_connection(('$gateway', $port), 3).close()" \
    2>/dev/null; then
    warn "the containers cannot reach the package cache on $gateway:$port (a firewall on this machine?): each downloads itself"
    no_apt_cache
    return 0
  fi
  for host in "${HOSTS[@]}"; do
    printf 'Acquire::http::Proxy "http://%s:%s/";\n' "$gateway" "$port" \
      | docker exec -i "$host" sh -c "cat >$APT_CACHE_CONF"
  done
}

# recreate_for_choice HOST LABEL VALUE: remove HOST when it was made for another VALUE of
# the label org.groundwork.demo.LABEL (a container without the label was made for the default).
recreate_for_choice() {
  local host="$1" label="$2" value="$3" made
  [ "$(container_state "$host")" != absent ] || return 0
  made="$(docker inspect -f "{{index .Config.Labels \"org.groundwork.demo.$label\"}}" "$host")"
  case "$label:${made:-default}" in
    db:default) made=postgresql ;;
    web:default) made=nginx ;;
  esac
  if [ "$made" != "$value" ]; then
    log "Re-creating $host for $value"
    docker rm -f "$host" >/dev/null
  fi
}

# The firewall opens SSH to the demo network (inventories/demo/group_vars/all.yml).
record_network() {
  local subnet
  subnet="$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$NETWORK" | awk '{print $1}')"
  [ -n "$subnet" ] || die "could not read the subnet of the network $NETWORK"
  printf '%s\n' "$subnet" >"$DEMO_DIR/network"
}

# The demo's admin user logs in with this key (inventories/demo/group_vars/all.yml).
ensure_demo_key() {
  mkdir -p "$DEMO_DIR"
  chmod 0700 "$DEMO_DIR"
  [ -f "$DEMO_DIR/id_ed25519" ] && return 0
  have ssh-keygen || apt_install openssh-client
  ssh-keygen -q -t ed25519 -N '' -C groundwork-demo -f "$DEMO_DIR/id_ed25519"
}

# The Debian packages this machine lacks for the demo, in one apt transaction: the Docker
# engine, debootstrap (the base image), venv support, graphviz (the architecture picture),
# ssh-keygen (the demo key).
host_packages() {
  local wanted=()
  have dockerd || wanted+=(docker.io)
  # debootstrap only when the base image has to be built (an engine that answers has it)
  if ! have debootstrap && ! { docker_answers && docker image inspect "$GW_IMAGE_REPO:$RELEASE" >/dev/null 2>&1; }; then
    wanted+=(debootstrap debian-archive-keyring)
  fi
  have dot || wanted+=(graphviz)
  have ssh-keygen || wanted+=(openssh-client)
  local py
  if [ ! -x "$GW_VENV/bin/python" ] && py="$(pick_python)" && ! "$py" -c 'import ensurepip' 2>/dev/null; then
    wanted+=(python3-venv)
  fi
  pick_python >/dev/null || wanted+=(python3 python3-venv)
  [ "${#wanted[@]}" -eq 0 ] || apt_install "${wanted[@]}"
}

# Everything before the containers, the independent parts at the same time: the venv, and
# the engine then the base image. Each part's messages are shown when it ends. On a machine
# without the engine (so without the image) the image's file system, most of a fresh
# machine's wait, is built from the moment debootstrap is there, while the rest of the
# Debian packages install and the engine starts; the engine only imports it.
prepare() {
  mkdir -p "$DEMO_DIR"
  local rootfs="" rootfs_job="" rootfs_log="$DEMO_DIR/prepare-rootfs.log"
  if ! have dockerd && is_root && have apt-get; then
    timed "Debian packages for the base image" apt_install debootstrap debian-archive-keyring
    rootfs="$(mktemp -d /var/tmp/groundwork-rootfs-"$RELEASE".XXXXXX)"
    (timed "base image file system (debootstrap)" build_rootfs "$RELEASE" "$rootfs") >"$rootfs_log" 2>&1 &
    rootfs_job=$!
  fi
  timed "Debian packages for the demo (one transaction)" host_packages
  local venv_log="$DEMO_DIR/prepare-venv.log" engine_log="$DEMO_DIR/prepare-engine.log"
  (timed "virtualenv ($GW_VENV)" ensure_venv_profile demo) >"$venv_log" 2>&1 &
  local venv_job=$!
  (
    timed "Docker engine" ensure_docker
    [ -n "$rootfs" ] || timed "base image $GW_IMAGE_REPO:$RELEASE" ensure_images "$RELEASE"
  ) >"$engine_log" 2>&1 &
  local engine_job=$!
  ensure_collection_link
  timed "demo key" ensure_demo_key
  local failed=""
  wait "$engine_job" || failed="the Docker engine or the base image ($engine_log)"
  cat "$engine_log" >&2
  if [ -n "$rootfs_job" ]; then
    if wait "$rootfs_job"; then
      cat "$rootfs_log" >&2
      # An engine installed over a kept /var/lib/docker may have the image already.
      if [ -z "$failed" ] && ! image_current "$RELEASE"; then
        timed "base image $GW_IMAGE_REPO:$RELEASE (import)" import_rootfs "$RELEASE" "$rootfs"
      fi
    else
      cat "$rootfs_log" >&2
      failed="${failed:+$failed and }the base image's file system ($rootfs_log)"
    fi
    rm -rf "$rootfs"
  fi
  wait "$venv_job" || failed="${failed:+$failed and }the virtualenv ($venv_log)"
  cat "$venv_log" >&2
  [ -z "$failed" ] || die "could not prepare $failed"
  activate_venv
}

up() {
  steps_begin "$(mktemp /tmp/groundwork-demo-steps.XXXXXX)"
  prepare
  timed "containers" start_containers
  log "Applying playbooks/site.yml to inventories/demo (balancer: $WEB, database: $DATABASE)"
  local log_file="$DEMO_DIR/site.log" rc
  timed "playbooks/site.yml" site_run "$log_file"
  rc="$(cat "$DEMO_DIR/site.rc")"
  [ "$rc" -eq 0 ] || die "playbooks/site.yml failed (exit $rc); full output in $log_file"
  # The summary and the picture read different things: both at once.
  (timed "summary (read back from the hosts)" summary_run "$log_file") &
  local summary_job=$!
  timed "architecture picture" architecture_run
  wait "$summary_job" || die "could not read the state back from the hosts; see $DEMO_DIR/summary.log"
  printf '\n'
  cat "$DEMO_DIR/summary.txt"
  print_steps
  rm -f "$GW_STEPS_FILE"
}

site_run() {
  local rc=0
  (cd "$GW_ROOT" && ansible-playbook -i inventories/demo playbooks/site.yml "${CHOICES[@]}") | tee "$1" || rc=$?
  printf '%s\n' "$rc" >"$DEMO_DIR/site.rc"
}

summary_run() {
  (cd "$GW_ROOT" && ansible-playbook -i inventories/demo scripts/demo/summary.yml "${CHOICES[@]}" \
    -e "__gw_demo_log=$1" -e "__gw_demo_dir=$DEMO_DIR") >"$DEMO_DIR/summary.log" \
    || die "could not read the state back from the hosts; see $DEMO_DIR/summary.log"
}

architecture_run() {
  ensure_graphviz
  (cd "$GW_ROOT" && ansible-playbook -i inventories/demo playbooks/architecture.yml "${CHOICES[@]}" \
    -e "architecture_output_dir=$DEMO_DIR") >"$DEMO_DIR/architecture.log" \
    || die "could not draw the architecture picture; see $DEMO_DIR/architecture.log"
}

down() {
  local host
  for host in "${HOSTS[@]}"; do
    if [ "$(container_state "$host")" != absent ]; then
      log "Removing container $host"
      docker rm -f "$host" >/dev/null
    fi
  done
  if docker network inspect "$NETWORK" >/dev/null 2>&1; then
    docker network rm "$NETWORK" >/dev/null
  fi
  # The package cache stops; what it holds stays for the next demo ($APT_CACHE_DIR).
  stop_apt_cache
  rm -rf "$DEMO_DIR" "$CA_DIR"
  log "Demo removed"
}

# The containers alone, without configuring them (bench/site.sh times the playbook itself).
containers() {
  prepare
  start_containers
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  containers) containers ;;
  *) die "usage: $0 [up|down|containers]" ;;
esac
