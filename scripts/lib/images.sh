# shellcheck shell=bash
# Base images for tests and the demo. Sourced after common.sh.
# The image tag carries a label with the hash of this file: change the recipe here and
# the next run rebuilds; otherwise an existing image is reused.

# ---------------------------------------------------------------------------------------
# Base images: Debian with systemd, built with debootstrap, cached by tag
# ---------------------------------------------------------------------------------------
GW_IMAGE_REPO="${GW_IMAGE_REPO:-groundwork/debian}"

image_recipe_hash() { sha256sum "$GW_ROOT/scripts/lib/images.sh" | cut -c1-12; }

debian_codename() {
  case "$1" in
    12) echo bookworm ;;
    13) echo trixie ;;
    *) die "unsupported Debian release '$1' (allowed: 12, 13)" ;;
  esac
}

# image_current RELEASE: the engine has the image of RELEASE built by this recipe.
image_current() {
  local have_recipe
  have_recipe="$(docker image inspect -f '{{ index .Config.Labels "org.groundwork.recipe" }}' "$GW_IMAGE_REPO:$1" 2>/dev/null || true)"
  [ "$have_recipe" = "$(image_recipe_hash)" ]
}

ensure_image() {
  local release="$1"
  image_current "$release" && return 0
  is_root || die "building $GW_IMAGE_REPO:$release needs root (debootstrap)"
  apt_install debootstrap debian-archive-keyring
  local rootfs
  rootfs="$(mktemp -d /var/tmp/groundwork-rootfs-"$release".XXXXXX)"
  # shellcheck disable=SC2064
  trap "rm -rf '$rootfs'" RETURN
  build_rootfs "$release" "$rootfs"
  import_rootfs "$release" "$rootfs"
}

# build_rootfs RELEASE DIR: the image's file system in DIR (empty), without the engine: on a
# fresh machine this starts while the engine is still being installed (scripts/demo.sh).
build_rootfs() {
  local release="$1" rootfs="$2" codename
  codename="$(debian_codename "$release")"
  log "Building the file system of $GW_IMAGE_REPO:$release from Debian $codename with debootstrap (about a minute)"
  debootstrap --variant=minbase \
    --include=python3,systemd,systemd-sysv,dbus,sudo,ca-certificates,iproute2 \
    "$codename" "$rootfs" "$GW_DEBIAN_MIRROR" >"$rootfs.log" 2>&1 \
    || { tail -n 30 "$rootfs.log" >&2; die "debootstrap of $codename failed"; }
  rm -f "$rootfs.log"

  # Full apt sources (with updates and security) so that roles install packages and
  # unattended-upgrades sees the security origin, as on a real server.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $GW_DEBIAN_MIRROR
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $GW_DEBIAN_SECURITY_MIRROR
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # Two settings common in Debian container images (Docker's mkimage script for
  # debootstrap wrote both), for containers that live minutes: dpkg does not fsync every file
  # it unpacks, and apt fetches no translated package descriptions (the largest index after
  # the package lists). Together about 3 s less of the demo's package transaction, four
  # containers at once on 2 CPUs (docs/BENCHMARKS.md). Nothing of ours reads either.
  echo force-unsafe-io >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  # debootstrap installs the release as it was at its last point release; a server in use
  # (and Debian's own images) also carries the updates and security fixes since. Without
  # them every container upgraded python3.11, perl and others first in the roles' package
  # transaction: four demo containers at once took 38.0-39.3 s there, 30.8-31.7 s with an
  # up-to-date image (docs/BENCHMARKS.md). No service starts in the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
  chroot "$rootfs" /bin/sh -c 'apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q -y \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold full-upgrade' \
    >"$rootfs.log" 2>&1 || { tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"; die "the upgrade of the $codename image failed"; }
  rm -f "$rootfs.log" "$rootfs/usr/sbin/policy-rc.d"
  # Each container generates its own machine id at first boot.
  : >"$rootfs/etc/machine-id"
  rm -f "$rootfs/var/lib/dbus/machine-id"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
}

# import_rootfs RELEASE DIR: the file system build_rootfs made, as the image of RELEASE.
import_rootfs() {
  local release="$1" rootfs="$2"
  local tag="$GW_IMAGE_REPO:$release"
  tar -C "$rootfs" -c . | docker import \
    -c 'CMD ["/lib/systemd/systemd"]' \
    -c 'ENV container=docker' \
    -c "LABEL org.groundwork.recipe=$(image_recipe_hash) org.groundwork.debian=$release" \
    - "$tag" >/dev/null || die "the engine could not import the file system of $tag"
  log "Built $tag"
}

ensure_images() {
  local release
  for release in "$@"; do
    ensure_image "$release"
  done
}

# Everything a script that runs playbooks against its own containers needs, in order: the
# venv, the collection link, a Docker engine, the images of the given releases; then the
# venv is activated.
ensure_container_workspace() {
  ensure_venv
  ensure_collection_link
  ensure_docker
  ensure_images "$@"
  activate_venv
}
