#!/usr/bin/env bash
# Build the systemd base images Molecule and the demo boot: Debian 12 and 13, by debootstrap + docker import.
# Nothing can be pulled here. Images already built (same recipe hash) are skipped.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/ensure-docker.sh"
apt_install debootstrap

MIRROR=${MONSTERR_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
# What a fresh minimal Debian server has: systemd as PID 1, python3 for Ansible, procps, CA certificates.
PACKAGES=python3,python3-apt,systemd,systemd-sysv,dbus,sudo,iproute2,procps,ca-certificates,gnupg
# Bump RECIPE when the way the rootfs is made changes; the tag carries it, so old images are rebuilt.
RECIPE=3
RECIPE_HASH=$(printf '%s %s' "$PACKAGES" "$RECIPE" | sha256sum | cut -c1-12)

build() {
  local suite=$1 major=$2 tag="monsterr/debian${2}-systemd:${RECIPE_HASH}" rootfs
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag already built"
  else
    rootfs=$(mktemp -d "$CACHE/rootfs-$suite.XXXX")
    log "debootstrap $suite into $rootfs"
    debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 \
      || { tail -20 "$rootfs.log"; die "debootstrap $suite failed"; }
    # The updates and security suites, as on a real server.
    local sec="${MIRROR%/debian}/debian-security"
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
      "$MIRROR" "$suite" "$MIRROR" "$suite" "$sec" "$suite" >"$rootfs/etc/apt/sources.list"
    rm -f "$rootfs/etc/machine-id"; : >"$rootfs/etc/machine-id"
    # No package lists, marked stale, as on a host that has not run apt-get update yet.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    touch -d @0 "$rootfs/var/lib/apt/lists"
    tar -C "$rootfs" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' - "$tag" >/dev/null
    rm -rf "$rootfs" "$rootfs.log"
    log "built $tag"
  fi
  docker tag "$tag" "monsterr/debian${major}-systemd:base"
}

mkdir -p "$CACHE"
build bookworm 12 &
p12=$!
build trixie 13 &
p13=$!
wait "$p12"
wait "$p13"
