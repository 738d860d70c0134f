#!/usr/bin/env bash
# Zero-downtime end-to-end test of the .deb under a real systemd (issue 10): with HTTP load running
# inside the container (loopback, new connections and keep-alive, bounded), counts failed requests
# and the longest request across
#   - kill -9 of the master (Restart= starts a new one, which adopts the sockets from the fd store)
#   - systemctl restart
# and prints what systemd did with the fd store.
#
#   packaging/e2e/upgrade-e2e.sh path/to/cluster-master_*.deb
#
# Needs root and systemd-nspawn; boots the container the same way as systemd-e2e.sh (see e2e-lib.sh).
set -euo pipefail

DEB=${1:?usage: $0 cluster-master.deb}
DEB=$(readlink -f "$DEB")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=packaging/e2e/e2e-lib.sh
. "$HERE/e2e-lib.sh"

PORT=8080
SIZE=2
# Load bounds: each client stops after LOAD_SECONDS at the latest; each request after 60 s.
LOAD_SECONDS=120

e2e_boot "cm-upgrade-e2e"

log "dpkg -i inside the container"
in_ct env DEBIAN_FRONTEND=noninteractive dpkg -i /root/cluster-master.deb >/dev/null || die "dpkg -i failed"
in_ct systemctl stop cluster-master.socket >/dev/null 2>&1 || true
in_ct sh -c 'cat > /etc/cluster-master/cluster-master.conf' <<EOF
name=cluster-master
main=dev.clustermaster.demo.DemoHttpWorker
jvm.args=-Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx64m
size=$SIZE
listen=tcp://127.0.0.1:$PORT
stop.timeout=20s
EOF
in_ct timeout 180 systemctl restart cluster-master.service || die "systemctl restart (first start) failed"
[ "$(in_ct systemctl is-active cluster-master.service)" = active ] && ok "service active with listen=tcp://127.0.0.1:$PORT" \
    || die "service not active"
stored=$(in_ct systemctl show -p NFileDescriptorStore --value cluster-master.service)
[ "$stored" = 1 ] && ok "the master put its listening socket into the fd store (NFileDescriptorStore=1)" \
    || bad "NFileDescriptorStore=$stored after start"

# Load inside the container: two loops of one request per new connection, one loop of keep-alive
# connections (curl reuses the connection over 20 URLs; like any HTTP client it retries a request
# once when a reused idle connection turns out closed before any answer). Every request prints
# "R <http code> <seconds>"; curl prints 000 when it got no answer.
in_ct sh -c 'cat > /root/load.sh' <<'EOF'
#!/bin/sh
# load.sh PORT OUT SECONDS: runs until /tmp/load.stop exists or SECONDS passed.
port=$1 out=$2 secs=$3
end=$(( $(date +%s) + secs ))
url="http://127.0.0.1:$port/"
fmt='\nR %{http_code} %{time_total}\n'
newconn() {
    while [ ! -e /tmp/load.stop ] && [ "$(date +%s)" -lt "$end" ]; do
        curl -s --max-time 60 -w "$fmt" "$url" 2>/dev/null | grep '^R ' || echo "R 000 0"
        sleep 0.05
    done
}
keepalive() {
    urls=$(for i in $(seq 1 20); do printf '%s ' "$url"; done)
    while [ ! -e /tmp/load.stop ] && [ "$(date +%s)" -lt "$end" ]; do
        # shellcheck disable=SC2086
        res=$(curl -s --max-time 60 -w "$fmt" $urls 2>/dev/null | grep '^R ')
        n=$(printf '%s\n' "$res" | grep -c '^R 200 ')
        printf '%s\n' "$res"
        # a request curl never got to (the whole run cut short) counts as failed too
        i=$(printf '%s\n' "$res" | grep -c '^R ')
        while [ "$i" -lt 20 ]; do echo "R 000 0"; i=$((i + 1)); done
        [ "$n" -gt 0 ] || sleep 0.05
    done
}
newconn >"$out.1" &
newconn >"$out.2" &
keepalive >"$out.3" &
wait
cat "$out.1" "$out.2" "$out.3" >"$out"
EOF
in_ct chmod +x /root/load.sh

LOAD_PID=
load_start() { # $1 = name
    in_ct rm -f /tmp/load.stop "/tmp/load-$1.out"
    in_ct /root/load.sh "$PORT" "/tmp/load-$1.out" "$LOAD_SECONDS" &
    LOAD_PID=$!
    sleep 2
}
# Stops the load (not in a subshell: it waits for its own background job); sets LOAD="total failed longest_s"
load_stop() { # $1 = name
    in_ct touch /tmp/load.stop
    wait "$LOAD_PID" 2>/dev/null || true
    LOAD=$(in_ct awk '/^R /{n++; if ($2 != 200) f++; if ($3 > max) max = $3} END {printf "%d %d %.3f\n", n, f, max}' "/tmp/load-$1.out")
}
# Waits until the unit is active with a main pid other than $1
await_new_master() {
    for _ in $(seq 1 240); do
        pid=$(in_ct systemctl show -p MainPID --value cluster-master.service)
        if [ "$pid" != 0 ] && [ "$pid" != "$1" ] && [ "$(in_ct systemctl is-active cluster-master.service)" = active ]; then
            echo "$pid"
            return 0
        fi
        sleep 0.5
    done
    return 1
}
# Waits until every worker of the current master answered (workers are ready once the unit is active,
# but keep the load running a few more seconds over the new workers)
settle() { sleep 3; }

report() { # $1 = scenario, $2 = "total failed longest"
    read -r total failed longest <<<"$2"
    RESULTS+=("$1: $total requests, $failed failed, longest ${longest}s")
    if [ "$total" -gt 0 ] && [ "$failed" = 0 ]; then
        ok "$1: $total requests under load, 0 failed, longest ${longest}s"
    else
        bad "$1: $total requests, $failed failed, longest ${longest}s"
        in_ct sh -c "grep -hv '^R 200 ' /tmp/load-*.out | cut -d' ' -f1-2 | sort | uniq -c | head -n 5" | sed 's/^/[e2e]   | /'
    fi
}
RESULTS=()
CURSOR=$(in_ct journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')

# --- kill -9 of the master: Restart=on-failure starts a new one ------------------------------------
MAIN=$(in_ct systemctl show -p MainPID --value cluster-master.service)
load_start kill
in_ct kill -KILL "$MAIN"
NEW=$(await_new_master "$MAIN") || die "no new master after kill -9 of $MAIN"
settle
load_stop kill
report "kill -9 of the master ($MAIN -> $NEW)" "$LOAD"
if in_ct journalctl -u cluster-master.service --after-cursor="$CURSOR" -o cat | grep -q "adopted from systemd's fd store"; then
    ok "the new master adopted the stored socket: $(in_ct journalctl -u cluster-master.service --after-cursor="$CURSOR" -o cat | grep "adopted from" | tail -n 1)"
else
    bad "no 'adopted from systemd's fd store' after kill -9"
fi

# --- systemctl restart ------------------------------------------------------------------------------
CURSOR=$(in_ct journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
MAIN=$NEW
load_start restart
in_ct timeout 180 systemctl restart cluster-master.service || bad "systemctl restart failed"
NEW=$(await_new_master "$MAIN") || die "no new master after systemctl restart"
settle
load_stop restart
report "systemctl restart ($MAIN -> $NEW)" "$LOAD"
if in_ct journalctl -u cluster-master.service --after-cursor="$CURSOR" -o cat | grep -q "adopted from systemd's fd store"; then
    ok "systemd $(e2e_systemd_version) kept the fd store across systemctl restart: the new master adopted the socket"
else
    bad "systemd $(e2e_systemd_version) flushed the fd store on systemctl restart (the new master bound afresh)"
fi

# --- systemctl stop empties the store --------------------------------------------------------------
in_ct timeout 90 systemctl stop cluster-master.service
CURSOR=$(in_ct journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
in_ct timeout 180 systemctl start cluster-master.service
if in_ct journalctl -u cluster-master.service --after-cursor="$CURSOR" -o cat | grep -q "listening on \[tcp://127.0.0.1:$PORT\]"; then
    ok "after systemctl stop the store is empty: the next start binds afresh"
else
    bad "start after stop: $(in_ct journalctl -u cluster-master.service --after-cursor="$CURSOR" -o cat | grep -E 'listening on|adopted' || true)"
fi

# --- a changed listen= drops the stale stored socket ---------------------------------------------------
in_ct sed -i "s|^listen=.*|listen=tcp://127.0.0.1:$((PORT + 1))|" /etc/cluster-master/cluster-master.conf
CURSOR=$(in_ct journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
MAIN=$(in_ct systemctl show -p MainPID --value cluster-master.service)
in_ct kill -KILL "$MAIN"
await_new_master "$MAIN" >/dev/null || die "no new master after kill -9 with a changed listen="
msgs=$(in_ct journalctl -u cluster-master.service --after-cursor="$CURSOR" -o cat)
if grep -q "closing stored socket cm-listen.tcp-$PORT (tcp://127.0.0.1:$PORT)" <<<"$msgs" \
    && ! in_ct ss -Hltn "sport = :$PORT" | grep -q . && in_ct ss -Hltn "sport = :$((PORT + 1))" | grep -q . \
    && [ "$(in_ct systemctl show -p NFileDescriptorStore --value cluster-master.service)" = 1 ]; then
    ok "a stored socket listen= no longer names was closed, dropped from the store and logged; port $((PORT + 1)) serves"
else
    bad "changed listen=: $(grep -E 'stored socket|adopted|listening on' <<<"$msgs" || true); store: $(in_ct systemctl show -p NFileDescriptorStore --value cluster-master.service)"
fi
in_ct sed -i "s|^listen=.*|listen=tcp://127.0.0.1:$PORT|" /etc/cluster-master/cluster-master.conf
in_ct timeout 180 systemctl restart cluster-master.service

log "results (systemd $(e2e_systemd_version)):"
for r in "${RESULTS[@]}"; do log "  $r"; done
in_ct dpkg --purge cluster-master >/dev/null && ok "dpkg --purge" || bad "dpkg --purge failed"
[ -z "$(in_ct pgrep -u cluster-master || true)" ] && ok "purge left no process" || bad "purge left processes"

echo "upgrade e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
