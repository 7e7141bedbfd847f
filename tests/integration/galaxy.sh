#!/usr/bin/env bash
# Integration test: the collection as a user installs it and as AWX runs it (issue 17).
#
#   bash tests/integration/galaxy.sh        exit 0 only when every check passed
#
# The collection is built into a tarball, and nothing of the repository is used after that:
# every run starts in a fresh directory outside the repository with an empty HOME (a
# throwaway controller: no ansible.cfg, no ~/.ansible, no key or CA kept from an earlier
# run), against containers of its own, prepared as a cloud image comes up (sshd, an account
# "operator" with the run's throwaway SSH key and sudo; the internal CA's host also with
# python3-cryptography, which tls_internal_ca_host documents). Two sets of four
# (gwit-a-*, gwit-b-*: lb, app1, app2, db on the networks gwit-a and gwit-b, never the
# demo's names or ports), mirroring inventories/demo (nginx, PostgreSQL) over SSH; the
# internal CA lives on the database server, the database password is an extra variable.
# Both sets run at the same time:
#
# A (AWX): an ansible-runner private data directory laid out as AWX lays it out for a job:
#   project/site.yml (imports groundwork.server.site), project/collections (from the
#   tarball), inventory/hosts (AWX's inventory script), env/{cmdline,ssh_key,passwords,
#   extravars,envvars,settings} (a Machine credential with a become password that
#   ansible-runner types in at the prompt; the key through ssh-agent). `ansible-runner run`
#   twice: status successful, rc 0, no failed or unreachable job event, and the second run
#   changes nothing. Then the README's example from a directory with only collections/
#   (installed from the tarball), requirements.yml and inventory/:
#   ANSIBLE_COLLECTIONS_PATH=./collections ansible-navigator run groundwork.server.site \
#     -i inventory/ --ee false --mode stdout          (converged hosts: changed=0)
# B (a user, job slices): a directory with only the tarball, requirements.yml and an
#   inventory; `ansible-galaxy collection install -p ./collections <tarball>` (offline: the
#   dependencies resolve to the collections of the ansible package), then
#   `ansible-playbook groundwork.server.site` as three slices at once, each limited to the
#   hosts AWX puts in it (ordered by name, every third), each from its own fresh controller;
#   all three succeed, then one full run changes nothing (the slices reached the state of
#   one run), and requests through the balancer are answered by both application servers.
#
# Settings: GW_IT_RELEASE=13 (Debian release of the containers), GW_IT_KEEP=1 (keep the
# containers and the work directory for a look afterwards; they are removed by the next run).
# Logs: .build/integration/galaxy/ (copied there at the end, also after a failure).
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../../scripts/lib/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$GW_ROOT/scripts/lib/images.sh"

RELEASE="${GW_IT_RELEASE:-13}"
HERE="$GW_ROOT/tests/integration/galaxy"
HELPER="$HERE/helper.py"
LABEL=org.groundwork.integration=galaxy
ROLES=(lb app1 app2 db)
LOGS="$GW_ROOT/.build/integration/galaxy"
START=$SECONDS

WORK=""
AGENT_PID=""
JOBS=()
CREATED=()
NETWORKS=()

# --- cleanup: only what this run created ------------------------------------------------
cleanup() {
  local rc=$? pid name
  set +e
  trap - EXIT INT TERM
  for pid in "${JOBS[@]}"; do
    # each set runs in a process group of its own (set -m): it and its playbooks end
    kill -TERM -- "-$pid" 2>/dev/null
  done
  # ansible-runner starts ansible-playbook in a session of its own (a pty): end the processes
  # whose command line names this run's work directory, by their PIDs.
  if [ -n "$WORK" ]; then
    for pid in $(pgrep -f -- "$WORK/" 2>/dev/null); do
      [ "$pid" != "$$" ] && kill -TERM "$pid" 2>/dev/null
    done
  fi
  [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null
  if [ -n "$WORK" ] && [ -d "$WORK/logs" ]; then
    rm -rf "$LOGS"
    mkdir -p "$LOGS"
    cp -r "$WORK/logs/." "$LOGS/" 2>/dev/null
  fi
  if [ "${GW_IT_KEEP:-0}" = 1 ]; then
    warn "GW_IT_KEEP=1: kept ${CREATED[*]:-no containers}, ${NETWORKS[*]:-no networks} and $WORK"
    exit "$rc"
  fi
  for name in "${CREATED[@]}"; do
    docker rm -f "$name" >/dev/null 2>&1
  done
  for name in "${NETWORKS[@]}"; do
    docker network rm "$name" >/dev/null 2>&1
  done
  [ -n "$WORK" ] && rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

elapsed() { printf '%ss' "$((SECONDS - $1))"; }

# note SET TEXT: a line of the summary
note() { printf '%s\n' "$2" >>"$WORK/$1.results"; }

# --- the fixture: containers as a cloud image brings them up ------------------------------
container_exists() { docker inspect "$1" >/dev/null 2>&1; }

# A run that was killed leaves its containers behind: they carry our label and names.
remove_leftover() {
  local name="$1" kind="$2" label
  if [ "$kind" = network ]; then
    docker network inspect "$name" >/dev/null 2>&1 || return 0
    label="$(docker network inspect -f '{{ index .Labels "org.groundwork.integration" }}' "$name")"
    [ "$label" = galaxy ] || die "a network $name exists that this test did not create; remove or rename it"
    docker network rm "$name" >/dev/null
  else
    container_exists "$name" || return 0
    label="$(docker inspect -f '{{ index .Config.Labels "org.groundwork.integration" }}' "$name")"
    [ "$label" = galaxy ] || die "a container $name exists that this test did not create; remove or rename it"
    docker rm -f "$name" >/dev/null
  fi
}

create_set() {
  local set="$1" role name
  for role in "${ROLES[@]}"; do
    remove_leftover "gwit-$set-$role" container
  done
  remove_leftover "gwit-$set" network
  docker network create --label "$LABEL" "gwit-$set" >/dev/null
  NETWORKS+=("gwit-$set")
  for role in "${ROLES[@]}"; do
    name="gwit-$set-$role"
    # systemd as PID 1 with the settings that work on this engine (as scripts/demo.sh);
    # nothing is published on the host's ports.
    docker run -d --name "$name" --hostname "$name" --network "gwit-$set" --label "$LABEL" \
      --cap-add SYS_ADMIN --cap-add NET_ADMIN --cgroupns host \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      --stop-signal SIGRTMIN+3 \
      "$GW_IMAGE_REPO:$RELEASE" /lib/systemd/systemd >/dev/null
    CREATED+=("$name")
  done
}

# What cloud-init does on a cloud image: sshd, the default user with the key and sudo.
# The CA host gets python3-cryptography (roles/tls: a remote CA host needs it).
prepare_host() {
  local name="$1" extra="" state _try
  [ "${name##*-}" = db ] && extra=python3-cryptography
  # Right after the start systemctl may not reach systemd yet (no answer at all): ask again.
  for _try in $(seq 1 30); do
    state="$(docker exec "$name" timeout 90 systemctl is-system-running --wait 2>/dev/null || true)"
    [ -z "$state" ] || break
    sleep 1
  done
  case "$state" in
    running | degraded) ;;
    *) echo "systemd in $name did not come up (state: '$state')"; return 1 ;;
  esac
  docker exec -e DEBIAN_FRONTEND=noninteractive -e EXTRA="$extra" -e KEY="$(cat "$KEY.pub")" "$name" sh -euc '
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openssh-server $EXTRA >/dev/null
    # Debian has a system group "operator": the account joins it, as ansible.builtin.user does.
    id operator >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --gid operator operator
    install -d -m 0700 -o operator -g operator /home/operator/.ssh
    printf "%s\n" "$KEY" >/home/operator/.ssh/authorized_keys
    chown operator:operator /home/operator/.ssh/authorized_keys
    chmod 0600 /home/operator/.ssh/authorized_keys
    echo "operator ALL=(ALL) NOPASSWD:ALL" >/etc/sudoers.d/90-cloud-init-users
    chmod 0440 /etc/sudoers.d/90-cloud-init-users
    systemctl enable --now ssh.service >/dev/null 2>&1
    systemctl is-active ssh.service >/dev/null
  '
}

address() {
  docker inspect -f "{{ (index .NetworkSettings.Networks \"gwit-$2\").IPAddress }}" "$1"
}

subnet() {
  docker network inspect -f '{{ range .IPAM.Config }}{{ .Subnet }} {{ end }}' "gwit-$1" | awk '{print $1}'
}

# The operator logs in with the key and may use sudo, as Ansible will.
ssh_ready() {
  local ip="$1" _try
  for _try in $(seq 1 20); do
    if ssh -i "$KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      -o ConnectTimeout=5 -o LogLevel=ERROR "operator@$ip" sudo -n true 2>/dev/null; then
      return 0
    fi
    sleep 1
  done
  return 1
}

prepare_fixture() {
  local set role name pids=() names=() i
  for set in a b; do
    create_set "$set"
  done
  for set in a b; do
    for role in "${ROLES[@]}"; do
      name="gwit-$set-$role"
      prepare_host "$name" >"$WORK/logs/fixture-$name.log" 2>&1 &
      pids+=("$!")
      names+=("$name")
    done
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || {
      tail -n 20 "$WORK/logs/fixture-${names[$i]}.log" >&2
      die "preparing ${names[$i]} failed"
    }
  done
  for set in a b; do
    for role in "${ROLES[@]}"; do
      name="gwit-$set-$role"
      ssh_ready "$(address "$name" "$set")" || die "no SSH login as operator with sudo on $name"
    done
  done
}

# inventory SET FORMAT OUT [helper options]: the set's inventory
inventory() {
  local set="$1" format="$2" out="$3" role args=()
  shift 3
  for role in "${ROLES[@]}"; do
    args+=(--address "gwit-$set-$role=$(address "gwit-$set-$role" "$set")")
  done
  python3 "$HELPER" inventory --prefix "gwit-$set" --subnet "$(subnet "$set")" --admin-key "$KEY.pub" \
    --format "$format" --out "$out" "${args[@]}" "$@"
}

# controller DIR COMMAND...: COMMAND in DIR as a fresh controller: an empty HOME, no
# ansible.cfg, no collections path, no ssh-agent unless COMMAND names them (env VAR=...).
controller() {
  local dir="$1" home
  shift
  home="$(mktemp -d "$WORK/home.XXXXXX")"
  (cd "$dir" && env -u ANSIBLE_CONFIG -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_HOME -u SSH_AUTH_SOCK \
    -u SSH_AGENT_PID HOME="$home" "$@")
}

hosts_of() { printf 'gwit-%s-lb,gwit-%s-app1,gwit-%s-app2,gwit-%s-db' "$1" "$1" "$1" "$1"; }

# step SET LABEL COMMAND...: run a step, note its time; a failed step ends the set.
step() {
  local set="$1" label="$2" start=$SECONDS
  shift 2
  log "$set: $label"
  # In a subshell of its own, started outside any condition, so that errexit holds in it.
  ("$@") &
  if wait "$!"; then
    note "$set" "$label: passed in $(elapsed "$start")"
  else
    note "$set" "$label: FAILED after $(elapsed "$start")"
    return 1
  fi
}

# --- set A: AWX's way -------------------------------------------------------------------------
a_prepare() {
  local pdd="$WORK/a/pdd"
  mkdir -p "$pdd/project" "$pdd/inventory"
  install -m 0644 "$HERE/project/site.yml" "$pdd/project/site.yml"
  controller "$WORK/a" ansible-galaxy collection install -p "$pdd/project/collections" "$TARBALL" \
    >"$WORK/logs/a-install.log" 2>&1 || { cat "$WORK/logs/a-install.log"; return 1; }
  inventory a awx "$pdd/inventory"
  python3 "$HELPER" runner-env "$pdd" --key "$KEY" --password-file "$WORK/db_password" \
    --become-password "$(cat "$WORK/become_password")"
}

a_runner() {
  local ident="$1" pdd="$WORK/a/pdd" check=()
  [ "$ident" = 2 ] && check=(--unchanged)
  controller "$WORK/a" ansible-runner run "$pdd" -p site.yml --ident "$ident" \
    >"$WORK/logs/a-runner-$ident.console.log" 2>&1 || true
  cp "$pdd/artifacts/$ident/stdout" "$WORK/logs/a-runner-$ident.log" 2>/dev/null || true
  if ! python3 "$HELPER" runner-check "$pdd/artifacts/$ident" --label "ansible-runner run $ident" \
    --hosts "$(hosts_of a)" "${check[@]}"; then
    tail -n 60 "$WORK/logs/a-runner-$ident.log" "$WORK/logs/a-runner-$ident.console.log" 2>/dev/null
    return 1
  fi
}

a_navigator() {
  local dir="$WORK/a/user"
  mkdir -p "$dir"
  install -m 0644 "$GW_ROOT/requirements.yml" "$dir/requirements.yml"
  controller "$dir" ansible-galaxy collection install -p collections "$TARBALL" >"$WORK/logs/a-navigator-install.log" 2>&1 \
    || { cat "$WORK/logs/a-navigator-install.log"; return 1; }
  inventory a yaml "$dir/inventory" --credential --password-file "$WORK/db_password"
  # The README's command, as it stands.
  controller "$dir" env SSH_AUTH_SOCK="$SSH_AUTH_SOCK" ANSIBLE_COLLECTIONS_PATH=./collections \
    ansible-navigator run groundwork.server.site -i inventory/ --ee false --mode stdout \
    >"$WORK/logs/a-navigator.log" 2>&1 || { tail -n 60 "$WORK/logs/a-navigator.log"; return 1; }
  python3 "$HELPER" recap "$WORK/logs/a-navigator.log" --label "ansible-navigator" --hosts "$(hosts_of a)" \
    --unchanged
}

set_a() {
  set +m
  step a "ansible-runner private data directory (AWX layout)" a_prepare
  step a "ansible-runner run 1 (converge): successful, no failed or unreachable event" a_runner 1
  step a "ansible-runner run 2: successful, changed=0 on every host" a_runner 2
  step a "README: ansible-navigator run groundwork.server.site --ee false: changed=0" a_navigator
}

# --- set B: a user's directory, job slices ----------------------------------------------------
b_install() {
  local dir="$WORK/b/user" name
  mkdir -p "$dir"
  install -m 0644 "$TARBALL" "$dir/"
  install -m 0644 "$GW_ROOT/requirements.yml" "$dir/requirements.yml"
  inventory b yaml "$dir/inventory" --credential --password-file "$WORK/db_password"
  controller "$dir" ansible-galaxy collection install -p ./collections "$(basename "$TARBALL")" \
    >"$WORK/logs/b-install.log" 2>&1 || { cat "$WORK/logs/b-install.log"; return 1; }
  python3 "$HELPER" installed "$WORK/logs/b-install.log" --requirements "$dir/requirements.yml" \
    --collections "$dir/collections" --version "$VERSION" || return 1
  # requirements.yml resolves without Galaxy: every entry is satisfied where it is installed.
  controller "$dir" ansible-galaxy collection install --offline -r requirements.yml -p ./collections \
    >"$WORK/logs/b-requirements.log" 2>&1 || { cat "$WORK/logs/b-requirements.log"; return 1; }
  grep -q 'Nothing to do' "$WORK/logs/b-requirements.log" \
    || { cat "$WORK/logs/b-requirements.log"; echo "requirements.yml wanted to install something"; return 1; }
  controller "$dir" env ANSIBLE_COLLECTIONS_PATH=./collections \
    ansible-galaxy collection verify --offline groundwork.server >"$WORK/logs/b-verify.log" 2>&1 \
    || { cat "$WORK/logs/b-verify.log"; return 1; }
  # The directory holds nothing else.
  name="$(cd "$dir" && find . -mindepth 1 -maxdepth 1 | sort | paste -sd ' ')"
  [ "$name" = "$(printf '%s\n' "./$(basename "$TARBALL")" ./collections ./inventory ./requirements.yml | sort | paste -sd ' ')" ] \
    || { echo "unexpected content of the user's directory: $name"; return 1; }
}

b_slices() {
  local dir="$WORK/b/user" slices=() pids=() i rc=0
  mapfile -t slices < <(python3 "$HELPER" slices --inventory "$dir/inventory" --count 3)
  [ "${#slices[@]}" -eq 3 ] || { echo "expected 3 slices, got ${#slices[@]}"; return 1; }
  for i in 0 1 2; do
    echo "slice $((i + 1)) of 3: ${slices[$i]}"
    controller "$dir" env SSH_AUTH_SOCK="$SSH_AUTH_SOCK" ANSIBLE_COLLECTIONS_PATH=./collections \
      ansible-playbook groundwork.server.site -i inventory/ --limit "${slices[$i]}" \
      >"$WORK/logs/b-slice-$((i + 1)).log" 2>&1 &
    pids+=("$!")
  done
  for i in 0 1 2; do
    if ! wait "${pids[$i]}"; then
      echo "slice $((i + 1)) failed:"
      tail -n 60 "$WORK/logs/b-slice-$((i + 1)).log"
      rc=1
    fi
  done
  [ "$rc" -eq 0 ] || return 1
  for i in 0 1 2; do
    python3 "$HELPER" recap "$WORK/logs/b-slice-$((i + 1)).log" --label "slice $((i + 1))" \
      --hosts "${slices[$i]}" || rc=1
  done
  return "$rc"
}

b_full() {
  local dir="$WORK/b/user"
  controller "$dir" env SSH_AUTH_SOCK="$SSH_AUTH_SOCK" ANSIBLE_COLLECTIONS_PATH=./collections \
    ansible-playbook groundwork.server.site -i inventory/ >"$WORK/logs/b-full.log" 2>&1 \
    || { tail -n 60 "$WORK/logs/b-full.log"; return 1; }
  python3 "$HELPER" recap "$WORK/logs/b-full.log" --label "full run after the slices" --hosts "$(hosts_of b)" \
    --unchanged
}

# HTTPS through the balancer from an application server (it trusts the internal CA): both
# application servers answer, and the counter in the database rises with every request.
b_balance() {
  docker exec -i gwit-b-app1 python3 - <<'EOF'
import ssl
import urllib.request

context = ssl.create_default_context()
seen, counters = {}, []
for _ in range(20):
    with urllib.request.urlopen("https://gwit-b-lb:8443/", context=context, timeout=10) as answer:
        words = answer.read().decode().split()
    # served by <hostname> version <v> counter <n>
    seen[words[2]] = seen.get(words[2], 0) + 1
    counters.append(int(words[-1]))
print(f"answers by server: {seen}; counters {counters[0]}..{counters[-1]}")
assert set(seen) == {"gwit-b-app1", "gwit-b-app2"}, seen
assert counters == sorted(counters) and len(set(counters)) == len(counters), counters
EOF
}

set_b() {
  set +m
  step b "ansible-galaxy collection install of the tarball (dependencies offline)" b_install
  step b "three slices at once (AWX's slicing, each --limit to its hosts)" b_slices
  step b "one full run after the slices: changed=0 on every host" b_full
  step b "HTTPS through the balancer reaches both application servers" b_balance
}

# --- main ---------------------------------------------------------------------------------------
main() {
  local start pid_a pid_b rc_a=0 rc_b=0
  ensure_venv
  ensure_docker
  ensure_images "$RELEASE"
  activate_venv
  if ! have ssh-keygen || ! have ssh-agent; then apt_install openssh-client; fi
  mkdir -p "$GW_ROOT/.build/integration"
  # One run at a time: the containers have fixed names.
  exec 9>"$GW_ROOT/.build/integration/galaxy.lock"
  flock -n 9 || die "another run of tests/integration/galaxy.sh holds $GW_ROOT/.build/integration/galaxy.lock"

  WORK="$(mktemp -d "${TMPDIR:-/tmp}/gwit-galaxy.XXXXXX")"
  case "$WORK/" in "$GW_ROOT/"*) die "the work directory $WORK lies inside the repository" ;; esac
  mkdir -p "$WORK/logs" "$WORK/dist" "$WORK/a" "$WORK/b"
  : >"$WORK/main.results"

  start=$SECONDS
  (cd "$GW_ROOT" && ansible-galaxy collection build --force --output-path "$WORK/dist" >/dev/null)
  TARBALL="$(ls "$WORK"/dist/groundwork-server-*.tar.gz)"
  VERSION="$(basename "$TARBALL" .tar.gz)"
  VERSION="${VERSION#groundwork-server-}"
  note main "build $(basename "$TARBALL"): $(elapsed "$start")"

  # The run's throwaway credentials: the admin's key, the database password, a become password.
  KEY="$WORK/key/id_ed25519"
  mkdir -m 0700 "$WORK/key"
  ssh-keygen -q -t ed25519 -N '' -C gwit-galaxy -f "$KEY"
  python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$WORK/db_password"
  python3 -c 'import secrets; print(secrets.token_urlsafe(12))' >"$WORK/become_password"
  # The user's ssh-agent, for the runs that are not ansible-runner's (it brings its own).
  eval "$(ssh-agent -s -a "$WORK/key/agent.sock")" >/dev/null
  AGENT_PID="$SSH_AGENT_PID"
  ssh-add -q "$KEY"

  start=$SECONDS
  log "Creating and preparing gwit-a-* and gwit-b-* (Debian $RELEASE)"
  prepare_fixture
  note main "containers (8, Debian $RELEASE, sshd and the operator account): $(elapsed "$start")"

  start=$SECONDS
  log "Running set A (ansible-runner, AWX layout) and set B (user install, job slices) at the same time"
  set -m
  set_a >"$WORK/logs/set-a.log" 2>&1 &
  pid_a=$!
  JOBS+=("$pid_a")
  set_b >"$WORK/logs/set-b.log" 2>&1 &
  pid_b=$!
  JOBS+=("$pid_b")
  set +m
  wait "$pid_a" || rc_a=$?
  wait "$pid_b" || rc_b=$?
  JOBS=()
  note main "sets A and B at the same time: $(elapsed "$start")"

  printf '\n===== tests/integration/galaxy.sh =====\n'
  printf 'A (AWX: ansible-runner, then ansible-navigator):\n'
  sed 's/^/  /' "$WORK/a.results" 2>/dev/null || true
  printf 'B (installed by a user, three job slices):\n'
  sed 's/^/  /' "$WORK/b.results" 2>/dev/null || true
  sed 's/^/  /' "$WORK/main.results"
  printf '  total: %ss\n' "$((SECONDS - START))"
  if [ "$rc_a" -ne 0 ] || [ "$rc_b" -ne 0 ]; then
    [ "$rc_a" -eq 0 ] || { printf '\n----- set A: the end of its log -----\n'; tail -n 80 "$WORK/logs/set-a.log"; }
    [ "$rc_b" -eq 0 ] || { printf '\n----- set B: the end of its log -----\n'; tail -n 80 "$WORK/logs/set-b.log"; }
    die "tests/integration/galaxy.sh failed (logs: ${LOGS#"$GW_ROOT"/}/)"
  fi
  printf 'PASSED\n'
}

main "$@"
