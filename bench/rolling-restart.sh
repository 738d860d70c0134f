#!/usr/bin/env bash
# Benchmark (not a test): cluster-master's rolling restart, crash healing, footprint, cold start and throughput,
# with PM2, cluster-master (npm) and gunicorn side by side where they are installed. Writes docs/benchmarks.md.
#
#   bench/rolling-restart.sh                      # after: mvn -B package -DskipTests
#
# Environment: JAR (default target/cluster-master-0.1.0-all.jar), LOAD_SECONDS (15), OUT (/tmp/cm-bench, raw
# outputs), DOC (docs/benchmarks.md), NPM_DIR (where pm2 and cluster-master are npm-installed; default $OUT/npm),
# INSTALL=0 to install nothing (missing comparators are then skipped). Needs wrk, curl, python3, java 17.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JAR=$(realpath "${JAR:-target/cluster-master-0.1.0-all.jar}")
LOAD=${LOAD_SECONDS:-15}
OUT=${OUT:-/tmp/cm-bench}
DOC=${DOC:-docs/benchmarks.md}
NPM_DIR=${NPM_DIR:-$OUT/npm}
INSTALL=${INSTALL:-1}
SIZE=4
DELAY=1000
PORT_CM=18180 PORT_PM2=18190 PORT_NCM=18200 PORT_GUN=18210
WRK_RELOAD=(wrk -t2 -c16 -d"${LOAD}s" --latency --timeout 5s)
WRK_STEADY=(wrk -t2 -c32 -d10s --latency --timeout 5s)
export CM_LOG_JOURNAL=off

rm -rf "$OUT/run-"* "$OUT"/*.txt "$OUT"/*.log
mkdir -p "$OUT"
STARTED=()   # pids this script started, stopped on exit
cleanup() {
    for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    [ -x "$NPM_DIR/node_modules/.bin/pm2" ] && PM2_HOME=$OUT/pm2 "$NPM_DIR/node_modules/.bin/pm2" kill >/dev/null 2>&1 || true
}
trap cleanup EXIT

log() { echo "[bench $(date +%T)] $*" >&2; }
now_ms() { date +%s%3N; }
children() { ps -o pid= --ppid "$1" | tr -d ' ' | sort -n | paste -sd, -; }
count_children() { ps -o pid= --ppid "$1" | wc -l; }

wait_http() {
    local deadline=$(( $(now_ms) + 60000 ))
    until curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; do
        [ "$(now_ms)" -lt "$deadline" ] || { log "port $1 never answered"; return 1; }
        sleep 0.05
    done
}
wait_log() {   # file text
    local deadline=$(( $(now_ms) + 60000 ))
    until grep -q -- "$2" "$1"; do
        [ "$(now_ms)" -lt "$deadline" ] || { log "no '$2' in $1"; return 1; }
        sleep 0.02
    done
}
# Waits until master $1 has $SIZE children and none of the comma list $2; prints the ms it took from $3.
wait_replaced() {
    local deadline=$(( $3 + 60000 )) kids
    while :; do
        kids=$(children "$1")
        if [ "$(echo "$kids" | tr ',' '\n' | grep -c .)" -eq "$SIZE" ] \
            && ! echo ",$kids," | grep -qE ",($(echo "$2" | tr ',' '|')),"; then
            echo $(( $(now_ms) - $3 )); return 0
        fi
        [ "$(now_ms)" -lt "$deadline" ] || { echo "unfinished"; return 0; }
        sleep 0.05
    done
}
wait_count() {   # master n
    local deadline=$(( $(now_ms) + 60000 ))
    until [ "$(count_children "$1")" -eq "$2" ]; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# ---- what is installed --------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null && [ "$INSTALL" = 1 ]; then apt-get install -y wrk >/dev/null; fi
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }
[ -f "$JAR" ] || { echo "no $JAR: mvn -B package -DskipTests first" >&2; exit 2; }
if ! command -v gunicorn >/dev/null && [ "$INSTALL" = 1 ]; then apt-get install -y gunicorn >/dev/null 2>&1 || true; fi
if [ ! -x "$NPM_DIR/node_modules/.bin/pm2" ] && [ "$INSTALL" = 1 ] && command -v npm >/dev/null; then
    mkdir -p "$NPM_DIR" && (cd "$NPM_DIR" && npm install --no-audit --no-fund pm2 cluster-master >/dev/null 2>&1) || true
fi
HAVE_PM2=0; [ -x "$NPM_DIR/node_modules/.bin/pm2" ] && command -v node >/dev/null && HAVE_PM2=1
HAVE_NCM=0; [ -f "$NPM_DIR/node_modules/cluster-master/cluster-master.js" ] && command -v node >/dev/null \
    && command -v socat >/dev/null && HAVE_NCM=1
HAVE_GUN=0; command -v gunicorn >/dev/null && HAVE_GUN=1
PM2=("$NPM_DIR/node_modules/.bin/pm2")
export PM2_HOME=$OUT/pm2

# ---- the four systems: start (sets MPID, the master's pid) and stop --------------------------------------------
start_cm() {   # size delay tag
    java -jar "$JAR" run --main dev.clustermaster.demo.DemoHttpWorker --ready notify --size "$1" \
        --listen "tcp://127.0.0.1:$PORT_CM" --runtime-dir "$OUT/run-$3" --repl false \
        --env "DEMO_STARTUP_DELAY_MS=$2" >"$OUT/cm-$3.log" 2>&1 &
    MPID=$!; STARTED+=("$MPID")
    wait_log "$OUT/cm-$3.log" "all $1 workers ready"
}
start_pm2() {   # delay
    PORT=$PORT_PM2 STARTUP_DELAY_MS=$1 "${PM2[@]}" start "$ROOT/bench/apps/app.js" -i "$SIZE" --name zd \
        >"$OUT/pm2-start.log" 2>&1
    MPID=$(cat "$PM2_HOME/pm2.pid")
    wait_count "$MPID" "$SIZE"; wait_http "$PORT_PM2"
}
stop_pm2() { "${PM2[@]}" kill >/dev/null 2>&1 || true; }
start_ncm() {   # delay
    rm -f "$OUT/ncm-repl.sock"
    PORT=$PORT_NCM STARTUP_DELAY_MS=$1 NCM_REPL=$OUT/ncm-repl.sock NCM_MODULE=$NPM_DIR/node_modules/cluster-master SIZE=$SIZE \
        node "$ROOT/bench/apps/ncm-master.js" >"$OUT/ncm.log" 2>&1 &
    MPID=$!; STARTED+=("$MPID")
    wait_count "$MPID" "$SIZE"; wait_http "$PORT_NCM"
}
start_gun() {   # delay
    STARTUP_DELAY_MS=$1 gunicorn -w "$SIZE" -b "127.0.0.1:$PORT_GUN" --chdir "$ROOT/bench/apps" wsgi_app:app \
        >"$OUT/gunicorn.log" 2>&1 &
    MPID=$!; STARTED+=("$MPID")
    wait_count "$MPID" "$SIZE"; wait_http "$PORT_GUN"
}
ncm_restart() { echo 'restart()' | socat -t 60 - "UNIX-CONNECT:$OUT/ncm-repl.sock"; }
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# ---- 1. rolling restart under wrk ---------------------------------------------------------------------------
# reload_run tag port master-pid command...: wrk for LOAD s, the reload 2 s in; prints "<reload ms> <wrkstat>"
reload_run() {
    local tag=$1 port=$2 master=$3; shift 3
    "${WRK_RELOAD[@]}" "http://127.0.0.1:$port/" >"$OUT/wrk-reload-$tag.txt" 2>&1 &
    local w=$! old t0 took serving p
    sleep 2
    old=$(children "$master")
    # started with the reload: when did all SIZE new workers answer (a new pid is not yet a serving worker)
    python3 bench/probe.py serving "$port" "$old" "$SIZE" >"$OUT/serving-$tag.txt" 2>&1 &
    p=$!; t0=$(now_ms)
    "$@" >>"$OUT/reload-$tag.log" 2>&1 || true
    took=$(wait_replaced "$master" "$old" "$t0")
    wait "$w"
    wait "$p" || true
    serving=$(cut -d' ' -f1 "$OUT/serving-$tag.txt")
    echo "$took $(python3 bench/wrkstat.py "$OUT/wrk-reload-$tag.txt") ${serving:-?}"
}
declare -A R
log "rolling restart, cluster-master, DEMO_STARTUP_DELAY_MS=$DELAY"
start_cm "$SIZE" "$DELAY" reload
R[cm]=$(reload_run cm "$PORT_CM" "$MPID" kill -HUP "$MPID")
stop_pid "$MPID"
if [ "$HAVE_PM2" = 1 ]; then
    log "rolling restart, pm2 reload"
    start_pm2 "$DELAY"
    R[pm2]=$(reload_run pm2 "$PORT_PM2" "$MPID" "${PM2[@]}" reload zd)
    stop_pm2
fi
if [ "$HAVE_NCM" = 1 ]; then
    log "rolling restart, cluster-master (npm), REPL restart()"
    start_ncm "$DELAY"
    R[ncm]=$(reload_run ncm "$PORT_NCM" "$MPID" ncm_restart)
    if kill -0 "$MPID" 2>/dev/null; then NCM_REPL="it was alive after the REPL restart"
    else NCM_REPL="the master exited during the REPL restart"; fi
    stop_pid "$MPID"
    # its documented SIGHUP restart, without load: is the master still there 10 s later?
    start_ncm 0
    kill -HUP "$MPID"; sleep 10
    if kill -0 "$MPID" 2>/dev/null; then NCM_HUP="it was alive 10 s after SIGHUP"; else NCM_HUP="the master exited after SIGHUP"; fi
    stop_pid "$MPID"
fi
if [ "$HAVE_GUN" = 1 ]; then
    log "rolling restart, gunicorn SIGHUP"
    start_gun "$DELAY"
    R[gun]=$(reload_run gun "$PORT_GUN" "$MPID" kill -HUP "$MPID")
    stop_pid "$MPID"
fi

# ---- 2. crash to serving, 3. idle footprint: all four up at once, no startup delay ---------------------------
# crash_runs port master: kill -9 the oldest worker 3 times (a different one each time, so no crash backoff)
crash_runs() {
    local port=$1 master=$2 out="" kids victim r
    for _ in 1 2 3; do
        wait_count "$master" "$SIZE"
        kids=$(children "$master"); victim=${kids%%,*}
        r=$(python3 bench/probe.py kill "$port" "$victim" "$kids")
        out="$out ${r%% *}"
    done
    echo "$out"
}
declare -A C M
log "crash to serving"
start_cm "$SIZE" 0 idle; M[cm]=$MPID; C[cm]=$(crash_runs "$PORT_CM" "$MPID")
if [ "$HAVE_PM2" = 1 ]; then start_pm2 0; M[pm2]=$MPID; C[pm2]=$(crash_runs "$PORT_PM2" "$MPID"); fi
if [ "$HAVE_NCM" = 1 ]; then start_ncm 0; M[ncm]=$MPID; C[ncm]=$(crash_runs "$PORT_NCM" "$MPID"); fi
if [ "$HAVE_GUN" = 1 ]; then start_gun 0; M[gun]=$MPID; C[gun]=$(crash_runs "$PORT_GUN" "$MPID"); fi

log "idle master CPU over 30 s"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A T0 IDLE RSS
for k in "${!M[@]}"; do wait_count "${M[$k]}" "$SIZE"; T0[$k]=$(ticks "${M[$k]}"); done
sleep 30
HZ=$(getconf CLK_TCK)
for k in "${!M[@]}"; do
    IDLE[$k]=$(awk -v a="${T0[$k]}" -v b="$(ticks "${M[$k]}")" -v hz="$HZ" 'BEGIN {printf "%.2f", (b - a) / hz / 30 * 100}')
    RSS[$k]=$(awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/${M[$k]}/status")
done
stop_pid "${M[cm]}"; [ "$HAVE_PM2" = 1 ] && stop_pm2
[ "$HAVE_NCM" = 1 ] && stop_pid "${M[ncm]}"; [ "$HAVE_GUN" = 1 ] && stop_pid "${M[gun]}"

# ---- 4. cold start to READY ------------------------------------------------------------------------------------
log "cold start"
COLD=""
for i in 1 2 3; do
    t0=$(now_ms)
    start_cm "$SIZE" 0 "cold$i"
    ready=$(grep -m1 "all $SIZE workers ready" "$OUT/cm-cold$i.log" | cut -d' ' -f1)
    COLD="$COLD $(( $(date -d "$ready" +%s%3N) - t0 ))"
    stop_pid "$MPID"
done

# ---- 5. steady throughput ------------------------------------------------------------------------------------
log "throughput"
steady() { "${WRK_STEADY[@]}" "http://127.0.0.1:$1/" >"$OUT/wrk-steady-$2.txt" 2>&1; python3 bench/wrkstat.py "$OUT/wrk-steady-$2.txt"; }
declare -A S
start_cm 1 0 tp1; S[cm1]=$(steady "$PORT_CM" cm1); stop_pid "$MPID"
start_cm "$SIZE" 0 tp4; S[cm]=$(steady "$PORT_CM" cm4); stop_pid "$MPID"
if [ "$HAVE_PM2" = 1 ]; then start_pm2 0; S[pm2]=$(steady "$PORT_PM2" pm2); stop_pm2; fi
if [ "$HAVE_NCM" = 1 ]; then start_ncm 0; S[ncm]=$(steady "$PORT_NCM" ncm); stop_pid "$MPID"; fi
if [ "$HAVE_GUN" = 1 ]; then start_gun 0; S[gun]=$(steady "$PORT_GUN" gun); stop_pid "$MPID"; fi

# ---- report ----------------------------------------------------------------------------------------------------
field() { echo "$1" | awk -v n="$2" '{print $n}'; }
median() { echo "$@" | tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "n/a"}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a+0 == 0 || b !~ /^[0-9.]+$/) print "n/a"; else printf "%.2f", b / a}'; }
NAME_cm="cluster-master (this, Java)"; NAME_pm2="PM2 $( [ "$HAVE_PM2" = 1 ] && "${PM2[@]}" -v 2>/dev/null | tail -1)"
NAME_ncm="cluster-master (npm) $( [ "$HAVE_NCM" = 1 ] && node -p "require('$NPM_DIR/node_modules/cluster-master/package.json').version")"
NAME_gun="gunicorn $( [ "$HAVE_GUN" = 1 ] && gunicorn --version 2>&1 | awk '{print $NF}' | tr -d ')')"
name() { local v="NAME_$1"; echo "${!v}"; }
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')

{
cat <<EOF
# Benchmarks

Generated by \`bench/rolling-restart.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). Every figure below was measured in
that one run; rerun the script to reproduce (it rewrites this file; raw wrk outputs and logs go to \`$OUT\`).

**Machine:** $(nproc) CPUs ($CPU_MODEL), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM,
Linux $(uname -r), shared with other jobs while it ran, so expect noise of tens of percent between runs. The load
generator (wrk, 2 threads) runs on the same 2 cores as the servers: throughput figures measure the whole box, not
the server alone. $(java -version 2>&1 | head -1), node $(node --version 2>/dev/null || echo "n/a"), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2).

Workers: the demo worker (\`dev.clustermaster.demo.DemoHttpWorker\`, one JVM each) for cluster-master;
\`bench/apps/app.js\` (node http) under PM2 (cluster mode) and cluster-master (npm); \`bench/apps/wsgi_app.py\` under
gunicorn (sync workers, which close the connection after each answer). All answer \`GET /\` with a line naming
their pid. $SIZE workers unless said otherwise.

## Rolling restart under load

\`${WRK_RELOAD[*]} http://127.0.0.1:PORT/\`, the reload sent 2 s into the run. Every worker starts
slowly: \`DEMO_STARTUP_DELAY_MS=$DELAY\` for the demo, \`STARTUP_DELAY_MS=$DELAY\` before \`listen()\` in the node app and
before the import of the WSGI app finishes. Failed = non-2xx answers + wrk socket errors (connect, read, write,
timeout). Two durations from the reload command: "old pids gone" until the master's children are $SIZE pids none
of which was a worker before (polled from /proc every 50 ms), and "new ones answering" until $SIZE distinct new
pids have answered \`GET /\` (\`bench/probe.py serving\`, a new connection about every millisecond beside wrk). A
master that forks before the app is ready (gunicorn) replaces pids long before the new workers serve.

| system | reload command | failed | requests | req/s | p99 latency | max latency | old pids gone (ms) | new ones answering (ms) |
|---|---|---|---|---|---|---|---|---|
EOF
for k in cm pm2 ncm gun; do
    r=${R[$k]:-}; [ -n "$r" ] || continue
    case $k in cm) cmd="kill -HUP <master>";; pm2) cmd="pm2 reload zd";; ncm) cmd="restart() on its REPL";; gun) cmd="kill -HUP <arbiter>";; esac
    echo "| $(name $k) | \`$cmd\` | $(field "$r" 6) | $(field "$r" 2) | $(field "$r" 3) | $(field "$r" 7) | $(field "$r" 8) | $(field "$r" 1) | $(field "$r" 9) |"
done
echo
echo "Ratios against cluster-master (other / cluster-master; n/a where cluster-master's figure is 0):"
echo
for k in pm2 ncm gun; do
    r=${R[$k]:-}; [ -n "$r" ] || continue
    echo "- $(name $k): failed requests $(field "$r" 6) vs $(field "${R[cm]}" 6) (ratio $(ratio "$(field "${R[cm]}" 6)" "$(field "$r" 6)")),"\
         "req/s during the reload ×$(ratio "$(field "${R[cm]}" 3)" "$(field "$r" 3)"),"\
         "time to all new workers answering ×$(ratio "$(field "${R[cm]}" 9)" "$(field "$r" 9)")"
done
if [ -n "${NCM_HUP:-}" ]; then
    echo
    echo "cluster-master (npm) under load was restarted through its REPL (\`restart()\`); in this run $NCM_REPL."
    echo "Its SIGHUP restart, tried separately without load: $NCM_HUP. Its log: \`$OUT/ncm.log\`"
    echo "(\"Forceful shutdown\" is its master quitting hard). Its failed requests are wrk socket errors"
    echo "(almost all write errors) after its master had quit."
fi
cat <<EOF

## Crash to serving

All $SIZE workers up, no startup delay, no load. \`python3 bench/probe.py kill PORT VICTIM PIDS\` sends SIGKILL to the
oldest worker, then opens a new connection to \`GET /\` about every millisecond until a pid that was not a worker
before answers; the figure is the time from the kill to that answer. Three kills, each of a different worker (so
cluster-master's crash backoff, which starts at the second crash of one slot, never applies).

| system | kill -9 → new worker answering (ms), 3 runs | median |
|---|---|---|
EOF
for k in cm pm2 ncm gun; do
    c=${C[$k]:-}; [ -n "$c" ] || continue
    echo "| $(name $k) |$(echo "$c" | sed 's/ /, /g; s/^,//') | $(median $c) |"
done
cat <<EOF

For cluster-master most of this is the new worker's JVM start (see the cold start below); the master notices the
death through SIGCHLD and spawns the replacement within milliseconds (its log shows both).

## Master footprint while idle

The same clusters, idle: the master process's VmRSS from \`/proc/PID/status\`, and its CPU (utime + stime from
\`/proc/PID/stat\`) over 30 s with no requests. For PM2 the master is its God daemon, for gunicorn the arbiter.

| system | master RSS (MiB) | master idle CPU over 30 s (% of one core) |
|---|---|---|
EOF
for k in cm pm2 ncm gun; do
    [ -n "${RSS[$k]:-}" ] || continue
    echo "| $(name $k) | ${RSS[$k]} | ${IDLE[$k]} |"
done
cat <<EOF

cluster-master's master is a JVM (default heap settings of the launcher); the workers' memory is not counted.

## Cold start to READY

From launching \`java -jar $(basename "$JAR") run --main dev.clustermaster.demo.DemoHttpWorker --size $SIZE --listen tcp://127.0.0.1:$PORT_CM\`
to the master's log line "all $SIZE workers ready" (its timestamp), no startup delay, three runs:
$(echo "$COLD" | sed 's/^ //; s/ / ms, /g') ms (median $(median $COLD) ms). That is the master's JVM start plus $SIZE worker JVMs
starting at once on $(nproc) cores.

## Throughput

\`${WRK_STEADY[*]} http://127.0.0.1:PORT/\`, no restart. The machine has $(nproc) cores and wrk shares them with the
workers, so 4 workers cannot be 4 times 1 worker; this shows that sharing one listening socket costs nothing, not
how it scales on a larger box.

| system | workers | req/s | p99 latency | failed |
|---|---|---|---|---|
| $(name cm) | 1 | $(field "${S[cm1]}" 2) | $(field "${S[cm1]}" 6) | $(field "${S[cm1]}" 5) |
| $(name cm) | $SIZE | $(field "${S[cm]}" 2) | $(field "${S[cm]}" 6) | $(field "${S[cm]}" 5) |
EOF
for k in pm2 ncm gun; do
    s=${S[$k]:-}; [ -n "$s" ] || continue
    echo "| $(name $k) | $SIZE | $(field "$s" 2) | $(field "$s" 6) | $(field "$s" 5) |"
done
echo
echo "4 workers vs 1 for cluster-master: ×$(ratio "$(field "${S[cm1]}" 2)" "$(field "${S[cm]}" 2)") req/s."
for k in pm2 ncm gun; do
    s=${S[$k]:-}; [ -n "$s" ] || continue
    echo "$(name $k) vs cluster-master at $SIZE workers: ×$(ratio "$(field "${S[cm]}" 2)" "$(field "$s" 2)") req/s."
done
missing=""
[ "$HAVE_PM2" = 1 ] || missing="$missing PM2"; [ "$HAVE_NCM" = 1 ] || missing="$missing cluster-master(npm)"
[ "$HAVE_GUN" = 1 ] || missing="$missing gunicorn"
[ -z "$missing" ] || printf '\nNot installed in this run, so not compared:%s.\n' "$missing"
} >"$DOC.tmp"
# keep the section bench/footprint.py maintains
if grep -q 'footprint:begin' "$DOC" 2>/dev/null; then
    { echo; sed -n '/<!-- footprint:begin -->/,/<!-- footprint:end -->/p' "$DOC"; } >>"$DOC.tmp"
fi
mv "$DOC.tmp" "$DOC"
log "wrote $DOC"
