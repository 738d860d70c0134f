# HTTP load inside the e2e container, for the zero-downtime checks (sourced by checks/25-* and 26-*).
# zd_load_start NAME; ...; zd_load_report NAME "scenario" -> PASS/FAIL line "N requests, F failed, longest Ts".
# ZD_PORT, ZD_SECONDS (each load client stops after it at the latest) must be set; ZD_UNIT is the unit whose
# master zd_new_master follows (default cluster-master.service).
# shellcheck shell=bash
# The load: two loops of one request per new connection and one loop of keep-alive connections (curl reuses
# one connection for 20 URLs and, like any HTTP client, retries once when a reused idle connection turns out
# closed before any answer). Each request prints "R <http code> <seconds> <curl exit code>"; 000 = no answer
# (curl's exit code says why: 7 refused, 28 timed out, 52 closed without an answer, 56 reset).
in_ct sh -c 'cat > /root/load.sh' <<'EOF'
#!/bin/sh
# load.sh PORT OUT SECONDS: runs until /tmp/load.stop exists or SECONDS passed
port=$1 out=$2 secs=$3
end=$(( $(date +%s) + secs ))
url="http://127.0.0.1:$port/"
fmt='\nR %{http_code} %{time_total} %{exitcode}\n'
running() { [ ! -e /tmp/load.stop ] && [ "$(date +%s)" -lt "$end" ]; }
newconn() {
    while running; do
        curl -s --max-time 60 -w "$fmt" "$url" 2>/dev/null | grep '^R ' || echo "R 000 0 -"
        sleep 0.05
    done
}
keepalive() {
    urls=$(for _ in $(seq 1 20); do printf '%s ' "$url"; done)
    while running; do
        # shellcheck disable=SC2086
        res=$(curl -s --max-time 60 -w "$fmt" $urls 2>/dev/null | grep '^R ')
        printf '%s\n' "$res"
        # requests curl never got to (it gave up on the connection) count as failed too
        i=$(printf '%s\n' "$res" | grep -c '^R ')
        while [ "$i" -lt 20 ]; do echo "R 000 0 -"; i=$((i + 1)); done
    done
}
newconn >"$out.1" &
newconn >"$out.2" &
keepalive >"$out.3" &
wait
cat "$out.1" "$out.2" "$out.3" >"$out"
EOF
in_ct chmod +x /root/load.sh
ZD_LOAD_PIDS=()
ZD_RESULTS=()
zd_load_start() { # $1 = name, $2 = port (default $ZD_PORT); several may run at once: one zd_load_report stops all
    in_ct rm -f /tmp/load.stop "/tmp/load-$1.out"
    in_ct /root/load.sh "${2:-$ZD_PORT}" "/tmp/load-$1.out" "$ZD_SECONDS" &
    ZD_LOAD_PIDS+=($!)
    sleep 2
}
# Stops the load and reports on it (not in a subshell: it waits for its own background jobs).
# $3 (optional) = how many requests may have been cut while in flight (curl 52/56: the connection closed or reset
# after it was accepted), for a crash that kills workers mid-request; refused and timed-out requests never pass.
zd_load_report() { # $1 = name, $2 = scenario, $3 = cut requests allowed
    local total failed longest cut
    in_ct touch /tmp/load.stop
    if [ ${#ZD_LOAD_PIDS[@]} -gt 0 ]; then wait "${ZD_LOAD_PIDS[@]}" 2>/dev/null || true; fi
    ZD_LOAD_PIDS=()
    read -r total failed longest < <(in_ct awk '/^R /{n++; if ($2 != 200) f++; if ($3 > max) max = $3}
        END {printf "%d %d %.2f\n", n, f, max}' "/tmp/load-$1.out")
    ZD_RESULTS+=("$2: $total requests, $failed failed, longest ${longest}s")
    cut=$(in_ct awk '/^R / && $2 != 200 && ($4 == 52 || $4 == 56) {n++} END {print n + 0}' "/tmp/load-$1.out")
    if [ "${total:-0}" -gt 0 ] && [ "$failed" = 0 ]; then
        ok "$2: $total requests under load, 0 failed, longest ${longest}s"
    elif [ "${total:-0}" -gt 0 ] && [ -n "${3:-}" ] && [ "$failed" = "$cut" ] && [ "$cut" -le "$3" ]; then
        ok "$2: $total requests under load, $cut cut while in flight at the crash (at most $3 allowed: one per load loop), none refused or timed out, longest ${longest}s"
    else
        bad "$2: $total requests, $failed failed, longest ${longest}s"
        in_ct sh -c "grep -v '^R 200 ' /tmp/load-$1.out | cut -d' ' -f1,2,4 | sort | uniq -c | head -n 5" | quote
    fi
}
# Prints the main pid once the unit is active again with a master other than $1.
zd_new_master() {
    local pid unit=${ZD_UNIT:-cluster-master.service}
    for _ in $(seq 1 240); do
        pid=$(in_ct systemctl show -p MainPID --value "$unit")
        if [ "$pid" != 0 ] && [ "$pid" != "$1" ] && [ "$(in_ct systemctl is-active "$unit")" = active ]; then
            echo "$pid"
            return 0
        fi
        sleep 0.5
    done
    return 1
}
zd_conf() { # $1 = port, $2 = an extra conf line
    in_ct sh -c 'cat > /etc/cluster-master/cluster-master.conf' <<EOF
name=cluster-master
main=dev.clustermaster.demo.DemoHttpWorker
jvm.args=-Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx64m
ready=notify
size=$SIZE
listen=tcp://127.0.0.1:$1
stop.timeout=20s
${2:-}
EOF
}
