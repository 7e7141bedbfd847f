# shellcheck shell=bash
# The supported ansible-core versions beyond the main venv's. Sourced after
# scripts/lib/common.sh (venv active), never executed.
#
# The main venv (.venv, Python 3.11, requirements-dev.txt) holds the oldest supported core,
# 2.19, the newest pip installs for Debian 12's Python. The newer ones need Python 3.12 or
# newer; each gets a venv of its own, .venv-core-<core>, from tests/requirements/core-<core>.txt:
#   stage_cores                    ansible-test sanity and the unit tests under each of them
#   with_core <core> CMD [ARG...]  CMD with that core's venv first in PATH (molecule test -s stack)
# Where no such Python is found, each says so and the versions it can run are run.

# shellcheck source=scripts/lib/graphviz.sh
. "$GW_ROOT/scripts/lib/graphviz.sh"

# The cores tested here, oldest first, and the Python each needs at least.
GW_CORES=(2.20 2.21)
# shellcheck disable=SC2034  # read by scripts/test.sh (the stack scenario under the newest)
GW_NEWEST_CORE="${GW_CORES[-1]}"
GW_CORE_MIN_PYTHON=3.12

core_venv() { printf '%s/.venv-core-%s' "$GW_ROOT" "$1"; }

# The Pythons worth trying for a core, preferred first: 2.20 on the oldest that it supports,
# 2.21 on the next, so that the two cores run on two Pythons when both exist; then any other.
core_python_candidates() {
  local order name path root="${PYENV_ROOT:-$HOME/.pyenv}"
  case "$1" in
    2.20) order="3.12 3.13 3.14" ;;
    *) order="3.13 3.14 3.12" ;;
  esac
  for name in $order; do
    # GW_PYTHON3_12=/path/to/python3.12 names one explicitly.
    local var="GW_PYTHON${name//./_}"
    [ -z "${!var:-}" ] || printf '%s\n' "${!var}"
    # PATH (pyenv's shims answer only for the pyenv versions selected; the check below
    # runs them), then pyenv's own versions.
    command -v "python$name" 2>/dev/null || true
    for path in "$root"/versions/"$name".*/bin/"python$name"; do
      printf '%s\n' "$path"
    done
  done
}

# core_python CORE -> the path of a Python that runs it, or status 1.
core_python() {
  local candidate min="$GW_CORE_MIN_PYTHON"
  while IFS= read -r candidate; do
    [ -x "$candidate" ] || continue
    if "$candidate" -c "import sys, venv; sys.exit(sys.version_info[:2] < tuple(map(int, '$min'.split('.'))))" \
      >/dev/null 2>&1; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done < <(core_python_candidates "$1")
  return 1
}

core_missing_reason() { printf 'no Python %s+ here' "$GW_CORE_MIN_PYTHON"; }

# ensure_core_venv CORE: create or refresh .venv-core-CORE (its record: the requirement
# file's hash and the Python's version). Status 2 and a message when no suitable Python
# exists; 1 when the installation fails. Its output goes to stderr only (pool_jobs in
# scripts/test.sh prints jobs on stdout).
ensure_core_venv() {
  local core="$1" venv req py want stamp
  venv="$(core_venv "$core")"
  req="$GW_ROOT/tests/requirements/core-$core.txt"
  [ -f "$req" ] || die "no requirement file for ansible-core $core ($req)"
  if ! py="$(core_python "$core")"; then
    printf 'ansible-core %s not tested: %s\n' "$core" "$(core_missing_reason "$core")" >&2
    return 2
  fi
  stamp="$venv/.requirements.sha256"
  want="$(sha256sum "$req" | cut -d' ' -f1) $("$py" -c 'import platform; print(platform.python_version())')"
  if ! [ -x "$venv/bin/python" ] || ! "$venv/bin/python" -c '' 2>/dev/null \
    || ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "ansible-core $core: virtual environment ${venv#"$GW_ROOT"/} with $py" >&2
    rm -rf "$venv"
    "$py" -m venv "$venv" >&2 || return 1
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 || return 1
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2 || return 1
    printf '%s\n' "$want" >"$stamp"
  fi
  core_ansible_test_bootstrap "$core" >&2
}

# The get-pip stand-in (scripts/lib/get_pip_standin.py, see ensure_ansible_test_bootstrap in
# common.sh) under the pip version this core's ansible-test pins.
core_ansible_test_bootstrap() {
  local cache="$HOME/.ansible/test/cache" pip_version
  pip_version="$(sed -n "s/^ *pip='\([0-9.]*\)',\{0,1\}$/\1/p" \
    "$(core_venv "$1")"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n1)"
  [ -n "$pip_version" ] || die "cannot find the pip version that ansible-test $1 expects"
  mkdir -p "$cache"
  install -m 0644 "$GW_ROOT/scripts/lib/get_pip_standin.py" "$cache/get_pip_${pip_version//./_}.py"
}

# core_available CORE: its venv is ready (created when missing); status 1 when no suitable
# Python exists; a failed installation ends the run.
core_available() {
  local rc=0
  ensure_core_venv "$1" || rc=$?
  case "$rc" in
    0) return 0 ;;
    2) return 1 ;;
    *) die "could not set up the virtual environment of ansible-core $1" ;;
  esac
}

# with_core CORE CMD [ARG...]: CMD with the venv of CORE active (its bin first in PATH).
with_core() {
  local core="$1" venv
  shift
  venv="$(core_venv "$core")"
  [ -x "$venv/bin/ansible" ] || die "ansible-core $core: no venv ${venv#"$GW_ROOT"/} (ensure_core_venv $core first)"
  env VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" "$@"
}

# core_python_version CORE -> "3.12": the Python of the core's venv.
core_python_version() {
  "$(core_venv "$1")/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])'
}

# ansible-test sanity under CORE, on a copy of the tree of its own (.build/sanity-CORE/).
# ansible-test keeps its test venvs per Python version in ~/.ansible/test/venv: two cores on
# the same Python take turns.
core_sanity() {
  local core="$1" tree="$GW_ROOT/.build/sanity-$1/ansible_collections/groundwork/server" python
  python="$(core_python_version "$core")"
  stage_tree "$tree"
  (cd "$tree" && with_core "$core" flock "$GW_ROOT/.build/ansible-test-python$python.lock" \
    ansible-test sanity --venv --python "$python" --color no)
}

# The unit tests under CORE, with WORKERS pytest-xdist workers. Every test runs; the property
# tests with hypothesis' profile "cores" (tests/unit/conftest.py: at most 50 examples each, a
# quarter of the main run's): the values they draw do not depend on the core, and the main
# venv's run has drawn the full count.
core_units() {
  local core="$1" workers="${2:-auto}"
  (cd "$GW_ROOT" && with_core "$core" env GW_HYPOTHESIS_PROFILE=cores \
    pytest -q -p no:cacheprovider -n "$workers" tests/unit)
}

# One core's lane: sanity, then the unit tests (two workers: the other lane's sanity leaves
# much of the second CPU idle). Its output goes to .build/cores/CORE.log; one line per step
# on stdout.
core_lane() {
  local core="$1" log="$GW_ROOT/.build/cores/$1.log" start=$SECONDS
  if ! core_sanity "$core" >"$log" 2>&1; then
    printf 'ansible-core %s: sanity FAILED after %ss\n' "$core" "$((SECONDS - start))"
    return 1
  fi
  printf 'ansible-core %s: sanity passed in %ss\n' "$core" "$((SECONDS - start))"
  start=$SECONDS
  if ! core_units "$core" 2 >>"$log" 2>&1; then
    printf 'ansible-core %s: units FAILED after %ss\n' "$core" "$((SECONDS - start))"
    return 1
  fi
  printf 'ansible-core %s: units passed in %ss\n' "$core" "$((SECONDS - start))"
}

# Sanity and the unit tests under every core of GW_CORES that a Python here can run, one
# lane per core, the lanes at the same time: ansible-test sanity runs its tests one after
# another, mostly on one CPU, so two lanes keep both CPUs of the CI machine busy. A core
# without a Python is reported (note_result: a line in the summary of scripts/test.sh) and skipped.
stage_cores() {
  local core index dir="$GW_ROOT/.build/cores" rc=0 status lines
  local ready=() pids=() failed=()
  have shellcheck || apt_install shellcheck
  ensure_unit_test_tools
  rm -rf "$dir"
  mkdir -p "$dir"
  for core in "${GW_CORES[@]}"; do
    status=0
    ensure_core_venv "$core" || status=$?
    case "$status" in
      0) ready+=("$core") ;;
      2) note_result "ansible-core $core not tested: $(core_missing_reason "$core")" ;;
      *) die "could not set up the virtual environment of ansible-core $core" ;;
    esac
  done
  [ "${#ready[@]}" -gt 0 ] || return 0
  for core in "${ready[@]}"; do
    log "ansible-core $core: sanity and units on Python $(core_python_version "$core") (log: .build/cores/$core.log)"
    core_lane "$core" >"$dir/$core.result" &
    pids+=("$!")
  done
  for index in "${!ready[@]}"; do
    core="${ready[$index]}"
    status=0
    wait "${pids[$index]}" || status=$?
    mapfile -t lines <"$dir/$core.result"
    printf '%s\n' "${lines[@]}" >&2
    printf '%s\n' "${lines[@]}" >>"$GW_TEST_OUT/results"
    if [ "$status" -ne 0 ]; then
      printf '\n----- ansible-core %s: the end of its log (.build/cores/%s.log) -----\n' "$core" "$core" >&2
      tail -n 150 "$dir/$core.log" >&2
      failed+=("ansible-core $core (log: .build/cores/$core.log)")
      rc=1
    fi
  done
  [ "$rc" -eq 0 ] || note_failure "${failed[*]}"
  return "$rc"
}
