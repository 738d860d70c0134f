#!/usr/bin/env bash
# Builds (once) and prints the path of a clean Debian 12 root filesystem for the systemd e2e test.
#
#   ROOTFS=$(packaging/e2e/rootfs.sh)
#
# Installed: a bootable minimal systemd plus the tools the test drives from inside (curl, socat,
# ps, ss, python3). NOT installed but downloaded into its apt cache (with the package lists): the
# JRE and adduser, so that "apt-get install ./cluster-master_*.deb" inside the container has to
# resolve them through the package's Depends, without network. Downloaded apart, into /var/cache/cm-e2e-rpm
# (not installed, not in apt's cache): Debian's rpm tool, which only the .rpm check installs, on a machine
# of its own (checks/95-rpm.sh). The result is cached under
# $CM_E2E_CACHE (default /var/cache/cluster-master-e2e), keyed by everything below; each test run
# mounts a throw-away overlay on top of it and never writes to it.
# Log lines go to stderr; stdout is only the path.
set -euo pipefail

SUITE=bookworm
MIRROR=${CM_E2E_MIRROR:-http://deb.debian.org/debian}
INSTALL=systemd,systemd-sysv,dbus,curl,socat,procps,iproute2,python3,ca-certificates
DOWNLOAD_ONLY="default-jre-headless adduser"
RPM_TOOL=rpm
RECIPE=3 # bump when the steps below change in a way the lists above do not show
CACHE=${CM_E2E_CACHE:-/var/cache/cluster-master-e2e}

key=$(printf '%s\n' "$SUITE" "$MIRROR" "$INSTALL" "$DOWNLOAD_ONLY" "$RPM_TOOL" "$RECIPE" | sha256sum | cut -c1-16)
ROOTFS=$CACHE/rootfs-$key
log() { printf '[rootfs] %s\n' "$*" >&2; }

if [ -d "$ROOTFS" ]; then
    log "cached: $ROOTFS"
    echo "$ROOTFS"
    exit 0
fi

command -v mmdebstrap >/dev/null || { log "mmdebstrap missing (apt-get install mmdebstrap)"; exit 1; }
mkdir -p "$CACHE"
TMP=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
log "building $SUITE minbase + $INSTALL (download only: $DOWNLOAD_ONLY) -> $ROOTFS"
T0=$SECONDS
# cleanup/apt is skipped so the package lists and the downloaded .debs stay in the image; the hooks
# leave only the .debs of what the install will need (with Recommends, as a plain apt-get install wants).
mmdebstrap --quiet --variant=minbase --include="$INSTALL" --skip=cleanup/apt \
    --customize-hook='chroot "$1" apt-get clean' \
    --customize-hook='chroot "$1" apt-get install --download-only -y -q -o APT::Install-Recommends=true '"$DOWNLOAD_ONLY"' >/dev/null' \
    --customize-hook='mkdir -p "$1"/var/cache/cm-e2e-rpm/partial && chroot "$1" apt-get install --download-only -y -q \
        -o Dir::Cache::archives=/var/cache/cm-e2e-rpm/ '"$RPM_TOOL"' >/dev/null && rmdir "$1"/var/cache/cm-e2e-rpm/partial' \
    --customize-hook='rm -f "$1"/etc/machine-id && : > "$1"/etc/machine-id' \
    --customize-hook='echo cm-e2e > "$1"/etc/hostname' \
    "$SUITE" "$TMP/root" "$MIRROR" >&2
n=$(find "$TMP/root/var/cache/apt/archives" -name '*.deb' | wc -l)
[ "$n" -gt 0 ] || { log "no .debs downloaded for: $DOWNLOAD_ONLY"; exit 1; }
ls "$TMP/root/var/cache/cm-e2e-rpm/"rpm_*.deb >/dev/null 2>&1 || { log "no .debs downloaded for: $RPM_TOOL"; exit 1; }
# Appears atomically (rename), so an existing directory is a complete build. Builds of other keys stay.
# -T: a concurrent build that finished first wins (never nest one in the other).
mv -T "$TMP/root" "$ROOTFS" 2>/dev/null || [ -d "$ROOTFS" ] || { log "cannot move the build to $ROOTFS"; exit 1; }
log "built in $((SECONDS - T0))s, $(du -sh "$ROOTFS" | cut -f1), $n .debs cached for the install"
echo "$ROOTFS"
