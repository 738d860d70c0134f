#!/usr/bin/env bash
# Runs a demo cluster: N HTTP workers sharing one listening socket, and opens the master's REPL.
# Leave the REPL with .exit or Ctrl-D: the master then quits gracefully.
#   SIZE=4 PORT=8080 ./demo.sh
set -euo pipefail
cd "$(dirname "$0")"
size=${SIZE:-4}
port=${PORT:-8080}
jar=target/cluster-master-0.1.0-all.jar
run=${TMPDIR:-/tmp}/cluster-master-demo-$(id -u)

command -v java >/dev/null && command -v mvn >/dev/null || { echo "needs java 17 and maven: apt-get install openjdk-17-jdk-headless maven" >&2; exit 1; }
if ! command -v socat >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing socat for the REPL ..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq socat) >/dev/null || true
fi
if [ ! -f "$jar" ] || [ -n "$(find src pom.xml -newer "$jar" -print -quit)" ]; then
  echo "building $jar ..."
  mvn -B -q package -DskipTests
fi

mkdir -p "$run" && chmod 700 "$run"   # the master refuses a runtime dir others could enter
# as the packaged launcher: HotSpot's thread suspend signal off SIGUSR2, so a stray kill -USR2 is harmless
_JAVA_SR_SIGNUM=39 java -jar "$jar" run --name demo --main dev.clustermaster.demo.DemoHttpWorker --ready notify --size "$size" \
  --listen "tcp://127.0.0.1:$port" --runtime-dir "$run" --http-port "$((port + 1))" >"$run/master.log" 2>&1 &
master=$!
trap 'kill -TERM $master 2>/dev/null || true; wait $master 2>/dev/null || true; echo "master stopped; log: $run/master.log"' EXIT

for _ in $(seq 1 100); do
  grep -q "workers ready" "$run/master.log" 2>/dev/null && break
  kill -0 "$master" 2>/dev/null || { cat "$run/master.log"; exit 1; }
  sleep 0.2
done
cat <<MSG
cluster-master pid $master: $size HTTP workers on http://127.0.0.1:$port/ (status: http://127.0.0.1:$((port + 1))/)
  try from another terminal:  curl -s http://127.0.0.1:$port/ ; kill -HUP $master ; kill -TTIN $master
  log: $run/master.log
REPL (help lists the commands; .exit leaves and stops the demo):
MSG
sock="$run/cluster-master.sock"
if command -v socat >/dev/null; then
  # Debian's socat has no READLINE; rlwrap (if installed) gives line editing and history
  if command -v rlwrap >/dev/null && [ -t 0 ]; then
    rlwrap -H "$run/.history" socat - UNIX-CONNECT:"$sock"
  else
    socat - UNIX-CONNECT:"$sock"
  fi
else
  # no socat: one 'cluster-master ctl' call per line (slower, same commands)
  while IFS= read -r -e -p "cm> " line; do
    [ "$line" = ".exit" ] && break
    [ -n "$line" ] && java -jar "$jar" ctl --socket "$sock" $line
  done
fi
