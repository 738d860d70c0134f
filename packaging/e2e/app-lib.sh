# Helpers for checks that drive an app's unit under HTTP load (sourced by checks/50-app.sh and 95-rpm.sh):
# reload_under_load UNIT URL reloads it during sequential GETs and asserts 0 failed and every worker replaced.
# shellcheck shell=bash
# HTTP load from inside the container: sequential GETs until $2 exists; each line the answer or FAILED.
# $1 url, $2 stop file, $3 output file
load_start() { in_ct rm -f "$2" "$3"; in_ct sh -c "while [ ! -e $2 ]; do curl -sS --max-time 20 $1 >>$3 2>&1 || echo FAILED >>$3; done" & LOAD_PID=$!; }
load_stop() { in_ct touch "$1"; wait "$LOAD_PID" 2>/dev/null || true; }
# answered / failed counts of a load output file
count_ok() { local n; n=$(in_ct sh -c "grep -c '^pid [0-9]* worker [0-9]* greeting' $1 2>/dev/null" || true); echo "${n:-0}"; }
count_bad() { local n; n=$(in_ct sh -c "grep -vc '^pid [0-9]* worker [0-9]* greeting' $1 2>/dev/null" || true); echo "${n:-0}"; }
pids_of() { in_ct sh -c "ps -o pid= --ppid \$(systemctl show -p MainPID --value $1) | tr -d ' ' | sort -n"; }
# reload under load: $1 unit, $2 url; prints PASS/FAIL with the figures and records them in $FIGURES
FIGURES=$WORK/figures
reload_under_load() {
    local unit=$1 url=$2 t0 t1 ms ok_n bad_n before after
    before=$(pids_of "$unit")
    load_start "$url" /tmp/load.stop /tmp/load.out
    await 20 '[ "$(count_ok /tmp/load.out)" -gt 5 ]' || true
    t0=$(date +%s%N)
    if in_ct timeout 300 systemctl reload "$unit"; then
        t1=$(date +%s%N); ms=$(((t1 - t0) / 1000000))
        ok "systemctl reload $unit returned success after ${ms} ms"
    else
        t1=$(date +%s%N); ms=$(((t1 - t0) / 1000000))
        bad "systemctl reload $unit failed after ${ms} ms"
    fi
    sleep 0.5
    load_stop /tmp/load.stop
    ok_n=$(count_ok /tmp/load.out); bad_n=$(count_bad /tmp/load.out)
    # reload returns once every slot has a ready new worker; the old ones may still be draining
    await 40 '[ -z "$(comm -12 <(echo "$before") <(pids_of "$unit"))" ]' || true
    after=$(pids_of "$unit")
    if [ "$ok_n" -gt 0 ] && [ "$bad_n" = 0 ] && [ -z "$(comm -12 <(echo "$before") <(echo "$after"))" ]; then
        ok "$unit reload under load: $ok_n requests answered, 0 failed, every worker replaced ($(echo $before) -> $(echo $after))"
    else
        bad "$unit reload under load: $ok_n answered, $bad_n failed: $(in_ct grep -v '^pid' /tmp/load.out | sort | uniq -c | head -n 3); workers $(echo $before) -> $(echo $after)"
    fi
    echo "$unit reload_ms=$ms answered=$ok_n failed=$bad_n" >>"$FIGURES"
}
