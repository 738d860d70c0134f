#!/usr/bin/env bash
# End-to-end test of the .deb under a real systemd, on a clean Debian 12: boots a container with
# systemd-nspawn over a throw-away overlay of a cached minimal rootfs (packaging/e2e/rootfs.sh), installs
# the package in it with "apt-get install ./cluster-master_*.deb" (the JRE comes through the package's
# Depends, from .debs the rootfs build downloaded: the container has no network) and drives it with
# systemctl, journalctl, socat and ctl. The .rpm built beside the .deb is tested last, by checks/95-rpm.sh on a
# second clean boot of the same rootfs (fresh_machine) with Debian's rpm tool.
#
#   packaging/e2e/systemd-e2e.sh path/to/cluster-master_*.deb [CHECK...]
#
# The checks are the files packaging/e2e/checks/NN-*.sh, sourced in order into this shell; each prints
# PASS/FAIL lines through ok/bad and may use every helper below. CHECK names (e.g. 10-install 20-unit)
# run only those (10-install is always needed first, except by 95-rpm). To add a check, add a file there.
#
# Needs root, systemd-container (systemd-nspawn), mmdebstrap (first run) and overlayfs. It fails, loudly,
# when it cannot boot; CM_E2E=skip turns that into an explicit "SKIPPED" (for hosts known to lack it).
set -euo pipefail

E2E_DIR=$(cd "$(dirname "$0")" && pwd)
DEB=${1:?usage: $0 cluster-master.deb [CHECK...]}
shift
DEB=$(readlink -f "$DEB")
SIZE=2
MACHINE=cm-e2e-$$
WORK=$(mktemp -d /tmp/cm-e2e.XXXXXX)
ROOT=$WORK/root
NSPAWN_PID=
CGROUPS=()
FAILED=0
FAILURES=()
PASSED=0
T0=$SECONDS

log() { printf '[e2e] %s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); printf '[e2e] PASS %s\n' "$*"; }
bad() { FAILED=$((FAILED + 1)); FAILURES+=("${CHECK_NAME:-}: $*"); printf '[e2e] FAIL %s\n' "$*"; }
die() { printf '[e2e] ERROR %s\n' "$*" >&2; exit 1; }
# Indents command output under the PASS/FAIL lines.
quote() { sed 's/^/[e2e]   | /'; }

# Powers the container off (SIGKILL to our nspawn if it hangs) and drops its overlay. Never fails (set -e).
stop_machine() {
    if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        in_ct systemctl poweroff >/dev/null 2>&1 || true
        for _ in $(seq 1 30); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.5; done
        # Still up: SIGKILL only the nspawn we started (its container dies with it).
        kill -KILL "$NSPAWN_PID" 2>/dev/null || true
    fi
    if [ -n "$NSPAWN_PID" ]; then wait "$NSPAWN_PID" 2>/dev/null || true; fi
    NSPAWN_PID=
    umount "$ROOT" 2>/dev/null || true
    rm -rf "$WORK/up" "$WORK/wk"
}

cleanup() {
    set +e
    stop_machine
    umount "$WORK" 2>/dev/null
    for g in "${CGROUPS[@]}"; do find "$g" -depth -type d -exec rmdir {} + 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

skip_or_die() {
    if [ "${CM_E2E:-}" = skip ]; then
        log "SKIPPED (CM_E2E=skip): $*"
        exit 0
    fi
    die "$* (set CM_E2E=skip to skip this test explicitly)"
}

[ "$(id -u)" = 0 ] || skip_or_die "must run as root"
command -v systemd-nspawn >/dev/null || skip_or_die "systemd-nspawn missing (apt-get install systemd-container)"
[ -f "$DEB" ] || die "no such package: $DEB"

ROOTFS=$("$E2E_DIR/rootfs.sh") || die "cannot build the Debian rootfs (packaging/e2e/rootfs.sh)"

mount -t tmpfs -o size=2g cm-e2e "$WORK"
# Files the checks want inside (e.g. a test app built on this host): put them in $E2E_FILES.
E2E_FILES=$WORK/files
mkdir -p "$E2E_FILES"

# Run a command inside the container's namespaces (its own systemd, journal, /run).
in_ct() { nsenter --target "$LEADER" --all -- "$@"; }
# A journal cursor "now"; journal_since prints entries after it (-o cat unless told otherwise).
# (journalctl 252 with --after-cursor and a match skips the first matching entry: fine for greps.)
CURSOR=
mark_journal() { CURSOR=$(in_ct journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p'); }
journal_since() { in_ct journalctl --no-pager -o cat --after-cursor="$CURSOR" "$@"; }
# Polls a shell condition (evaluated on the host) until true or $1 seconds passed.
await() { local deadline=$((SECONDS + $1)); shift; until eval "$*"; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.3; done; }

BOOTS=0
# Boots a container over a fresh overlay of the clean rootfs and waits for its systemd; sets LEADER (its
# init, for in_ct). Only the first boot may be skipped (CM_E2E=skip); a later one that fails is an error.
boot_machine() {
    BOOTS=$((BOOTS + 1))
    local fail=skip_or_die
    if [ "$BOOTS" -gt 1 ]; then MACHINE=cm-e2e-$$-$BOOTS; fail=die; fi
    # Overlay: lower = the cached clean rootfs, upper = tmpfs: every change the test makes vanishes with it.
    mkdir -p "$WORK/up" "$WORK/wk" "$ROOT"
    mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$WORK/up,workdir=$WORK/wk" "$ROOT" \
        || $fail "cannot mount overlayfs"
    cp "$DEB" "$ROOT/root/cluster-master.deb"

    log "booting systemd in container $MACHINE (rootfs $ROOTFS)"
    # --register=no/--keep-unit: there may be no systemd (nor machined) on the host to register with.
    # --private-network: loopback only inside; nothing the tests start is reachable from outside.
    # /root/files is bound read-only (the checks fill $E2E_FILES before using it).
    # Each boot in cgroups of its own: without a host systemd, --keep-unit would put two concurrent runs (two
    # checkouts on one machine) in the same cgroup, and the second container's systemd would not boot.
    local h cg=()
    for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
        if [ -f "$h/cgroup.procs" ] && mkdir "$h/$MACHINE" 2>/dev/null; then cg+=("$h/$MACHINE"); fi
        [ "$h" = /sys/fs/cgroup/unified ] && [ ${#cg[@]} -gt 0 ] && break
    done
    CGROUPS+=("${cg[@]}")
    sh -c 'for g in "$@"; do [ "$g" = -- ] && break; echo $$ > "$g/cgroup.procs"; done; while [ "$1" != -- ]; do shift; done; shift; exec "$@"' \
        sh "${cg[@]}" -- \
        systemd-nspawn --quiet --register=no --keep-unit --private-network --console=passive \
        --bind-ro="$E2E_FILES:/root/files" \
        --directory="$ROOT" --machine="$MACHINE" --boot >"$WORK/console.log" 2>&1 &
    NSPAWN_PID=$!

    LEADER=
    for _ in $(seq 1 100); do
        LEADER=$(pgrep -P "$NSPAWN_PID" | head -n 1 || true)
        [ -n "$LEADER" ] && break
        kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$WORK/console.log" >&2; $fail "systemd-nspawn exited at once"; }
        sleep 0.1
    done
    [ -n "$LEADER" ] || $fail "container init never appeared"

    local state= t0=$SECONDS
    for _ in $(seq 1 120); do
        state=$(in_ct systemctl is-system-running 2>/dev/null || true)
        case $state in running|degraded) break ;; esac
        sleep 0.5
    done
    case $state in
        running|degraded) log "container systemd is $state after $((SECONDS - t0))s" ;;
        *) cat "$WORK/console.log" >&2; $fail "container never finished booting (state: '$state')" ;;
    esac
}

# For a check that needs a machine of its own (e.g. the .rpm): power this one off, boot a clean one.
fresh_machine() {
    stop_machine
    boot_machine
}

boot_machine

CHECKS=()
if [ $# -gt 0 ]; then
    for c in "$@"; do CHECKS+=("$E2E_DIR/checks/${c%.sh}.sh"); done
else
    CHECKS=("$E2E_DIR"/checks/[0-9]*.sh)
fi
for check in "${CHECKS[@]}"; do
    [ -f "$check" ] || die "no such check: $check"
    CHECK_NAME=$(basename "$check" .sh)
    printf '\n[e2e] ---- %s  [t=%ss] ----\n' "$CHECK_NAME" "$((SECONDS - T0))"
    # the units allow 4 starts a minute (crash-loop hand-off); checks start and stop far more often than that
    in_ct systemctl reset-failed >/dev/null 2>&1 || true
    # shellcheck source=/dev/null
    . "$check"
done

printf '\n'
echo "e2e: $PASSED passed, $FAILED failed"
# repeated last, so a log cut to its tail still names what failed
for f in "${FAILURES[@]}"; do printf '  FAIL %s\n' "${f:0:300}"; done
[ "$FAILED" = 0 ]
