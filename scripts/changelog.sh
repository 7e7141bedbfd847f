#!/usr/bin/env bash
# The changelog (docs/DEVELOPMENT.md, "Changelog"):
#   scripts/changelog.sh generate   write CHANGELOG.md from changelogs/ with antsibull-changelog
#   scripts/changelog.sh check      what the test command checks (scripts/lib/changelog.sh)
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/changelog.sh
. "$GW_ROOT/scripts/lib/changelog.sh"

case "${1:-}" in
  generate | check) ;;
  *) die "usage: scripts/changelog.sh generate|check" ;;
esac
ensure_venv
activate_venv
case "$1" in
  generate) write_changelog ;;
  check) check_changelog ;;
esac
