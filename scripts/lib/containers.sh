# shellcheck shell=bash
# Helpers for scripts that work in containers of their own (the benchmarks). Sourced after
# scripts/lib/common.sh, never executed.

# install_packages NAME:"PKG PKG..." ...: apt-get in several containers at once, each
# writing its log to $WORK/apt-NAME.log (WORK is the caller's scratch directory); the
# log of a container that failed is shown.
install_packages() {
  local pids=() names=() spec name pkgs i
  for spec in "$@"; do
    name="${spec%%:*}"
    pkgs="${spec#*:}"
    names+=("$name")
    # shellcheck disable=SC2086  # a space-separated package list on purpose
    docker exec -e DEBIAN_FRONTEND=noninteractive "$name" sh -c \
      "apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs" \
      >"$WORK/apt-$name.log" 2>&1 &
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || {
      tail -n 20 "$WORK/apt-${names[$i]}.log" >&2
      die "installing packages in ${names[$i]} failed"
    }
  done
}
