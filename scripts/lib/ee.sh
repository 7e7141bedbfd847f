# shellcheck shell=bash
# The collection tarball and the execution environment (execution-environment.yml).
# Sourced after scripts/lib/common.sh with the venv active, never executed. Every step
# returns on failure by itself, so that the functions also fail where errexit is off.
#
# Building the image needs the base image's registry, which this machine cannot reach. What
# is checked instead, without network: the build context `ansible-builder create` writes
# (.build/ee), the galaxy stage of that context replayed offline (the context's
# requirements.yml installed from the context's _build/ as the Containerfile runs it, the
# dependencies taken from the ansible package in the venv), and what ansible-builder's
# introspection - the step that decides the image's Python and system packages - reads from
# the installed collection.

# The tarball ships what users need and nothing of the development tree, and its
# MANIFEST.json carries galaxy.yml's metadata (scripts/lib/check_tarball.py).
check_tarball() {
  python "$GW_ROOT/scripts/lib/check_tarball.py" "$1" "$GW_ROOT"
}

# Print a log file and fail.
__ee_failed() {
  cat "$1" >&2
  shift
  [ "$#" -eq 0 ] || printf '%s\n' "$@" >&2
  return 1
}

check_ee() {
  local start=$SECONDS dir="$GW_ROOT/.build/ee-check" context="$GW_ROOT/.build/ee"
  local tarball purelib collection dependencies
  rm -rf "$dir" "$context"
  mkdir -p "$dir/src" "$dir/alone" "$dir/galaxy/ansible_collections" || return 1

  # The tarball beside a copy of the definition, whose additional_build_files glob
  # (groundwork-server-*.tar.gz) is relative to the definition's directory.
  (cd "$GW_ROOT" && ansible-galaxy collection build --force --output-path "$dir/src") >"$dir/build.log" 2>&1 \
    || __ee_failed "$dir/build.log" || return 1
  tarball="$(ls "$dir"/src/groundwork-server-*.tar.gz)" || return 1
  check_tarball "$tarball" || return 1
  cp "$GW_ROOT/execution-environment.yml" "$dir/src/" || return 1
  ansible-builder create --file "$dir/src/execution-environment.yml" --context "$context" \
    --output-filename Containerfile >"$dir/create.log" 2>&1 || __ee_failed "$dir/create.log" || return 1

  # Introspection of the collection alone, installed from the tarball into an empty path.
  ANSIBLE_COLLECTIONS_PATH="$dir/alone" ansible-galaxy collection install --offline --no-deps \
    -p "$dir/alone" "$tarball" >"$dir/install.log" 2>&1 || __ee_failed "$dir/install.log" || return 1
  ansible-builder introspect "$dir/alone" >"$dir/introspect.yml" || return 1

  # The galaxy stage replayed: the context's requirements.yml, from the context's _build/
  # (the Containerfile's WORKDIR /build), with galaxy.yml's dependencies already present -
  # copies of the ansible package's (never links: nothing may touch the venv), which must
  # satisfy the declared ranges offline. Then the builder stage's introspection with the
  # context's own introspect.py.
  purelib="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || return 1
  dependencies="$(python -c 'import sys, yaml; print(*yaml.safe_load(open(sys.argv[1]))["dependencies"])' \
    "$GW_ROOT/galaxy.yml")" || return 1
  for collection in $dependencies; do
    mkdir -p "$dir/galaxy/ansible_collections/${collection%.*}" || return 1
    cp -a "$purelib/ansible_collections/${collection/.//}" "$dir/galaxy/ansible_collections/${collection/.//}" \
      || return 1
  done
  : >"$dir/ansible.cfg"
  (cd "$context/_build" && env -u ANSIBLE_COLLECTIONS_PATH ANSIBLE_CONFIG="$dir/ansible.cfg" \
    ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1 ansible-galaxy collection install --offline \
    -r requirements.yml --collections-path "$dir/galaxy") >"$dir/galaxy.log" 2>&1 \
    || __ee_failed "$dir/galaxy.log" \
      "The build context's galaxy stage failed (above): execution-environment.yml must name the" \
      "tarball of galaxy.yml's version, and its ranges must admit the ansible package's collections." \
    || return 1
  python "$context/_build/scripts/introspect.py" introspect "$dir/galaxy" \
    --write-pip "$dir/requirements.txt" --write-bindep "$dir/bindep.txt" >/dev/null || return 1
  # bindep parses the combined file and lists this platform's packages from it.
  bindep -f "$dir/bindep.txt" -l newline >"$dir/bindep-this-platform.txt" || return 1

  python "$GW_ROOT/scripts/lib/check_ee.py" "$GW_ROOT" "$context" "$tarball" "$dir/introspect.yml" \
    "$dir/requirements.txt" "$dir/bindep.txt" || return 1
  log "Execution environment checked in $((SECONDS - start))s (build context: ${context#"$GW_ROOT"/})"
}
