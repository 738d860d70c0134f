# Issue 10: the listening socket outlives the master through systemd's fd store. With HTTP load running
# inside the container (loopback; new connections and keep-alive; bounded in time), counts failed requests
# and the longest request across kill -9 of the master (Restart= replaces it) and systemctl restart;
# then: stop empties the store, a changed listen= drops the stale stored socket.
# Leaves the service stopped and port 8080 free (30-socket-activation wants it).
ZD_PORT=8080
ZD_SECONDS=120   # each load client stops after this at the latest; each request after 60 s
# shellcheck source=packaging/e2e/load-lib.sh
. "$E2E_DIR/load-lib.sh"
zd_conf "$ZD_PORT"
in_ct timeout 180 systemctl restart cluster-master.service || bad "start with listen=tcp://127.0.0.1:$ZD_PORT failed"
stored=$(in_ct systemctl show -p NFileDescriptorStore --value cluster-master.service)
[ "$stored" = 1 ] && ok "the master put its listening socket into the fd store (NFileDescriptorStore=1)" \
    || bad "NFileDescriptorStore=$stored after start"

zd_adopted() { journal_since -u cluster-master.service | grep "adopted from systemd's fd store" | tail -n 1 || true; }
SYSTEMD_VERSION=$(in_ct systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')

# --- kill -9 of the master: Restart=on-failure starts a new one -------------------------------------------
mark_journal
ZD_MAIN=$(in_ct systemctl show -p MainPID --value cluster-master.service)
zd_load_start kill
in_ct kill -KILL "$ZD_MAIN"
if ZD_NEW=$(zd_new_master "$ZD_MAIN"); then
    sleep 3   # keep the load on the new workers a little
    # systemd SIGKILLs the rest of the unit's cgroup the moment its main process dies (KillMode=mixed), so a
    # request a worker was answering right then is cut: at most one per load loop; none may be refused
    zd_load_report kill "kill -9 of the master ($ZD_MAIN -> $ZD_NEW)" 3
    a=$(zd_adopted)
    [ -n "$a" ] && ok "the replacement master adopted the stored socket: $a" || bad "no 'adopted from systemd's fd store' after kill -9"
else
    zd_load_report kill "kill -9 of the master"
    bad "no new master after kill -9 of $ZD_MAIN"
fi

# --- systemctl restart ----------------------------------------------------------------------------------
mark_journal
ZD_MAIN=$(in_ct systemctl show -p MainPID --value cluster-master.service)
zd_load_start restart
in_ct timeout 180 systemctl restart cluster-master.service || bad "systemctl restart failed"
if ZD_NEW=$(zd_new_master "$ZD_MAIN"); then
    sleep 3
    zd_load_report restart "systemctl restart ($ZD_MAIN -> $ZD_NEW)"
    a=$(zd_adopted)
    [ -n "$a" ] && ok "systemd $SYSTEMD_VERSION keeps the fd store across systemctl restart: $a" \
        || bad "systemd $SYSTEMD_VERSION: no adoption after systemctl restart (store flushed?)"
else
    zd_load_report restart "systemctl restart"
    bad "no new master after systemctl restart"
fi

# --- systemctl stop empties the store --------------------------------------------------------------------
in_ct systemctl reset-failed cluster-master.service   # 3 starts so far; StartLimitBurst=4 a minute
in_ct timeout 90 systemctl stop cluster-master.service || bad "stop failed"
mark_journal
in_ct timeout 180 systemctl start cluster-master.service || bad "start after stop failed"
if journal_since -u cluster-master.service | grep -q "listening on \[tcp://127.0.0.1:$ZD_PORT\]" && [ -z "$(zd_adopted)" ]; then
    ok "systemctl stop empties the store: the next start binds afresh"
else
    bad "start after stop: $(journal_since -u cluster-master.service | grep -E 'listening on|adopted' || true)"
fi

# --- a changed listen= drops the stale stored socket --------------------------------------------------
zd_conf $((ZD_PORT + 1))
mark_journal
ZD_MAIN=$(in_ct systemctl show -p MainPID --value cluster-master.service)
in_ct kill -KILL "$ZD_MAIN"
if zd_new_master "$ZD_MAIN" >/dev/null; then
    msgs=$(journal_since -u cluster-master.service)
    if grep -q "closing stored socket cm-listen.tcp-$ZD_PORT (tcp://127.0.0.1:$ZD_PORT) from systemd's fd store" <<<"$msgs" \
        && ! in_ct ss -Hltn "sport = :$ZD_PORT" | grep -q . && in_ct ss -Hltn "sport = :$((ZD_PORT + 1))" | grep -q . \
        && [ "$(in_ct systemctl show -p NFileDescriptorStore --value cluster-master.service)" = 1 ]; then
        ok "listen= changed: the stale stored socket was closed, dropped from the store and logged; :$((ZD_PORT + 1)) serves"
    else
        bad "listen= changed: $(grep -E 'stored socket|adopted|listening on' <<<"$msgs" || true); store: $(in_ct systemctl show -p NFileDescriptorStore --value cluster-master.service)"
    fi
else
    bad "no new master after kill -9 with a changed listen="
fi
in_ct timeout 90 systemctl stop cluster-master.service || bad "final stop failed"
in_ct ss -Hltn "sport = :$ZD_PORT" | grep -q . && bad "port $ZD_PORT still taken after stop"

log "fd store under systemd $SYSTEMD_VERSION, load results:"
for r in "${ZD_RESULTS[@]}"; do log "  $r"; done
