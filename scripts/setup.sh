#!/usr/bin/env bash
# Prepare this machine for the demo and the tests; safe to re-run.
#   - .venv with the pinned tools of requirements-dev.txt
#   - the working tree linked as the collection groundwork.server (.collections/)
#   - a Docker engine that answers (started, or installed from Debian as root)
#   - the Debian 12 and 13 base images, built with debootstrap when absent
# Usage: scripts/setup.sh [RELEASE...]     (default: 12 13)
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=scripts/lib/images.sh
. "$GW_ROOT/scripts/lib/images.sh"

main() {
  ensure_venv
  ensure_collection_link
  ensure_ansible_test_bootstrap
  ensure_docker
  if [ "$#" -eq 0 ]; then set -- 12 13; fi
  ensure_images "$@"
}

main "$@"
