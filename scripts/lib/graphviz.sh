# shellcheck shell=bash
# Graphviz for the architecture picture (playbooks/architecture.yml renders its DOT
# source with `dot`). Sourced after scripts/lib/common.sh, never executed.

# Install Debian's graphviz when `dot` is missing (idempotent: does nothing when present).
ensure_graphviz() {
  have dot && return 0
  apt_install graphviz
  have dot || die "graphviz is installed but 'dot' is not on PATH"
}

# The tools the unit tests run besides Python: Graphviz's dot (the architecture picture's
# tests) and the ssh client (tests/unit/test_task_rules.py: how the core treats a host that
# refuses the connection).
ensure_unit_test_tools() {
  ensure_graphviz
  have ssh || apt_install openssh-client
}
