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

up() {
  ensure_container_workspace "$RELEASE"
  ensure_demo_key
  start_containers
  log "Applying playbooks/site.yml to inventories/demo (balancer: $WEB, database: $DATABASE)"
  local log_file="$DEMO_DIR/site.log"
  (cd "$GW_ROOT" && ansible-playbook -i inventories/demo playbooks/site.yml "${CHOICES[@]}") | tee "$log_file"
  local rc="${PIPESTATUS[0]}"
  [ "$rc" -eq 0 ] || die "playbooks/site.yml failed (exit $rc); full output in $log_file"
  (cd "$GW_ROOT" && ansible-playbook -i inventories/demo scripts/demo/summary.yml "${CHOICES[@]}" \
    -e "__gw_demo_log=$log_file" -e "__gw_demo_dir=$DEMO_DIR") >"$DEMO_DIR/summary.log" \
    || die "could not read the state back from the hosts; see $DEMO_DIR/summary.log"
  ensure_graphviz
  (cd "$GW_ROOT" && ansible-playbook -i inventories/demo playbooks/architecture.yml "${CHOICES[@]}" \
    -e "architecture_output_dir=$DEMO_DIR") >"$DEMO_DIR/architecture.log" \
    || die "could not draw the architecture picture; see $DEMO_DIR/architecture.log"
  printf '\n'
  cat "$DEMO_DIR/summary.txt"
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
  rm -rf "$DEMO_DIR" "$CA_DIR"
  log "Demo removed"
}

# The containers alone, without configuring them (bench/site.sh times the playbook itself).
containers() {
  ensure_container_workspace "$RELEASE"
  ensure_demo_key
  start_containers
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  containers) containers ;;
  *) die "usage: $0 [up|down|containers]" ;;
esac
