# shellcheck shell=bash
# Shared helpers for the set-up, demo and test scripts. Sourced, never executed.
#
# Everything here is idempotent: each ensure_* function checks first and only does
# work when something is missing, so the two README commands are safe to re-run.

set -euo pipefail

GW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GW_VENV="${GW_VENV:-$GW_ROOT/.venv}"
GW_DEBIAN_MIRROR="${GW_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
GW_DEBIAN_SECURITY_MIRROR="${GW_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
GW_DOCKER_WAIT="${GW_DOCKER_WAIT:-60}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }

# Install Debian packages when we are root on a Debian-like system; otherwise explain.
apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! is_root || ! have apt-get; then
    die "missing packages: ${missing[*]} (install them, or run as root on Debian)"
  fi
  log "Installing Debian packages: ${missing[*]}"
  # apt-get update once per invocation: package lists on a fresh machine are empty.
  if [ -z "${__GW_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    __GW_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------------------------------
# Python virtual environment with pinned tools (requirements-dev.txt)
# ---------------------------------------------------------------------------------------
pick_python() {
  local candidate
  for candidate in "${GW_PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    have "$candidate" || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# The pinned packages the demo needs of requirements-dev.txt (ansible-playbook and the
# collections it bundles), with requirements.txt: a demo on a fresh machine installs only
# these; the tests' tools (scripts/setup.sh, scripts/test.sh) add the rest to the same venv.
GW_DEMO_REQUIREMENTS='^(ansible-core|ansible|jinja2)=='

# The requirements of a profile: dev (requirements-dev.txt, the default) or demo.
venv_requirements() {
  case "$1" in
    dev) cat "$GW_ROOT/requirements-dev.txt" ;;
    demo)
      grep -E "$GW_DEMO_REQUIREMENTS" "$GW_ROOT/requirements-dev.txt"
      grep -Ev '^[[:space:]]*(#|$)' "$GW_ROOT/requirements.txt"
      ;;
    *) die "unknown venv profile '$1' (dev or demo)" ;;
  esac
}

# ensure_venv: the venv $GW_VENV with requirements-dev.txt.
ensure_venv() { ensure_venv_profile dev; }

# ensure_venv_profile dev|demo: the venv $GW_VENV with the profile's pinned packages. A venv
# that has the dev profile serves the demo too.
ensure_venv_profile() {
  local profile="$1"
  local stamp_dev="$GW_VENV/.requirements.sha256"
  local stamp="$stamp_dev"
  [ "$profile" = dev ] || stamp="$GW_VENV/.requirements-$profile.sha256"
  local want want_dev
  want_dev="$(sha256sum "$GW_ROOT/requirements-dev.txt" | cut -d' ' -f1)"
  if [ "$profile" = dev ]; then
    want="$want_dev"
  else
    want="$(venv_requirements "$profile" | sha256sum | cut -d' ' -f1)"
  fi
  if [ -x "$GW_VENV/bin/python" ]; then
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
    [ -f "$stamp_dev" ] && [ "$(cat "$stamp_dev")" = "$want_dev" ] && return 0
  fi
  local py
  py="$(pick_python)" || {
    apt_install python3 python3-venv
    py="$(pick_python)" || die "Python 3.11 or newer is required"
  }
  if [ ! -x "$GW_VENV/bin/python" ]; then
    log "Creating virtual environment $GW_VENV with $py"
    if ! "$py" -m venv "$GW_VENV" 2>/dev/null; then
      rm -rf "$GW_VENV"
      # Debian's python3 ships venv without ensurepip until python3-venv is installed.
      apt_install python3-venv
      "$py" -m venv "$GW_VENV"
    fi
  fi
  if [ "$profile" = dev ]; then
    log "Installing pinned Python packages from requirements-dev.txt"
  else
    log "Installing the pinned Python packages the $profile needs (part of requirements-dev.txt)"
  fi
  local requirements
  requirements="$(mktemp)"
  venv_requirements "$profile" >"$requirements"
  "$GW_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$GW_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  rm -f "$requirements"
  printf '%s\n' "$want" >"$stamp"
}

# Make the working tree resolve as the collection groundwork.server: ansible.cfg points
# collections_path at .collections/, which holds a link back to the repository root.
ensure_collection_link() {
  local dir="$GW_ROOT/.collections/ansible_collections/groundwork"
  mkdir -p "$dir"
  if [ "$(readlink "$dir/server" 2>/dev/null)" != "../../.." ]; then
    rm -rf "$dir/server"
    ln -s ../../.. "$dir/server"
  fi
}

activate_venv() {
  # shellcheck disable=SC1091
  . "$GW_VENV/bin/activate"
  export ANSIBLE_CONFIG="$GW_ROOT/ansible.cfg"
  export ANSIBLE_COLLECTIONS_PATH="$GW_ROOT/.collections"
  export ANSIBLE_HOME="${ANSIBLE_HOME:-$HOME/.ansible}"
}

# ---------------------------------------------------------------------------------------
# Docker engine
# ---------------------------------------------------------------------------------------
docker_answers() { have docker && timeout 10 docker info >/dev/null 2>&1; }

# Every systemd container takes inotify instances from the host's shared per-user limit
# (Debian's default: 128); a few multi-container scenarios exhaust it and systemd in the
# next container hangs at "initializing" ("Failed to create inotify object").
ensure_inotify_instances() {
  local file=/proc/sys/fs/inotify/max_user_instances wanted=1024
  [ -r "$file" ] || return 0
  [ "$(cat "$file")" -ge "$wanted" ] && return 0
  if is_root; then
    log "Raising fs.inotify.max_user_instances to $wanted for systemd containers"
    sysctl -q -w "fs.inotify.max_user_instances=$wanted" || warn "could not raise fs.inotify.max_user_instances"
  else
    warn "fs.inotify.max_user_instances is $(cat "$file"): raise it to $wanted (sysctl) for systemd containers"
  fi
}

ensure_docker() {
  ensure_inotify_instances
  docker_answers && return 0
  if ! have dockerd; then
    apt_install docker.io
  fi
  have docker || die "docker CLI not found after installing docker.io"
  docker_answers && return 0   # the package's own unit may have started it
  is_root || die "no Docker engine answers and we are not root to start one"

  # A daemon killed without cleanup leaves its pid file behind; dockerd refuses to
  # start while the file names a pid, so remove it when that pid is not a dockerd.
  local pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ]; then
    local pid
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [ -z "$pid" ] || ! [ -r "/proc/$pid/comm" ] || [ "$(cat "/proc/$pid/comm")" != "dockerd" ]; then
      warn "removing stale $pidfile (pid '${pid}' is not a running dockerd)"
      rm -f "$pidfile"
    fi
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    log "Starting dockerd (log: /var/log/dockerd.log)"
    if have systemctl && [ -d /run/systemd/system ]; then
      systemctl start docker || true
    fi
    if ! pgrep -x dockerd >/dev/null 2>&1; then
      # its own session: ending the shell (or its process group) that started it must not stop it
      setsid nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
      disown || true
    fi
  fi
  local waited=0
  until docker_answers; do
    [ "$waited" -ge "$GW_DOCKER_WAIT" ] && die "Docker engine did not answer within ${GW_DOCKER_WAIT}s (see /var/log/dockerd.log)"
    sleep 1
    waited=$((waited + 1))
  done
  log "Docker engine answers after ${waited}s"
}

# ansible-test bootstraps pip in its virtual environments with a script it downloads
# from a host that is not reachable here. It accepts a cached copy; ours bootstraps pip
# from the standard library's ensurepip and then installs what ansible-test asked for.
ensure_ansible_test_bootstrap() {
  local cache="$HOME/.ansible/test/cache" pip_version
  # The pip version ansible-test pins for its virtual environments (24.2 in 2.19).
  pip_version="$(sed -n "s/^ *pip='\([0-9.]*\)',\{0,1\}$/\1/p" \
    "$GW_VENV"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n1)"
  [ -n "$pip_version" ] || die "cannot find the pip version that ansible-test expects"
  mkdir -p "$cache"
  install -m 0644 "$GW_ROOT/scripts/lib/get_pip_standin.py" "$cache/get_pip_${pip_version//./_}.py"
}

# ansible-test needs the collection under .../ansible_collections/<namespace>/<name>;
# copy the files git knows about (tracked, and new ones not ignored) into such a tree.
stage_tree() {
  local dest="$1"
  rm -rf "$dest"
  mkdir -p "$dest"
  (cd "$GW_ROOT" && git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf -) | tar -C "$dest" -xf -
  # The copy lies inside this repository's ignored .build/; give it a git index of its
  # own, so that ansible-test lists its files from there.
  git -C "$dest" init -q
  git -C "$dest" add -A
}

# ---------------------------------------------------------------------------------------
# Step timing: each step of a script records when it started and how long it took; the
# script prints them at the end (steps run in parallel overlap).
# ---------------------------------------------------------------------------------------
now_s() { date +%s.%N; }

# steps_begin FILE: start recording into FILE (the time the script started is its origin).
steps_begin() {
  GW_STEPS_FILE="$1"
  GW_STEPS_ORIGIN="$(now_s)"
  export GW_STEPS_FILE GW_STEPS_ORIGIN
  : >"$GW_STEPS_FILE"
}

# timed NAME COMMAND...: run COMMAND and record the step NAME (also in a background job).
timed() {
  local name="$1" start end
  shift
  start="$(now_s)"
  "$@"
  end="$(now_s)"
  [ -n "${GW_STEPS_FILE:-}" ] && printf '%s\t%s\t%s\n' "$name" "$start" "$end" >>"$GW_STEPS_FILE"
  return 0
}

# print_steps: a table of the recorded steps (start from the origin, duration) and the total.
print_steps() {
  [ -s "${GW_STEPS_FILE:-}" ] || return 0
  printf '\nTime of each step (steps side by side in time ran in parallel):\n'
  awk -F'\t' -v origin="$GW_STEPS_ORIGIN" -v end="$(now_s)" '
    { printf "  %-44s starts at %6.1f s, took %6.1f s\n", $1, $2 - origin, $3 - $2 }
    END { printf "  %-44s %25.1f s\n", "total (until now)", end - origin }' "$GW_STEPS_FILE"
}

