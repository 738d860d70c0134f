#!/usr/bin/env bash
# End-to-end test of the .deb under a real systemd: boots a container with systemd-nspawn over a
# throw-away overlay of this machine's own root (so java, socat, adduser are already there and
# nothing is downloaded), installs the package in it and drives the unit with systemctl.
#
#   packaging/e2e/systemd-e2e.sh path/to/cluster-master_*.deb
#
# Needs root, systemd-container (systemd-nspawn) and overlayfs. It fails, loudly, when it
# cannot boot; CM_E2E=skip turns that into an explicit "SKIPPED" (for hosts known to lack it).
set -euo pipefail

DEB=${1:?usage: $0 cluster-master.deb}
DEB=$(readlink -f "$DEB")
SIZE=2
MACHINE=cm-e2e-$$
WORK=$(mktemp -d /tmp/cm-e2e.XXXXXX)
ROOT=$WORK/root
NSPAWN_PID=
FAILED=0
PASSED=0

log() { printf '[e2e] %s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); printf '[e2e] PASS %s\n' "$*"; }
bad() { FAILED=$((FAILED + 1)); printf '[e2e] FAIL %s\n' "$*"; }
die() { printf '[e2e] ERROR %s\n' "$*" >&2; exit 1; }

cleanup() {
    set +e
    if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        in_ct systemctl poweroff >/dev/null 2>&1
        for _ in $(seq 1 30); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.5; done
        # Still up: SIGKILL only the nspawn we started (its container dies with it).
        kill -KILL "$NSPAWN_PID" 2>/dev/null
        wait "$NSPAWN_PID" 2>/dev/null
    fi
    umount "$ROOT" 2>/dev/null
    umount "$WORK" 2>/dev/null
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

# Overlay: lower = host /, upper = tmpfs. Only the root filesystem is seen (no /proc, /work
# sub-mounts), and every change the test makes vanishes with the tmpfs.
mount -t tmpfs -o size=2g cm-e2e "$WORK"
mkdir -p "$WORK/up" "$WORK/wk" "$ROOT"
mount -t overlay overlay -o "lowerdir=/,upperdir=$WORK/up,workdir=$WORK/wk" "$ROOT" \
    || skip_or_die "cannot mount overlayfs over /"
# A clean slate inside: no leftovers of an earlier install on the host, a fresh machine id.
rm -f "$ROOT/etc/machine-id"
: > "$ROOT/etc/machine-id"
cp "$DEB" "$ROOT/root/cluster-master.deb"

log "booting systemd in container $MACHINE"
# --register=no/--keep-unit: there is no systemd (nor machined) on the host to register with.
systemd-nspawn --quiet --register=no --keep-unit --private-network --console=passive \
    --directory="$ROOT" --machine="$MACHINE" --boot >"$WORK/console.log" 2>&1 &
NSPAWN_PID=$!

LEADER=
for _ in $(seq 1 100); do
    LEADER=$(pgrep -P "$NSPAWN_PID" | head -n 1 || true)
    [ -n "$LEADER" ] && break
    kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$WORK/console.log" >&2; skip_or_die "systemd-nspawn exited at once"; }
    sleep 0.1
done
[ -n "$LEADER" ] || skip_or_die "container init never appeared"

# Run a command inside the container's namespaces (its own systemd, journal, /run).
in_ct() { nsenter --target "$LEADER" --all -- "$@"; }

state=
for _ in $(seq 1 120); do
    state=$(in_ct systemctl is-system-running 2>/dev/null || true)
    case $state in running|degraded) break ;; esac
    sleep 0.5
done
case $state in
    running|degraded) log "container systemd is $state" ;;
    *) cat "$WORK/console.log" >&2; skip_or_die "container never finished booting (state: '$state')" ;;
esac

# --- install ---------------------------------------------------------------------------------
log "dpkg -i inside the container"
if in_ct env DEBIAN_FRONTEND=noninteractive dpkg -i /root/cluster-master.deb; then
    ok "dpkg -i"
else
    die "dpkg -i failed"
fi
in_ct getent passwd cluster-master >/dev/null && ok "system user cluster-master exists" || bad "system user missing"
[ "$(in_ct systemctl is-enabled cluster-master.service)" = enabled ] && ok "unit enabled by postinst" || bad "unit not enabled"
if out=$(in_ct systemd-analyze verify cluster-master.service cluster-master@test.service cluster-master.socket 2>&1) && [ -z "$out" ]; then
    ok "systemd-analyze verify is clean"
else
    bad "systemd-analyze verify: $out"
fi

# A worker that writes to stdout and stderr, plus one line with its own sd-daemon priority prefix
# (what a Java worker using our logback.xml prints under JOURNAL_STREAM).
write_conf() { # $1 = marker, $2 = extra conf line
    in_ct sh -c 'cat > /etc/cluster-master/cluster-master.conf' <<EOF
name=cluster-master
exec=/bin/sh -c 'echo "$1-out pid=\$\$"; echo "<4>$1-warn pid=\$\$"; echo "$1-err pid=\$\$" >&2; while sleep 3600; do :; done'
size=$SIZE
ready=grace
ready.grace=500ms
stop.timeout=10s
$2
EOF
}
write_conf e2e ""

# --- start: active only once READY=1 arrived ----------------------------------------------------
in_ct systemctl stop cluster-master.service 2>/dev/null || true
in_ct journalctl --rotate >/dev/null 2>&1 || true
CURSOR=$(in_ct journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
if in_ct timeout 120 systemctl start cluster-master.service; then
    ok "systemctl start returned success"
else
    in_ct journalctl -u cluster-master --no-pager -n 50 || true
    die "systemctl start failed"
fi
[ "$(in_ct systemctl is-active cluster-master.service)" = active ] && ok "unit is active" || bad "unit not active"
MAINPID=$(in_ct systemctl show -p MainPID --value cluster-master.service)
# The master logs "all N workers ready" before it sends READY=1; systemd logs "Started" after it.
journal_since() { in_ct journalctl --no-pager -o cat --after-cursor="$CURSOR" "$@"; }
ready_line=$(journal_since -u cluster-master.service | grep -n "all $SIZE workers ready" | head -n 1 | cut -d: -f1 || true)
started_line=$(journal_since -u cluster-master.service | grep -n "Started cluster-master.service" | head -n 1 | cut -d: -f1 || true)
if [ -n "$ready_line" ] && [ -n "$started_line" ] && [ "$ready_line" -lt "$started_line" ]; then
    ok "systemd reported Started only after all workers were ready (Type=notify)"
else
    bad "ordering of 'all workers ready' ($ready_line) vs 'Started' ($started_line)"
fi

worker_pids() { in_ct sh -c "ps -o pid= --ppid $MAINPID | tr -d ' ' | sort -n"; }
PIDS1=$(worker_pids)
[ "$(echo "$PIDS1" | grep -c .)" = "$SIZE" ] && ok "$SIZE workers running: $(echo $PIDS1)" || bad "expected $SIZE workers, got: $(echo $PIDS1)"
user=$(in_ct ps -o user= -p "$MAINPID" | tr -d ' ')
[ "$user" = cluster-master ] && ok "master runs as cluster-master" || bad "master runs as '$user'"

# --- control socket -----------------------------------------------------------------------------
SOCK=/run/cluster-master/cluster-master.sock
if in_ct test -S "$SOCK"; then
    ok "REPL socket $SOCK exists"
    reply=$(echo workers | in_ct timeout 10 socat -t 5 - "UNIX-CONNECT:$SOCK" 2>&1 || true)
    printf '%s\n' "$reply" | sed 's/^/[e2e]   | /'
    missing=
    for p in $PIDS1; do printf '%s' "$reply" | grep -qw "$p" || missing="$missing $p"; done
    [ -z "$missing" ] && ok "REPL 'workers' lists every worker pid" || bad "REPL 'workers' lacks pids:$missing"
else
    bad "no REPL socket at $SOCK"
fi

# --- journald priorities ------------------------------------------------------------------------
sleep 1
# $1: an awk regex for MESSAGE; worker patterns end in pid=[0-9] so the master's "starting: CMD" line never matches.
prio_of() { in_ct journalctl --no-pager -u cluster-master.service --after-cursor="$CURSOR" -o export \
    | awk -v pat="$1" '/^PRIORITY=/{p=substr($0,10)} /^MESSAGE=/{if ($0 ~ pat) {print p; exit}} /^$/{p=""}'; }
# Default: workers inherit the journal stream, so their own <N> prefixes are honoured.
[ "$(prio_of 'e2e-out pid=[0-9]')" = 6 ] && ok "worker stdout in journal at priority 6 (info)" || bad "worker stdout priority: '$(prio_of 'e2e-out pid=[0-9]')'"
[ "$(prio_of 'e2e-warn pid=[0-9]')" = 4 ] && ok "worker's own <4> prefix gives priority 4 (warning)" || bad "worker <4> line priority: '$(prio_of 'e2e-warn pid=[0-9]')'"
[ -n "$(prio_of 'e2e-err pid=[0-9]')" ] && ok "worker stderr reaches the journal" || bad "worker stderr missing from the journal"
[ "$(prio_of "all $SIZE workers ready")" = 6 ] && ok "master log line at priority 6" || bad "master line priority: '$(prio_of "all $SIZE workers ready")'"
if journal_since -u cluster-master.service | grep -q '^<[0-7]>'; then
    bad "a raw <N> prefix reached the journal (not parsed by journald)"
else
    ok "no raw <N> prefixes in the journal"
fi

# --- reload = rolling restart -------------------------------------------------------------------
if in_ct timeout 120 systemctl reload cluster-master.service; then
    ok "systemctl reload returned success"
else
    bad "systemctl reload failed"
fi
PIDS2=
for _ in $(seq 1 60); do
    PIDS2=$(worker_pids)
    if [ "$(echo "$PIDS2" | grep -c .)" = "$SIZE" ] && [ -z "$(comm -12 <(echo "$PIDS1") <(echo "$PIDS2"))" ] \
        && [ "$(in_ct systemctl is-active cluster-master.service)" = active ]; then
        break
    fi
    sleep 0.5
done
[ -z "$(comm -12 <(echo "$PIDS1") <(echo "$PIDS2"))" ] && [ "$(echo "$PIDS2" | grep -c .)" = "$SIZE" ] \
    && ok "rolling restart replaced every worker: $(echo $PIDS1) -> $(echo $PIDS2)" \
    || bad "workers after reload: $(echo $PIDS2) (before: $(echo $PIDS1))"
[ "$(in_ct systemctl show -p MainPID --value cluster-master.service)" = "$MAINPID" ] \
    && ok "master pid unchanged by reload" || bad "master pid changed on reload"

# --- stop leaves nothing behind -----------------------------------------------------------------
if in_ct timeout 90 systemctl stop cluster-master.service; then
    ok "systemctl stop returned success"
else
    bad "systemctl stop failed"
fi
left=$(in_ct pgrep -u cluster-master -a || true)
[ -z "$left" ] && ok "no process of user cluster-master left" || bad "left behind: $left"
result=$(in_ct systemctl show -p Result --value cluster-master.service)
[ "$result" = success ] && ok "unit Result=success (clean exit, no SIGKILL)" || bad "unit Result=$result"
in_ct test -e /run/cluster-master && bad "/run/cluster-master still exists" || ok "RuntimeDirectory removed"

# --- silent=true: the master captures worker output and logs it itself, stderr as WARN --------
write_conf e2esilent "silent=true"
if in_ct timeout 120 systemctl start cluster-master.service; then
    sleep 1
    [ "$(prio_of 'e2esilent-out pid=[0-9]')" = 6 ] && ok "silent: worker stdout logged at priority 6" || bad "silent: stdout priority '$(prio_of 'e2esilent-out pid=[0-9]')'"
    [ "$(prio_of 'e2esilent-err pid=[0-9]')" = 4 ] && ok "silent: worker stderr logged at priority 4" || bad "silent: stderr priority '$(prio_of 'e2esilent-err pid=[0-9]')'"
    in_ct timeout 90 systemctl stop cluster-master.service || bad "silent: stop failed"
else
    bad "silent: systemctl start failed"
fi

log "journal of the unit during the test:"
journal_since -u cluster-master.service -o short-precise | sed 's/^/[e2e]   | /' | tail -n 60

# --- remove / purge -----------------------------------------------------------------------------
in_ct dpkg --purge cluster-master >/dev/null && ok "dpkg --purge" || bad "dpkg --purge failed"

echo "e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
