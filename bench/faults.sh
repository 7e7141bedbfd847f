#!/usr/bin/env bash
# Faults: the controller killed, a host restarted, a disk filled and the management
# connection cut while playbooks/site.yml changes every service of the demo (issue 16).
# After each fault every service must run with its old or its new complete configuration
# (never none, never a mix), and the next run must converge. Prints the faults injected,
# the services ever found down or mixed, and the runs needed to converge (goal: 0 down,
# 1 run). Results: docs/SECURITY.md.
#
# It uses the demo (scripts/demo.sh): the demo is re-created first, converged over SSH,
# and left standing at the end (scripts/demo.sh down removes it). Bounded: every fault is
# one run of site.yml plus at most three runs to converge; containers only.
#
# Settings (environment):
#   GW_FAULTS_KILLS=20    controller kills (SIGKILL to ansible-playbook's process group)
#   GW_FAULTS_SEED=N      the random moments of an earlier run again (it prints its seed)
#   GW_DEMO_RELEASE=12    Debian release of the containers
#   GW_FAULTS_REUSE=1     use the demo as it stands (converged) instead of re-creating it
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/../scripts/lib/common.sh"

[[ "${GW_FAULTS_KILLS:-20}" =~ ^[1-9][0-9]*$ ]] || die "GW_FAULTS_KILLS must be a positive integer"
ensure_venv
activate_venv
if [ "${GW_FAULTS_REUSE:-0}" != 1 ]; then
  "$GW_ROOT/scripts/demo.sh" down >/dev/null 2>&1
  "$GW_ROOT/scripts/demo.sh" up >/dev/null || die "the demo did not come up (scripts/demo.sh up)"
fi
exec python3 "$GW_ROOT/bench/faults/faults.py"
