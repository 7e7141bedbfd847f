#!/usr/bin/env bash
# Run every test stage, stopping at the first one that fails and naming it:
#   ruff → ansible-lint → sanity → units → cores → build → molecule
# cores: sanity and the unit tests under the newer supported ansible-cores (the main venv
# has the oldest); build: the tarball, the docs' lint and site, the execution environment's
# definition, the changelog; molecule: every scenario and integration test (tests/integration).
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
# shellcheck source=scripts/lib/ee.sh
. "$GW_ROOT/scripts/lib/ee.sh"
# shellcheck source=scripts/lib/changelog.sh
. "$GW_ROOT/scripts/lib/changelog.sh"
# shellcheck source=scripts/lib/cores.sh
. "$GW_ROOT/scripts/lib/cores.sh"
# shellcheck source=scripts/lib/docs_site.sh
. "$GW_ROOT/scripts/lib/docs_site.sh"

ALL_STAGES=(ruff ansible-lint sanity units cores build molecule)
GW_TEST_RELEASES="${GW_TEST_RELEASES:-12 13}"

stage_ruff() {
  ruff check "$GW_ROOT"
  ruff format --check "$GW_ROOT"
}

stage_ansible_lint() {
  (cd "$GW_ROOT" && ansible-lint --offline --profile production)
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
  ensure_unit_test_tools
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
  check_tarball "$tarball"
  ANSIBLE_COLLECTIONS_PATH="$out/collections" ansible-galaxy collection install --offline --no-deps \
    -p "$out/collections" "$tarball" >/dev/null
  python "$GW_ROOT/scripts/lib/check_role_docs.py" "$out/collections" "$GW_ROOT/roles" groundwork.server
  local bundled
  bundled="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  (cd "$GW_ROOT/.collections/ansible_collections/groundwork/server" \
    && ANSIBLE_COLLECTIONS_PATH="$GW_ROOT/.collections:$bundled" \
      antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs dependent .)
  # The execution environment's build context and what ansible-builder reads from the collection.
  check_ee
  # antsibull-changelog: fragments lint, CHANGELOG.md generated from them, a fragment for
  # every change under plugins/ and roles/ (scripts/lib/changelog.sh).
  check_changelog
  # The documentation site, offline, every warning an error (scripts/lib/docs_site.sh).
  build_docs_site
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

# One job of the pool: a Molecule scenario or an integration test (tests/integration/NAME.sh)
# on one Debian release, under the main venv's ansible-core or another supported one
# (scripts/lib/cores.sh). Its output goes to a log file, shown when it fails. The same
# scenario never runs twice at once (its containers and network have fixed names).
# A job is "KIND NAME RELEASE [CORE]".
job_label() {
  printf '%s %s (Debian %s%s)' "$1" "$2" "$3" "${4:+, ansible-core $4}"
}

job_log() {
  printf '%s/.build/molecule/%s-%s-%s%s.log' "$GW_ROOT" "$1" "$2" "$3" "${4:+-core$4}"
}

pool_job() {
  local kind="$1" name="$2" release="$3" core="${4:-}" logfile start=$SECONDS
  logfile="$(job_log "$@")"
  local run=(env GW_MOLECULE_IMAGE="$GW_IMAGE_REPO:$release" GW_IT_RELEASE="$release")
  [ -z "$core" ] || run=(with_core "$core" "${run[@]}")
  case "$kind" in
    molecule) run+=(flock "$GW_ROOT/.build/molecule/$name.lock" molecule test -s "$name") ;;
    integration) run+=(bash "$GW_ROOT/tests/integration/$name.sh") ;;
    *) die "unknown job kind '$kind'" ;;
  esac
  log "$(job_label "$@") (log: ${logfile#"$GW_ROOT"/})"
  if (cd "$GW_ROOT" && "${run[@]}") >"$logfile" 2>&1; then
    printf '%s: passed in %ss\n' "$(job_label "$@")" "$((SECONDS - start))"
    return 0
  fi
  printf '%s: FAILED after %ss\n' "$(job_label "$@")" "$((SECONDS - start))"
  return 1
}

# A worker takes the next job from the shared list until none is left or one failed.
pool_worker() {
  local dir="$1" index job
  while :; do
    [ -e "$dir/failed" ] && return 0
    # shellcheck disable=SC2016  # expanded by the inner shell, under the lock
    index="$(flock "$dir/next.lock" sh -c 'n=$(cat "$1"); echo $((n + 1)) >"$1"; echo "$n"' sh "$dir/next")"
    job="$(sed -n "$((index + 1))p" "$dir/jobs")"
    [ -n "$job" ] || return 0
    # shellcheck disable=SC2086  # "kind name release [core]"
    if ! pool_job $job >>"$dir/results"; then
      echo "$job" >>"$dir/failed"
    fi
  done
}

# The pool's jobs: every scenario on every release it runs on; the stack scenario once more
# under the newest supported ansible-core (the main venv has the oldest); the integration
# tests (tarball install, ansible-runner, job slicing) on the newest release.
pool_jobs() {
  local release scenario newest
  for release in $GW_TEST_RELEASES; do
    for scenario in $(scenarios); do
      if runs_on "$scenario" "$release"; then
        echo "molecule $scenario $release"
      else
        note_result "molecule $scenario (Debian $release): not run (molecule/$scenario/releases)"
      fi
    done
  done
  newest="${GW_TEST_RELEASES##* }"
  if [ -z "${GW_TEST_SCENARIOS:-}" ] || [[ " $GW_TEST_SCENARIOS " == *" stack "* ]]; then
    if core_available "$GW_NEWEST_CORE"; then
      echo "molecule stack $newest $GW_NEWEST_CORE"
    else
      note_result "molecule stack under ansible-core $GW_NEWEST_CORE: not run ($(core_missing_reason "$GW_NEWEST_CORE"))"
    fi
  fi
  for scenario in $(integration_tests); do
    echo "integration $scenario $newest"
  done
}

integration_tests() {
  local file name
  for file in "$GW_ROOT"/tests/integration/*.sh; do
    [ -f "$file" ] || continue
    name="$(basename "$file" .sh)"
    if [ -z "${GW_TEST_SCENARIOS:-}" ] || [[ " $GW_TEST_SCENARIOS " == *" $name "* ]]; then
      printf '%s\n' "$name"
    fi
  done
}

# Jobs run GW_TEST_JOBS at a time (default 2): they spend most of their time waiting on
# containers, package downloads and timeouts, so two share this 2-core machine well.
stage_molecule() {
  local worker dir="$GW_ROOT/.build/molecule" jobs="${GW_TEST_JOBS:-2}"
  [[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "GW_TEST_JOBS must be a positive integer (got '$jobs')"
  # shellcheck disable=SC2086
  ensure_images $GW_TEST_RELEASES
  # The stack scenario draws the architecture picture.
  ensure_graphviz
  rm -rf "$dir"
  mkdir -p "$dir"
  echo 0 >"$dir/next"
  : >"$dir/results"
  : >"$dir/jobs"
  pool_jobs >"$dir/jobs.all"
  # The longest first (the stack scenarios, then the integration tests), so that none runs
  # alone at the end.
  { grep ' stack ' "$dir/jobs.all"; grep '^integration ' "$dir/jobs.all"
    grep -v ' stack \|^integration ' "$dir/jobs.all"; } >"$dir/jobs" || true
  local pids=()
  for ((worker = 1; worker <= jobs; worker++)); do
    pool_worker "$dir" &
    pids+=("$!")
  done
  wait "${pids[@]}"
  cat "$dir/results" >>"$GW_TEST_OUT/results"
  if [ -s "$dir/failed" ]; then
    local failed job
    while read -r job; do
      # shellcheck disable=SC2086
      printf '\n----- %s: the end of its log (%s) -----\n' "$(job_label $job)" "$(job_log $job)" >&2
      # shellcheck disable=SC2086
      tail -n 150 "$(job_log $job)" >&2
    done <"$dir/failed"
    failed="$(paste -sd ',' "$dir/failed")"
    note_failure "job(s) ${failed//,/, } (logs in .build/molecule/)"
    return 1
  fi
}

# A stage runs in a subshell with errexit in force: every command that fails fails the
# stage (called as the condition of an "if", a function would ignore all but its last
# command's status). What a stage wants reported goes to files: note_result prints a
# line in the summary, note_failure adds detail to the failure message.
note_result() {
  printf '%s\n' "$*" >>"$GW_TEST_OUT/results"
}

note_failure() {
  printf '%s\n' "$*" >"$GW_TEST_OUT/failure"
}

main() {
  local stages=("$@") stage start passed=0 rc
  [ "${#stages[@]}" -gt 0 ] || stages=("${ALL_STAGES[@]}")
  GW_TEST_OUT="$GW_ROOT/.build/test"
  rm -rf "$GW_TEST_OUT"
  mkdir -p "$GW_TEST_OUT"
  : >"$GW_TEST_OUT/results"

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
    rm -f "$GW_TEST_OUT/failure"
    set +e
    (
      set -e
      "stage_${stage//-/_}"
    )
    rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then
      printf '\n' >&2
      cat "$GW_TEST_OUT/results" >&2
      local detail=""
      [ -f "$GW_TEST_OUT/failure" ] && detail="$(cat "$GW_TEST_OUT/failure")"
      die "stage '$stage' failed${detail:+: $detail} (after $((SECONDS - start))s)"
    fi
    note_result "stage $stage: passed in $((SECONDS - start))s"
    passed=$((passed + 1))
  done
  printf '\n'
  cat "$GW_TEST_OUT/results"
  printf 'stages: %d passed, 0 failed\n' "$passed"
}

main "$@"
