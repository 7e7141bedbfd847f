#!/usr/bin/env bash
# Run every test stage, stopping at the first one that fails and naming it:
#   ruff → ansible-lint → sanity → units → build → molecule
# Set-up is part of it (venv, Docker engine, base images) and is safe to re-run.
#
# Usage: scripts/test.sh [STAGE...]
#   GW_TEST_RELEASES="12 13"   Debian releases every Molecule scenario runs on
#   GW_TEST_SCENARIOS="base"   limit the Molecule stage to these scenarios
#   GW_TEST_JOBS=2             Molecule scenarios run at the same time
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$GW_ROOT/scripts/lib/images.sh"
# shellcheck source=scripts/lib/graphviz.sh
. "$GW_ROOT/scripts/lib/graphviz.sh"

ALL_STAGES=(ruff ansible-lint sanity units build molecule)
GW_TEST_RELEASES="${GW_TEST_RELEASES:-12 13}"

stage_ruff() {
  ruff check "$GW_ROOT"
  ruff format --check "$GW_ROOT"
}

stage_ansible_lint() {
  (cd "$GW_ROOT" && ansible-lint --offline --profile production)
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

stage_sanity() {
  local tree="$GW_ROOT/.build/sanity/ansible_collections/groundwork/server"
  local python
  python="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  # ansible-test skips its shellcheck test when the program is missing.
  have shellcheck || apt_install shellcheck
  stage_tree "$tree"
  (cd "$tree" && ansible-test sanity --venv --python "$python" --color no)
}

stage_units() {
  local rc=0
  # The architecture picture's tests render with Graphviz's dot.
  ensure_graphviz
  # Both cores: the property tests (hypothesis) are most of the time.
  (cd "$GW_ROOT" && pytest -q -p no:cacheprovider -n auto tests/unit) || rc=$?
  # pytest exits 5 when it collects nothing: no unit tests is a failure here too.
  return "$rc"
}

# The collection builds, installs from the tarball into an empty path, and ansible-doc
# renders every role's arguments from the installed copy; antsibull-docs lints the
# documentation (schemas, and semantic markup that names options, plugins and roles that
# exist, here and in the collections it depends on, from the ansible package in the venv).
# The linter wants galaxy.yml, which an installed copy does not have: it reads the tree.
stage_build() {
  local out="$GW_ROOT/.build/dist"
  rm -rf "$out"
  mkdir -p "$out/collections"
  (cd "$GW_ROOT" && ansible-galaxy collection build --force --output-path "$out" >/dev/null)
  local tarball
  tarball="$(ls "$out"/groundwork-server-*.tar.gz)"
  log "Built $(basename "$tarball") ($(du -h "$tarball" | cut -f1))"
  ANSIBLE_COLLECTIONS_PATH="$out/collections" ansible-galaxy collection install --offline --no-deps \
    -p "$out/collections" "$tarball" >/dev/null
  python "$GW_ROOT/scripts/lib/check_role_docs.py" "$out/collections" "$GW_ROOT/roles" groundwork.server
  local bundled
  bundled="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  (cd "$GW_ROOT/.collections/ansible_collections/groundwork/server" \
    && ANSIBLE_COLLECTIONS_PATH="$GW_ROOT/.collections:$bundled" \
      antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs dependent .)
}

scenarios() {
  local dir name
  if [ -n "${GW_TEST_SCENARIOS:-}" ]; then
    # shellcheck disable=SC2086  # a space-separated list on purpose
    printf '%s\n' $GW_TEST_SCENARIOS
    return
  fi
  for dir in "$GW_ROOT"/molecule/*/; do
    name="$(basename "$dir")"
    [ -f "$dir/molecule.yml" ] && printf '%s\n' "$name"
  done
}

# A scenario runs on every release in GW_TEST_RELEASES, unless its directory has a file
# "releases" listing the ones it runs on (a multi-host scenario that CI time allows once).
runs_on() {
  local file="$GW_ROOT/molecule/$1/releases"
  [ -f "$file" ] || return 0
  grep -qxF "$2" <(tr -s ' \t' '\n' <"$file")
}

# One scenario on one release; its output goes to a log file, shown when it fails.
# The same scenario never runs twice at once (its containers and network have fixed names).
molecule_job() {
  local scenario="$1" release="$2" logfile="$3" start=$SECONDS
  log "molecule test -s $scenario on Debian $release (log: ${logfile#"$GW_ROOT"/})"
  if (cd "$GW_ROOT" && flock "$GW_ROOT/.build/molecule/$scenario.lock" \
    env GW_MOLECULE_IMAGE="$GW_IMAGE_REPO:$release" molecule test -s "$scenario") >"$logfile" 2>&1; then
    printf 'molecule %s (Debian %s): passed in %ss\n' "$scenario" "$release" "$((SECONDS - start))"
    return 0
  fi
  printf 'molecule %s (Debian %s): FAILED after %ss\n' "$scenario" "$release" "$((SECONDS - start))"
  return 1
}

# A worker takes the next job from the shared list until none is left or one failed.
molecule_worker() {
  local dir="$1" index job
  while :; do
    [ -e "$dir/failed" ] && return 0
    # shellcheck disable=SC2016  # expanded by the inner shell, under the lock
    index="$(flock "$dir/next.lock" sh -c 'n=$(cat "$1"); echo $((n + 1)) >"$1"; echo "$n"' sh "$dir/next")"
    job="$(sed -n "$((index + 1))p" "$dir/jobs")"
    [ -n "$job" ] || return 0
    # shellcheck disable=SC2086  # "scenario release"
    set -- $job
    if ! molecule_job "$1" "$2" "$dir/$1-$2.log" >>"$dir/results"; then
      echo "$1 $2" >>"$dir/failed"
    fi
  done
}

# Scenarios run GW_TEST_JOBS at a time (default 2): they spend most of their time waiting
# on containers, package downloads and timeouts, so two share this 2-core machine well.
stage_molecule() {
  local release scenario worker dir="$GW_ROOT/.build/molecule" jobs="${GW_TEST_JOBS:-2}"
  [[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "GW_TEST_JOBS must be a positive integer (got '$jobs')"
  # shellcheck disable=SC2086
  ensure_images $GW_TEST_RELEASES
  # The stack scenario draws the architecture picture.
  ensure_graphviz
  rm -rf "$dir"
  mkdir -p "$dir"
  echo 0 >"$dir/next"
  : >"$dir/results"
  for release in $GW_TEST_RELEASES; do
    for scenario in $(scenarios); do
      if runs_on "$scenario" "$release"; then
        echo "$scenario $release" >>"$dir/jobs"
      else
        RESULTS+=("molecule $scenario (Debian $release): not run (molecule/$scenario/releases)")
      fi
    done
  done
  # The longest first (the stack scenarios), so that none runs alone at the end.
  if grep -q '^stack' "$dir/jobs"; then
    { grep '^stack' "$dir/jobs"; grep -v '^stack' "$dir/jobs"; } >"$dir/jobs.sorted"
    mv "$dir/jobs.sorted" "$dir/jobs"
  fi
  local pids=()
  for ((worker = 1; worker <= jobs; worker++)); do
    molecule_worker "$dir" &
    pids+=("$!")
  done
  wait "${pids[@]}"
  mapfile -t -O "${#RESULTS[@]}" RESULTS <"$dir/results"
  if [ -s "$dir/failed" ]; then
    local failed
    while read -r scenario release; do
      printf '\n----- molecule %s (Debian %s): the end of its log (%s) -----\n' \
        "$scenario" "$release" "$dir/$scenario-$release.log" >&2
      tail -n 150 "$dir/$scenario-$release.log" >&2
    done <"$dir/failed"
    failed="$(paste -sd ',' "$dir/failed")"
    FAILED_DETAIL="scenario(s) ${failed//,/, } (logs in .build/molecule/)"
    return 1
  fi
}

main() {
  local stages=("$@") stage start passed=0
  [ "${#stages[@]}" -gt 0 ] || stages=("${ALL_STAGES[@]}")
  RESULTS=()
  FAILED_DETAIL=""

  log "Set-up: venv, Docker engine, base images"
  ensure_venv
  ensure_collection_link
  ensure_ansible_test_bootstrap
  activate_venv
  case " ${stages[*]} " in
    *" molecule "*) ensure_docker ;;
  esac

  for stage in "${stages[@]}"; do
    declare -F "stage_${stage//-/_}" >/dev/null || die "unknown stage '$stage' (stages: ${ALL_STAGES[*]})"
    log "Stage $stage"
    start=$SECONDS
    if ! "stage_${stage//-/_}"; then
      printf '\n' >&2
      printf '%s\n' "${RESULTS[@]}" >&2
      die "stage '$stage' failed${FAILED_DETAIL:+: $FAILED_DETAIL} (after $((SECONDS - start))s)"
    fi
    RESULTS+=("stage $stage: passed in $((SECONDS - start))s")
    passed=$((passed + 1))
  done
  printf '\n'
  printf '%s\n' "${RESULTS[@]}"
  printf 'stages: %d passed, 0 failed\n' "$passed"
}

main "$@"
