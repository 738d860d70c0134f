# Shared by the e2e scripts: boots a throw-away container with systemd-nspawn and runs commands in it.
# Source it, then: e2e_boot NAME (copies $DEB to /root/cluster-master.deb inside), in_ct CMD...,
# ok/bad/log/die. Cleanup on exit is installed by e2e_boot.
# shellcheck shell=bash

FAILED=0
PASSED=0
NSPAWN_PID=
LEADER=
WORK=

log() { printf '[e2e] %s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); printf '[e2e] PASS %s\n' "$*"; }
bad() { FAILED=$((FAILED + 1)); printf '[e2e] FAIL %s\n' "$*"; }
die() { printf '[e2e] ERROR %s\n' "$*" >&2; exit 1; }

skip_or_die() {
    if [ "${CM_E2E:-}" = skip ]; then
        log "SKIPPED (CM_E2E=skip): $*"
        exit 0
    fi
    die "$* (set CM_E2E=skip to skip this test explicitly)"
}

# Run a command inside the container's namespaces (its own systemd, journal, /run).
in_ct() { nsenter --target "$LEADER" --all -- "$@"; }

e2e_systemd_version() { in_ct systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'; }

e2e_cleanup() {
    set +e
    if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        in_ct systemctl poweroff >/dev/null 2>&1
        for _ in $(seq 1 30); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.5; done
        # Still up: SIGKILL only the nspawn we started (its container dies with it).
        kill -KILL "$NSPAWN_PID" 2>/dev/null
        wait "$NSPAWN_PID" 2>/dev/null
    fi
    if [ -n "$WORK" ]; then
        umount "$WORK/root" 2>/dev/null
        umount "$WORK" 2>/dev/null
        rm -rf "$WORK"
    fi
}

# e2e_boot MACHINE: an overlay of this machine's root (lower = /, upper = tmpfs: every change vanishes),
# no policy-rc.d, a fresh machine id, $DEB at /root/cluster-master.deb; waits for the boot to finish.
e2e_boot() {
    local machine=$1-$$ root state
    [ "$(id -u)" = 0 ] || skip_or_die "must run as root"
    command -v systemd-nspawn >/dev/null || skip_or_die "systemd-nspawn missing (apt-get install systemd-container)"
    [ -f "$DEB" ] || die "no such package: $DEB"
    WORK=$(mktemp -d /tmp/cm-e2e.XXXXXX)
    root=$WORK/root
    trap e2e_cleanup EXIT
    mount -t tmpfs -o size=2g cm-e2e "$WORK"
    mkdir -p "$WORK/up" "$WORK/wk" "$root"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$WORK/up,workdir=$WORK/wk" "$root" \
        || skip_or_die "cannot mount overlayfs over /"
    rm -f "$root/etc/machine-id"
    : > "$root/etc/machine-id"
    rm -f "$root/usr/sbin/policy-rc.d"
    cp "$DEB" "$root/root/cluster-master.deb"
    log "booting systemd in container $machine"
    systemd-nspawn --quiet --register=no --keep-unit --private-network --console=passive \
        --directory="$root" --machine="$machine" --boot >"$WORK/console.log" 2>&1 &
    NSPAWN_PID=$!
    for _ in $(seq 1 100); do
        LEADER=$(pgrep -P "$NSPAWN_PID" | head -n 1 || true)
        [ -n "$LEADER" ] && break
        kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$WORK/console.log" >&2; skip_or_die "systemd-nspawn exited at once"; }
        sleep 0.1
    done
    [ -n "$LEADER" ] || skip_or_die "container init never appeared"
    for _ in $(seq 1 120); do
        state=$(in_ct systemctl is-system-running 2>/dev/null || true)
        case $state in running|degraded) break ;; esac
        sleep 0.5
    done
    case $state in
        running|degraded) log "container systemd $(e2e_systemd_version) is $state" ;;
        *) cat "$WORK/console.log" >&2; skip_or_die "container never finished booting (state: '$state')" ;;
    esac
}
