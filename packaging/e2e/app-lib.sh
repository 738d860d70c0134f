# Helpers for checks that drive an app's unit under HTTP load (sourced by checks/26-*, 50-app.sh, 90-* and 95-rpm.sh):
# reload_under_load UNIT URL reloads it during sequential GETs and asserts 0 failed and every worker replaced;
# own_app_create / own_apps_start set up the user's own apps beside the package's service, and assert_upgraded
# (needs load-lib.sh) proves a package upgrade moved one to the new jar in place.
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

# The user's own app as the packaged DemoHttpWorker, 1 worker on 127.0.0.1:$2, either as an instance of the template
# ($1 = cluster-master@NAME.service, conf /etc/cluster-master/NAME.conf) or as a unit named after it ($1 = NAME.service,
# written by "cluster-master service create NAME").
OWN_JVM_ARGS="-Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx64m"
own_app_create() { # $1 unit, $2 port
    local name=${1%.service} out
    case $1 in
        cluster-master@*)
            in_ct sh -c "cat > /etc/cluster-master/${name#cluster-master@}.conf" <<EOF
main=dev.clustermaster.demo.DemoHttpWorker
jvm.args=$OWN_JVM_ARGS
ready=notify
size=1
listen=tcp://127.0.0.1:$2
stop.timeout=20s
EOF
            ;;
        *)
            # shellcheck disable=SC2086 # one --jvm-arg per word
            out=$(in_ct cluster-master service create "$name" --main dev.clustermaster.demo.DemoHttpWorker --size 1 \
                --listen "tcp://127.0.0.1:$2" --ready notify --stop-timeout 20s $(printf -- '--jvm-arg=%s ' $OWN_JVM_ARGS) 2>&1) \
                || bad "cluster-master service create $name: $out"
            ;;
    esac
}
# Enables and starts the units together (they start in parallel) and asserts each is active.
own_apps_start() { # $@ units
    in_ct timeout 180 systemctl enable --now "$@" >/dev/null 2>&1 || true
    local u
    for u in "$@"; do
        [ "$(in_ct systemctl is-active "$u")" = active ] && ok "$u: active ($(in_ct systemctl show -p ExecStart --value "$u" | grep -o 'argv\[\]=[^;]*'))" \
            || bad "$u did not start: $(in_ct systemctl status "$u" --no-pager 2>&1 | tail -n 10)"
    done
}
# The jar(s) a process has open from the package's directory ("... (deleted)" once a package upgrade replaced it).
jar_of() { in_ct sh -c "ls -l /proc/$1/fd 2>/dev/null" | grep -o '/usr/share/cluster-master/cluster-master\.jar.*' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# After a package upgrade: $1 unit, $2 its master before, $3 the package tool's output, $4 who did it (postinst).
# Asserts a new master that the output names, the old one gone (drained), and the new one on the jar now on disk.
assert_upgraded() {
    local unit=$1 old=$2 new j
    if ! new=$(ZD_UNIT=$unit zd_new_master "$old"); then
        bad "$unit: the package upgrade did not replace its master (MainPID still $old, with '$(jar_of "$old")' open)"
        return 0
    fi
    grep -q "$unit: upgraded: master $old -> $new" "$3" && ok "$4 moved $unit to the new package with ctl upgrade (master $old -> $new)" \
        || bad "$4 output lacks '$unit: upgraded: master $old -> $new'"
    await 60 '[ -z "$(in_ct ps -o pid= -p "$old" 2>/dev/null || true)" ]' && ok "$unit: the old master $old drained its workers and exited" \
        || bad "$unit: the old master $old still runs"
    j=$(jar_of "$new")
    [ "$j" = /usr/share/cluster-master/cluster-master.jar ] && ok "$unit: the new master $new runs the jar now on disk" \
        || bad "$unit: the new master $new has '$j' open, not the jar now on disk"
}
