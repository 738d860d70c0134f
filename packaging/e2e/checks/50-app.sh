# Issue 8 acceptance: your own apps as services named after them ("cluster-master service create"), (a) an
# unmodified Java HTTP server jar, (b) a Python worker; start, serve, reload under load, edit + reload, journal
# fields, socat and ctl by name, repl.group access, a bad config not restarted, stop leaves nothing.
APPS_SRC=$E2E_DIR/apps
# shellcheck source=packaging/e2e/java-app.sh
. "$E2E_DIR/java-app.sh"
cp "$APPS_SRC/worker.py" "$E2E_FILES/worker.py"
in_ct sh -c 'mkdir -p /opt/hello /opt/pyapp && cp /root/files/hello.jar /opt/hello/ && cp /root/files/worker.py /opt/pyapp/ && chmod -R a+rX /opt/hello /opt/pyapp'

# users: the Java app runs as its own user "app"; "alice" may use its control socket (group appctl), "bob" may not
in_ct sh -c 'adduser --system --group --quiet app && addgroup --system --quiet appctl \
    && adduser --system --quiet --ingroup appctl alice && adduser --system --quiet bob' || die "cannot create users"

# shellcheck source=packaging/e2e/app-lib.sh
. "$E2E_DIR/app-lib.sh"

# --- (a) the unmodified Java jar, as user app --------------------------------------------------------
out=$(in_ct cluster-master service create app --jar /opt/hello/hello.jar --user app --size 2 \
    --listen tcp://127.0.0.1:8081 --ready "$HELLO_READY" --stop-timeout 15s --repl-group appctl \
    --jvm-arg=-XX:TieredStopAtLevel=1 --jvm-arg=-XX:+UseSerialGC --jvm-arg=-Xmx64m 2>&1) \
    && ok "service create app --jar hello.jar --user app: $(echo "$out" | head -n 1)" || bad "service create app: $out"
in_ct stat -c '%U:%G %a' /etc/cluster-master/app.conf | grep -qx 'root:app 640' && ok "app.conf is root:app 0640" \
    || bad "app.conf: $(in_ct stat -c '%U:%G %a' /etc/cluster-master/app.conf)"
mark_journal
if in_ct timeout 180 systemctl enable --now app >/dev/null 2>&1 && [ "$(in_ct systemctl is-active app)" = active ]; then
    ok "systemctl enable --now app: active (all workers ready)"
else
    bad "app did not start: $(in_ct systemctl status app --no-pager 2>&1 | tail -n 15)"
fi
body=$(in_ct curl -sS --max-time 20 http://127.0.0.1:8081/ 2>&1 || true)
[[ $body == "pid "*" worker "*" greeting - restart 0" ]] && ok "the jar serves on the shared socket: '$body'" || bad "GET :8081: '$body'"
# the worker's class path: the app's jar, then the packaged thin worker jar (none of the master's libraries)
wcp=$(in_ct sh -c 'ps -ww -o args= --ppid "$(systemctl show -p MainPID --value app)"' | grep -o -- ' -cp [^ ]* dev.clustermaster.worker.WorkerMain' | head -n 1)
[ "$wcp" = " -cp /opt/hello/hello.jar:/usr/share/cluster-master/cluster-master-worker.jar dev.clustermaster.worker.WorkerMain" ] \
    && ok "the worker's class path is the app's jar and the worker jar:$wcp" || bad "the worker's class path: '$wcp'"
status=$(in_ct systemctl status app --no-pager 2>&1 || true)
grep -q 'Status: "' <<<"$status" && ok "systemctl status app shows the master's STATUS=: $(grep 'Status:' <<<"$status" | sed 's/^ *//')" \
    || bad "no Status: line in systemctl status app"
[ "$(in_ct ps -o user= -p "$(in_ct systemctl show -p MainPID --value app)" | tr -d ' ')" = app ] && ok "app's master runs as user app" \
    || bad "app's master user: $(in_ct ps -o user= -p "$(in_ct systemctl show -p MainPID --value app)")"
in_ct test -S /run/app/cluster-master.sock && ok "control socket /run/app/cluster-master.sock" || bad "no /run/app/cluster-master.sock"
reply=$(echo status | in_ct timeout 10 socat -t 5 - UNIX-CONNECT:/run/app/cluster-master.sock 2>&1 || true)
grep -q 'ready' <<<"$reply" && ok "socat - UNIX-CONNECT:/run/app/cluster-master.sock answers 'status'" || bad "socat status: $reply"
out=$(in_ct cluster-master ctl app status 2>&1) && ok "cluster-master ctl app status (exit 0)" || bad "ctl app status: $out"
out=$(in_ct setpriv --reuid=alice --regid=appctl --init-groups cluster-master ctl app size 2>&1) \
    && ok "alice (group appctl = repl.group) may: ctl app size -> $out" || bad "alice refused: $out"
rc=0; out=$(in_ct setpriv --reuid=bob --regid=nogroup --init-groups cluster-master ctl app size 2>&1) || rc=$?
[ "$rc" = 4 ] && [ "$(echo "$out" | wc -l)" = 1 ] && ok "bob (not in appctl) refused, exit 4, one line: $out" || bad "bob: exit $rc: $out"

reload_under_load app http://127.0.0.1:8081/

# edit the config: size 2 -> 3 and an env var, then reload
in_ct sh -c 'sed -i "s/^size=2$/size=3/" /etc/cluster-master/app.conf && echo env.GREETING=hello >> /etc/cluster-master/app.conf'
reload_under_load app http://127.0.0.1:8081/
await 30 '[ "$(pids_of app | grep -c .)" = 3 ]' && ok "size 2 -> 3 applied by reload: $(echo $(pids_of app))" || bad "workers after reload: $(echo $(pids_of app))"
greet=$(for i in 1 2 3 4 5 6; do in_ct curl -sS --max-time 10 http://127.0.0.1:8081/; done | awk '{print $6}' | sort -u | tr '\n' ' ')
[ "$greet" = "hello " ] && ok "env.GREETING=hello reached every new worker" || bad "greetings after reload: '$greet'"

# AppCDS (java.cds=auto, the unit's CacheDirectory=app): the first reload's stop of worker 1 wrote the archive,
# and the workers the second reload started map it
jsa=$(in_ct sh -c 'ls /var/cache/app/cds/*.jsa 2>/dev/null' | head -n 1 || true)
perm=$(in_ct stat -c '%U %a' /var/cache/app /var/cache/app/cds 2>&1 | tr '\n' ' ' || true)
mapping=0
for p in $(pids_of app); do if [ -n "$jsa" ] && in_ct grep -q " $jsa\$" /proc/"$p"/maps 2>/dev/null; then mapping=$((mapping + 1)); fi; done
if [ -n "$jsa" ] && [ "$perm" = "app 700 app 700 " ] && [ "$mapping" = 3 ]; then
    ok "AppCDS: $jsa (directories: $perm) mapped by all 3 workers after the reloads"
else
    bad "AppCDS: archive '$jsa', directories '$perm', mapped by $mapping of 3 workers: $(journal_since -u app | grep AppCDS | tail -n 3 || true)"
fi

# a bad edit: the reload fails with the reason, the workers keep serving
before=$(pids_of app)
in_ct sh -c 'echo surge=lots >> /etc/cluster-master/app.conf'
mark_journal
if in_ct timeout 60 systemctl reload app >/dev/null 2>&1; then bad "reload with surge=lots succeeded"; else ok "reload with surge=lots fails"; fi
line=$(journal_since -u app | grep 'reload failed' | head -n 1)
[[ $line == *surge* ]] && ok "the journal says why, in one line: $line" || bad "no reason in the journal: $(journal_since -u app | tail -n 5)"
[ "$(pids_of app)" = "$before" ] && [ "$(in_ct systemctl is-active app)" = active ] && in_ct curl -sf --max-time 10 http://127.0.0.1:8081/ >/dev/null \
    && ok "after the failed reload the same workers serve" || bad "after the failed reload: $(echo $(pids_of app)) vs $(echo $before)"
in_ct sed -i '/^surge=lots$/d' /etc/cluster-master/app.conf

# journal: worker lines carry CM_CHILD_ID (ready=log captures the output)
w=$(in_ct journalctl -u app CM_CHILD_ID=2 -o cat --no-pager | grep 'PlainHttpApp started' | head -n 1)
[ -n "$w" ] && ok "journalctl -u app CM_CHILD_ID=2 shows worker 2's lines: $w" || bad "no CM_CHILD_ID=2 lines for app"

# --- (b) the Python worker -------------------------------------------------------------------------
out=$(in_ct cluster-master service create pyapp --exec python3 --size 2 --listen tcp://127.0.0.1:8082 --ready notify --silent \
    --stop-timeout 10s -- /opt/pyapp/worker.py 2>&1) && ok "service create pyapp --exec python3 -- worker.py" || bad "service create pyapp: $out"
if in_ct timeout 120 systemctl start pyapp && [ "$(in_ct systemctl is-active pyapp)" = active ]; then
    ok "systemctl start pyapp: active"
else
    bad "pyapp did not start: $(in_ct journalctl -u pyapp --no-pager -n 20)"
fi
body=$(in_ct curl -sS --max-time 20 http://127.0.0.1:8082/ 2>&1 || true)
[[ $body == "pid "*" worker "*" greeting -" ]] && ok "the Python worker serves: '$body'" || bad "GET :8082: '$body'"
reload_under_load pyapp http://127.0.0.1:8082/
w=$(in_ct journalctl -u pyapp CM_CHILD_ID=1 -o cat --no-pager | grep 'python worker 1 serving' | head -n 1)
[ -n "$w" ] && ok "journalctl -u pyapp CM_CHILD_ID=1: $w" || bad "no CM_CHILD_ID=1 lines for pyapp"
out=$(in_ct cluster-master ctl --name pyapp workers 2>&1) && ok "ctl --name pyapp workers" || bad "ctl --name pyapp: $out"
in_ct adduser --system --quiet --ingroup cluster-master carol
out=$(in_ct setpriv --reuid=carol --regid=cluster-master --init-groups cluster-master ctl pyapp size 2>&1) \
    && ok "carol (in the service's own group, no repl.group) may: ctl pyapp size -> $out" || bad "carol refused: $out"

# --- bad input under systemd: exit 2, not restarted, no usage text ------------------------------------
in_ct cluster-master service create typo --exec /bin/sleep --size 1 -- 1000 >/dev/null 2>&1 || bad "service create typo"
in_ct sh -c 'echo sise=3 >> /etc/cluster-master/typo.conf'
mark_journal
in_ct timeout 60 systemctl start typo >/dev/null 2>&1 && bad "typo started" || true
sleep 5
n=$(in_ct systemctl show -p NRestarts --value typo)
code=$(in_ct systemctl show -p ExecMainStatus --value typo)
lines=$(journal_since -u typo | grep -vc -e '^Starting ' -e '^Failed to start' -e 'Main process exited' -e "Failed with result" || true)
[ "$code" = 2 ] && [ "$n" = 0 ] && ok "config typo: exit 2, not restarted (NRestarts=0)" || bad "typo: exit $code, NRestarts=$n"
journal_since -u typo | grep -q 'Usage:' && bad "usage text in the journal of typo" \
    || ok "no usage text in the journal; the service said: $(journal_since -u typo | grep -i sise | head -n 1)"

# --- stop leaves nothing ---------------------------------------------------------------------------
in_ct timeout 90 systemctl stop app pyapp || bad "systemctl stop app pyapp failed"
left=$(in_ct pgrep -u app -a || true; in_ct pgrep -af 'worker.py|hello.jar' || true)
[ -z "$left" ] && ok "stop: no process of app or pyapp left" || bad "left behind: $left"
[ "$(in_ct systemctl show -p Result --value app)" = success ] && ok "app Result=success" || bad "app Result=$(in_ct systemctl show -p Result --value app)"
in_ct cluster-master service remove typo --purge >/dev/null && ! in_ct test -e /etc/systemd/system/typo.service \
    && ok "service remove typo --purge" || bad "service remove typo"

log "figures:"; quote <"$FIGURES"
if [ -n "${CM_E2E_FIGURES:-}" ]; then cp "$FIGURES" "$CM_E2E_FIGURES"; fi
