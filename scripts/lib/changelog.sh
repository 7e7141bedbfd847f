# shellcheck shell=bash
# The changelog: CHANGELOG.md is what antsibull-changelog generates from
# changelogs/changelog.yaml (the released versions) and changelogs/fragments/ (the version in
# the making). Sourced after scripts/lib/common.sh, with the venv active. Never executed.
#
# antsibull-changelog generates released versions only. While fragments wait for a release,
# CHANGELOG.md is its rendering of a preview release "<galaxy.yml's version>-dev", made in a
# scratch copy (.build/changelog/tree) with `antsibull-changelog release`: the tree's
# changelog.yaml and fragments stay as they are until the real release (docs/DEVELOPMENT.md).

GW_CHANGELOG_BUILD="$GW_ROOT/.build/changelog"

changelog_error() { printf 'ERROR: %s\n' "$*" >&2; }

# Copy what antsibull-changelog reads (the collection's metadata, plugins, roles, changelog
# configuration, changes and fragments) into DEST: the files git knows about (tracked, and
# new ones it does not ignore), or, outside a git checkout, the directories as they are.
changelog_copy_tree() {
  local dest="$1" path
  local paths=(galaxy.yml meta plugins roles changelogs)
  mkdir -p "$dest"
  if [ "$(git -C "$GW_ROOT" rev-parse --show-toplevel 2>/dev/null)" = "$GW_ROOT" ]; then
    (cd "$GW_ROOT" && git ls-files -z --cached --others --exclude-standard -- "${paths[@]}" \
      | while IFS= read -r -d '' path; do [ -e "$path" ] && printf '%s\0' "$path"; done \
      | tar --null -T - -cf -) | tar -C "$dest" -xf -
  else
    for path in "${paths[@]}"; do
      [ -e "$GW_ROOT/$path" ] && cp -a "$GW_ROOT/$path" "$dest/"
    done
  fi
  # What a real release would write: the plugin cache is rebuilt, the output regenerated.
  rm -f "$dest/changelogs/.plugin-cache.yaml" "$dest/CHANGELOG.md"
  # The copy lies inside this repository's ignored .build/: a git index of its own, so that
  # antsibull-changelog (vcs: auto) hands ansible-doc the copy's files, as it does a checkout's.
  if have git; then
    git -C "$dest" init -q
    git -C "$dest" add -A
  fi
}

# Render CHANGELOG.md as antsibull-changelog generates it now into the file $1, from a scratch
# copy: a preview release of the waiting fragments (which also announces the modules and
# plugins whose version_added is that version), then `generate`. Fails when a module, plugin
# or role ends up announced by no release.
changelog_render() {
  local out="$1" tree="$GW_CHANGELOG_BUILD/tree" action
  rm -rf "$GW_CHANGELOG_BUILD"
  mkdir -p "$GW_CHANGELOG_BUILD/collections"
  changelog_copy_tree "$tree"
  action="$(python "$GW_ROOT/scripts/lib/changelog_policy.py" plan "$tree")" || {
    printf '%s\n' "$action" >&2
    return 1
  }
  if [[ "$action" == "release "* ]]; then
    # ansible-doc lists the plugins of the copy only: no configuration of the working tree, and
    # no collection path that holds another groundwork.server.
    if ! (cd "$tree" && env -u ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH="$GW_CHANGELOG_BUILD/collections" \
      antsibull-changelog release --version "${action#release }" --date 1970-01-01 --reload-plugins) \
      >"$GW_CHANGELOG_BUILD/release.log" 2>&1; then
      cat "$GW_CHANGELOG_BUILD/release.log" >&2
      changelog_error "antsibull-changelog release (preview ${action#release }) failed in ${GW_CHANGELOG_BUILD#"$GW_ROOT"/}/tree"
      return 1
    fi
    # What the real release will write must lint as well (only antsibull-changelog's sections).
    (cd "$tree" && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml) || {
      changelog_error "the preview release's changelogs/changelog.yaml does not lint (above)"
      return 1
    }
  fi
  if ! (cd "$tree" && antsibull-changelog generate) >"$GW_CHANGELOG_BUILD/generate.log" 2>&1; then
    cat "$GW_CHANGELOG_BUILD/generate.log" >&2
    changelog_error "antsibull-changelog generate failed in ${GW_CHANGELOG_BUILD#"$GW_ROOT"/}/tree"
    return 1
  fi
  python "$GW_ROOT/scripts/lib/changelog_policy.py" announced "$tree" >&2 || return 1
  cp "$tree/CHANGELOG.md" "$out"
}

# Write CHANGELOG.md: after adding or changing a fragment (scripts/changelog.sh generate).
write_changelog() {
  changelog_render "$GW_CHANGELOG_BUILD.md" || return 1
  mv "$GW_CHANGELOG_BUILD.md" "$GW_ROOT/CHANGELOG.md"
  log "Wrote CHANGELOG.md"
}

# The test: the fragments and changelog.yaml lint, CHANGELOG.md is what antsibull-changelog
# generates now, every module, plugin and role is announced, and every change under plugins/
# or roles/ comes with a fragment (scripts/lib/changelog_policy.py). Changes nothing in the
# tree (its scratch files are under .build/).
check_changelog() {
  local rendered="$GW_CHANGELOG_BUILD.md" rc=0
  (cd "$GW_ROOT" && antsibull-changelog lint) || {
    changelog_error "antsibull-changelog lint: the fragments above are invalid"
    rc=1
  }
  (cd "$GW_ROOT" && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml) || {
    changelog_error "antsibull-changelog lint-changelog-yaml: changelogs/changelog.yaml is invalid"
    rc=1
  }
  if changelog_render "$rendered"; then
    if ! diff -u --label CHANGELOG.md --label "antsibull-changelog's CHANGELOG.md" \
      "$GW_ROOT/CHANGELOG.md" "$rendered" >"$GW_CHANGELOG_BUILD/CHANGELOG.diff"; then
      head -n 60 "$GW_CHANGELOG_BUILD/CHANGELOG.diff" >&2
      changelog_error "CHANGELOG.md is not what antsibull-changelog generates from changelogs/ (diff above," \
        "all of it in ${GW_CHANGELOG_BUILD#"$GW_ROOT"/}/CHANGELOG.diff): run scripts/changelog.sh generate"
      rc=1
    fi
  else
    rc=1
  fi
  python "$GW_ROOT/scripts/lib/changelog_policy.py" fragments "$GW_ROOT" >&2 || rc=1
  return "$rc"
}
