#!/usr/bin/env bash
# Run every test stage, stopping at the first one that fails and naming it:
#   ruff → ansible-lint → sanity → units → build → molecule
# Set-up is part of it (venv, Docker engine, base images) and is safe to re-run.
#
# Usage: scripts/test.sh [STAGE...]
#   GW_TEST_RELEASES="12 13"   Debian releases every Molecule scenario runs on
#   GW_TEST_SCENARIOS="base"   limit the Molecule stage to these scenarios
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
  (cd "$GW_ROOT" && pytest -q -p no:cacheprovider tests/unit) || rc=$?
  # pytest exits 5 when it collects nothing: no unit tests is a failure here too.
  return "$rc"
}

# The collection builds, installs from the tarball into an empty path, and ansible-doc
# renders every role's arguments from the installed copy.
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

stage_molecule() {
  local release scenario start
  # shellcheck disable=SC2086
  ensure_images $GW_TEST_RELEASES
  # The stack scenario draws the architecture picture.
  ensure_graphviz
  for release in $GW_TEST_RELEASES; do
    for scenario in $(scenarios); do
      if ! runs_on "$scenario" "$release"; then
        RESULTS+=("molecule $scenario (Debian $release): not run (molecule/$scenario/releases)")
        continue
      fi
      start=$SECONDS
      log "molecule test -s $scenario on Debian $release"
      if ! (cd "$GW_ROOT" && GW_MOLECULE_IMAGE="$GW_IMAGE_REPO:$release" molecule test -s "$scenario"); then
        FAILED_DETAIL="scenario '$scenario' on Debian $release"
        return 1
      fi
      RESULTS+=("molecule $scenario (Debian $release): passed in $((SECONDS - start))s")
    done
  done
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
