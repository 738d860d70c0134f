# The packaged unit with the shipped conf replaced: Type=notify start, control socket, journald, reload, stop, silent=true.
# A worker that writes to stdout and stderr, plus one line with its own sd-daemon priority prefix
# (what a Java worker using our logging setup prints under JOURNAL_STREAM).
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
mark_journal
if in_ct timeout 120 systemctl start cluster-master.service; then
    ok "systemctl start returned success"
else
    in_ct journalctl -u cluster-master --no-pager -n 50 || true
    die "systemctl start failed"
fi
[ "$(in_ct systemctl is-active cluster-master.service)" = active ] && ok "unit is active" || bad "unit not active"
MAINPID=$(in_ct systemctl show -p MainPID --value cluster-master.service)
# CacheDirectory= for Java workers' AppCDS: the service user owns only its own leaf, never the master's archives
own=$(in_ct stat -c '%U %a' /var/cache/cluster-master /var/cache/cluster-master/apps /var/cache/cluster-master/apps/cluster-master 2>&1 | tr '\n' ' ' || true)
env_cache=$(in_ct sh -c "tr '\0' '\n' </proc/$MAINPID/environ" | grep '^CACHE_DIRECTORY=' || true)
if [ "$own" = "root 755 root 755 cluster-master 700 " ] && [ "$env_cache" = CACHE_DIRECTORY=/var/cache/cluster-master/apps/cluster-master ]; then
    ok "CacheDirectory=cluster-master/apps/cluster-master: $own, the master has $env_cache"
else
    bad "cache directories: '$own', master's $env_cache"
fi
# The master logs "all N workers ready" before it sends READY=1; systemd logs "Started" after it.
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
# $1: an awk regex for MESSAGE, $2: a field name; prints that field of the first matching entry of the unit
# (fields come in any order within an entry, which -o export ends with an empty line).
# Worker patterns end in pid=[0-9] so the master's "starting: CMD" line never matches.
field_of() { in_ct journalctl --no-pager -u cluster-master.service --after-cursor="$CURSOR" -o export \
    | awk -v pat="$1" -v key="$2=" 'index($0, key) == 1 {v = substr($0, length(key) + 1)}
        /^MESSAGE=/ {if ($0 ~ pat) hit = 1}
        /^$/ {if (hit) {print v; exit} v = ""; hit = 0}'; }
prio_of() { field_of "$1" PRIORITY; }
# journald takes the workers' stream lines in its own time: await them (a slow machine), then check them.
worker_lines_in_journal() { local s; for s in out warn err; do [ -n "$(prio_of "$1-$s pid=[0-9]")" ] || return 1; done; }
await 30 worker_lines_in_journal e2e || true
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
    await 30 '[ "$(in_ct journalctl --no-pager -o cat -u cluster-master CM_CHILD_ID=2 | grep -c e2esilent-)" -ge 2 ]' || true
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

