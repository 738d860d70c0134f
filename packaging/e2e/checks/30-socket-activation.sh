# cluster-master.socket: systemd owns the port, the master adopts it; reload under load; re-activation.
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
mark_journal
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

