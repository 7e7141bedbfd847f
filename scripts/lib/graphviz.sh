# shellcheck shell=bash
# Graphviz for the architecture picture (playbooks/architecture.yml renders its DOT
# source with `dot`). Sourced after scripts/lib/common.sh, never executed.

# Install Debian's graphviz when `dot` is missing (idempotent: does nothing when present).
ensure_graphviz() {
  have dot && return 0
  apt_install graphviz
  have dot || die "graphviz is installed but 'dot' is not on PATH"
}
