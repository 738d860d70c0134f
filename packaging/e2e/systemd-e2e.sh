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
# A build container's policy-rc.d ("exit 101") would stop the maintainer scripts from starting and
# stopping units; a real machine has none.
rm -f "$ROOT/usr/sbin/policy-rc.d"
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
[ "$(in_ct systemctl is-active cluster-master.service)" = active ] && ok "postinst started the service (shipped conf)" \
    || bad "service after install: $(in_ct systemctl is-active cluster-master.service)"
[ "$(in_ct systemctl is-enabled cluster-master.socket)" = disabled ] && ok "cluster-master.socket left disabled (opt-in)" \
    || bad "cluster-master.socket is $(in_ct systemctl is-enabled cluster-master.socket)"
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
# (journalctl 252 with --after-cursor and a match skips the first matching entry: fine for these greps.)
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
# $1: an awk regex for MESSAGE, $2: a field name; prints that field of the first matching entry of the unit
# (fields come in any order within an entry, which -o export ends with an empty line).
# Worker patterns end in pid=[0-9] so the master's "starting: CMD" line never matches.
field_of() { in_ct journalctl --no-pager -u cluster-master.service --after-cursor="$CURSOR" -o export \
    | awk -v pat="$1" -v key="$2=" 'index($0, key) == 1 {v = substr($0, length(key) + 1)}
        /^MESSAGE=/ {if ($0 ~ pat) hit = 1}
        /^$/ {if (hit) {print v; exit} v = ""; hit = 0}'; }
prio_of() { field_of "$1" PRIORITY; }
# Default: workers inherit the journal stream, so their own <N> prefixes are honoured.
[ "$(prio_of 'e2e-out pid=[0-9]')" = 6 ] && ok "worker stdout in journal at priority 6 (info)" || bad "worker stdout priority: '$(prio_of 'e2e-out pid=[0-9]')'"
[ "$(prio_of 'e2e-warn pid=[0-9]')" = 4 ] && ok "worker's own <4> prefix gives priority 4 (warning)" || bad "worker <4> line priority: '$(prio_of 'e2e-warn pid=[0-9]')'"
[ -n "$(prio_of 'e2e-err pid=[0-9]')" ] && ok "worker stderr reaches the journal" || bad "worker stderr missing from the journal"
[ "$(prio_of "all $SIZE workers ready")" = 6 ] && ok "master log line at priority 6" || bad "master line priority: '$(prio_of "all $SIZE workers ready")'"
# The master speaks journald's native protocol (JournalAppender): structured fields, not a stdout line.
[ "$(field_of "all $SIZE workers ready" _TRANSPORT)" = journal ] && ok "master logs natively (_TRANSPORT=journal)" \
    || bad "master line _TRANSPORT='$(field_of "all $SIZE workers ready" _TRANSPORT)'"
[ "$(field_of "all $SIZE workers ready" SYSLOG_IDENTIFIER)" = cluster-master ] \
    && [ -n "$(field_of "all $SIZE workers ready" LOGGER)" ] && [ -n "$(field_of "all $SIZE workers ready" THREAD)" ] \
    && ok "master entry has SYSLOG_IDENTIFIER=cluster-master, LOGGER=$(field_of "all $SIZE workers ready" LOGGER), THREAD" \
    || bad "master entry fields: $(in_ct journalctl -u cluster-master.service -o verbose -n 1 --grep "all $SIZE workers ready" --no-pager | tr '\n' ' ')"
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
    # Captured lines carry the worker's slot as a journal field (the MDC entry CM_CHILD_ID). Only this
    # silent run sets the field, so no cursor is needed (and 252's --after-cursor would drop the first match).
    w2=$(in_ct journalctl --no-pager -o cat -u cluster-master CM_CHILD_ID=2)
    printf '%s\n' "$w2" | sed 's/^/[e2e]   | CM_CHILD_ID=2: /'
    if printf '%s\n' "$w2" | grep -q '^\[2\] e2esilent-out pid=' && printf '%s\n' "$w2" | grep -q '^\[2\] e2esilent-err pid=' \
        && ! printf '%s\n' "$w2" | grep -qv '^\[2\] ' && [ "$(printf '%s\n' "$w2" | sed 's/.*pid=//' | sort -u | wc -l)" = 1 ]; then
        ok "journalctl -u cluster-master CM_CHILD_ID=2 gives worker 2's lines (stdout and stderr), and only those"
    else
        bad "journalctl CM_CHILD_ID=2 returned: $w2"
    fi
    in_ct timeout 90 systemctl stop cluster-master.service || bad "silent: stop failed"
else
    bad "silent: systemctl start failed"
fi

# --- socket activation: systemd owns the port, the master adopts it -------------------------------
# The demo HTTP worker is in the packaged jar, which is the workers' default classpath.
PORT=$(in_ct systemctl show -p Listen --value cluster-master.socket | sed -n 's/^.*[]:]\([0-9][0-9]*\) (Stream)$/\1/p; s/^\([0-9][0-9]*\) (Stream)$/\1/p' | head -n 1)
[ -n "$PORT" ] || PORT=8080
in_ct sh -c 'cat > /etc/cluster-master/cluster-master.conf' <<EOF
name=cluster-master
main=dev.clustermaster.demo.DemoHttpWorker
jvm.args=-Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx64m
size=$SIZE
stop.timeout=10s
EOF
# One GET; prints the body ("pid P worker N restart R") or nothing.
http_get() { in_ct timeout 70 curl -sS --max-time 60 "http://127.0.0.1:$PORT/" 2>/dev/null || true; }
if in_ct ss -Hltn "sport = :$PORT" | grep -q .; then
    bad "port $PORT of cluster-master.socket is already taken: $(in_ct ss -Hltnp "sport = :$PORT")"
else
    ok "port $PORT of cluster-master.socket is free before the socket starts"
fi
CURSOR=$(in_ct journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
if in_ct systemctl enable --now cluster-master.socket >/dev/null 2>&1 \
    && [ "$(in_ct systemctl is-active cluster-master.socket)" = active ] \
    && [ "$(in_ct systemctl is-active cluster-master.service)" != active ]; then
    ok "cluster-master.socket enabled and listening on $PORT, service not running"
    T_ACT=$SECONDS
    body=$(http_get)
    if printf '%s' "$body" | grep -Eq '^pid [0-9]+ worker [0-9]+ restart [0-9]+$'; then
        ok "first connection started the service, a worker answered in $((SECONDS - T_ACT))s: '$body'"
    else
        bad "no answer through the socket: '$body'"
        journal_since -u cluster-master.service | tail -n 30 | sed 's/^/[e2e]   | /'
    fi
    # a worker may answer before the last one is ready, i.e. before the master's READY=1
    for _ in $(seq 1 60); do [ "$(in_ct systemctl is-active cluster-master.service)" = activating ] || break; sleep 0.5; done
    MAINPID=$(in_ct systemctl show -p MainPID --value cluster-master.service)
    [ "$(in_ct systemctl is-active cluster-master.service)" = active ] && ok "service active after activation (master $MAINPID)" \
        || bad "service is $(in_ct systemctl is-active cluster-master.service)"
    sa=$(journal_since -u cluster-master.service | grep 'socket activation:' | head -n 1 || true)
    [ -n "$sa" ] && ok "master adopted systemd's fd, it logged: $sa" || bad "no 'socket activation' line from the master"
    pid=$(printf '%s' "$body" | awk '{print $2}')
    worker_pids | grep -qx "$pid" && ok "the answer came from a worker of this master (pid $pid)" || bad "pid '$pid' is not a worker of $MAINPID"

    # reload under load: every request made during the rolling restart is answered
    in_ct rm -f /tmp/cm-load.stop /tmp/cm-load.out
    in_ct sh -c "while [ ! -e /tmp/cm-load.stop ]; do curl -sS --max-time 20 http://127.0.0.1:$PORT/ >>/tmp/cm-load.out 2>&1 || echo FAILED >>/tmp/cm-load.out; done" &
    LOAD_PID=$!
    sleep 0.5
    in_ct timeout 120 systemctl reload cluster-master.service && ok "systemctl reload of the socket-activated service" || bad "reload failed"
    sleep 0.5
    in_ct touch /tmp/cm-load.stop
    wait "$LOAD_PID" 2>/dev/null || true
    total=$(in_ct grep -c . /tmp/cm-load.out || true)
    failed=$(in_ct grep -vc '^pid [0-9]* worker [0-9]* restart [0-9]*$' /tmp/cm-load.out || true)
    renewed=$(in_ct grep -c 'restart 1$' /tmp/cm-load.out || true)
    if [ "${total:-0}" -gt 0 ] && [ "${failed:-0}" = 0 ] && [ "${renewed:-0}" -gt 0 ]; then
        ok "requests during reload: $total answered, 0 failed, $renewed of them by the new workers"
    else
        bad "requests during reload: $total, failed $failed, by new workers $renewed: $(in_ct grep -v '^pid' /tmp/cm-load.out | sort | uniq -c | head -n 5)"
    fi
    body=$(http_get)
    printf '%s' "$body" | grep -Eq '^pid [0-9]+ worker [0-9]+ restart 1$' && ok "after reload a new worker answers: '$body'" \
        || bad "after reload: '$body'"

    # the port outlives the master: stop the service, and the next connection starts it again
    in_ct timeout 90 systemctl stop cluster-master.service >/dev/null 2>&1 || bad "stop of the socket-activated service failed"
    [ "$(in_ct systemctl is-active cluster-master.socket)" = active ] && ok "socket still listening with the service stopped" \
        || bad "socket is $(in_ct systemctl is-active cluster-master.socket) after stopping the service"
    body=$(http_get)
    MAINPID2=$(in_ct systemctl show -p MainPID --value cluster-master.service)
    if printf '%s' "$body" | grep -Eq '^pid [0-9]+ worker [0-9]+ restart 0$' && [ "$MAINPID2" != "$MAINPID" ]; then
        ok "the next connection re-activated the service (master $MAINPID -> $MAINPID2): '$body'"
    else
        bad "re-activation: '$body', master $MAINPID -> $MAINPID2"
    fi
    # left enabled and running on purpose: dpkg --purge below must stop and disable it
else
    bad "cluster-master.socket did not start: $(in_ct systemctl status cluster-master.socket --no-pager 2>&1 | tail -n 5)"
fi

log "journal of the unit during the test:"
journal_since -u cluster-master.service -o short-precise | sed 's/^/[e2e]   | /' | tail -n 60

# --- remove / purge -----------------------------------------------------------------------------
in_ct dpkg --purge cluster-master >/dev/null && ok "dpkg --purge" || bad "dpkg --purge failed"
# The socket was left enabled and active above: removal must stop it too, or a connection would start a
# service whose files are gone.
if [ "$(in_ct systemctl is-active cluster-master.socket)" != active ] && ! in_ct ss -Hltn "sport = :$PORT" | grep -q . \
    && [ -z "$(in_ct pgrep -u cluster-master || true)" ] && ! in_ct test -e /etc/systemd/system/sockets.target.wants/cluster-master.socket; then
    ok "purge stopped and disabled cluster-master.socket and the service"
else
    bad "after purge: socket $(in_ct systemctl is-active cluster-master.socket), listening: $(in_ct ss -Hltn "sport = :$PORT"), processes: $(in_ct pgrep -u cluster-master -a || true)"
fi

echo "e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
