# Issue 13: a Java app's unit with DynamicUser=yes keeps its AppCDS archive. systemd then makes the cache
# directory /var/cache/private/APP (private/ is root 0700) and links /var/cache/APP to it; the master must resolve
# the link, accept the real path as safe, and its workers must map the archive. Also: it serves, reloads under
# load without a failed request, and root's ctl and socat still reach its control socket. Removes the unit at the end.
DU=dynapp
ZD_PORT=8083
ZD_SECONDS=60   # each load client stops after this at the latest
# shellcheck source=packaging/e2e/load-lib.sh
. "$E2E_DIR/load-lib.sh"
# shellcheck source=packaging/e2e/java-app.sh
. "$E2E_DIR/java-app.sh"
in_ct sh -c "mkdir -p /opt/$DU && cp /root/files/hello.jar /opt/$DU/ && chmod -R a+rX /opt/$DU"
# 'service create' wants an existing user for User=; the drop-in replaces it with a dynamic one named after the
# unit, in the conf's group (root:cluster-master 0640) so that it can read its settings
out=$(in_ct cluster-master service create $DU --jar /opt/$DU/hello.jar --size 2 --listen tcp://127.0.0.1:$ZD_PORT \
    --ready "$HELLO_READY" --probation 1s --stop-timeout 15s \
    --jvm-arg=-XX:TieredStopAtLevel=1 --jvm-arg=-XX:+UseSerialGC --jvm-arg=-Xmx64m 2>&1) || bad "service create $DU: $out"
in_ct sh -c "mkdir -p /etc/systemd/system/$DU.service.d && printf '%s\n' '[Service]' DynamicUser=yes User= Group= \
    SupplementaryGroups=cluster-master >/etc/systemd/system/$DU.service.d/dynamic-user.conf && systemctl daemon-reload"
mark_journal
if in_ct timeout 120 systemctl start $DU && [ "$(in_ct systemctl is-active $DU)" = active ]; then
    ok "$DU with DynamicUser=yes: active (all workers ready)"
else
    bad "$DU with DynamicUser=yes did not start: $(journal_since -u $DU | tail -n 15)"
fi
du_main=$(in_ct systemctl show -p MainPID --value $DU)
du_uid=$(in_ct ps -o uid= -p "$du_main" | tr -d ' ')
link=$(in_ct readlink /var/cache/$DU || true)
private=$(in_ct stat -c '%U %a' /var/cache/private 2>&1 || true)
# systemd's dynamic users get uids 61184-65519
if [ "${du_uid:-0}" -ge 61184 ] && [ "$du_uid" -le 65519 ] && [ "$link" = private/$DU ] && [ "$private" = "root 700" ]; then
    ok "the master runs as dynamic uid $du_uid; /var/cache/$DU -> $link, /var/cache/private is $private"
else
    bad "dynamic user: master uid '$du_uid', /var/cache/$DU -> '$link', /var/cache/private '$private'"
fi
body=$(in_ct curl -sS --max-time 20 http://127.0.0.1:$ZD_PORT/ 2>&1 || true)
[[ $body == "pid "*" worker "*" greeting - restart "* ]] && ok "$DU serves on the shared socket: '$body'" || bad "GET :$ZD_PORT: '$body'"

# AppCDS: the first reload's stop of the worker started with -XX:ArchiveClassesAtExit writes the archive, the
# workers the second reload starts map it (the second one under load)
du_pids() { in_ct sh -c "ps -o pid= --ppid \$(systemctl show -p MainPID --value $DU) | tr -d ' ' | sort -n"; }
in_ct timeout 120 systemctl reload $DU || bad "first systemctl reload $DU failed: $(journal_since -u $DU | tail -n 5)"
await 30 'journal_since -u $DU | grep -q "AppCDS: archive .* written by worker"' || true
before=$(du_pids)
zd_load_start dynuser
in_ct timeout 120 systemctl reload $DU || bad "second systemctl reload $DU failed: $(journal_since -u $DU | tail -n 5)"
await 30 '[ -z "$(comm -12 <(echo "$before") <(du_pids))" ]' || true
zd_load_report dynuser "$DU (DynamicUser=yes) reload"
jsa=$(in_ct sh -c "ls /var/cache/private/$DU/cds/*.jsa 2>/dev/null" | head -n 1 || true)
owner=$(in_ct stat -c '%u %a' "/var/cache/private/$DU/cds" ${jsa:+"$jsa"} 2>&1 | tr '\n' ' ' || true)
after=$(du_pids)
mapping=0
for p in $after; do if [ -n "$jsa" ] && in_ct grep -q " $jsa\$" /proc/"$p"/maps 2>/dev/null; then mapping=$((mapping + 1)); fi; done
if [ -n "$jsa" ] && [ "$owner" = "$du_uid 700 $du_uid 440 " ] && [ "$mapping" = 2 ] && [ -z "$(comm -12 <(echo "$before") <(echo "$after"))" ]; then
    ok "AppCDS under DynamicUser=yes: $jsa (uid, mode: $owner) mapped by both new workers ($(echo $after))"
else
    bad "AppCDS under DynamicUser=yes: archive '$jsa' ($owner), mapped by $mapping of 2 workers ($(echo $before) -> $(echo $after)): $(journal_since -u $DU | grep AppCDS | sort -u | tail -n 2)"
fi

warn=$(journal_since -u $DU -p warning || true)
[ -z "$warn" ] && ok "no warning from the master under DynamicUser=yes" || bad "warnings of $DU: $(echo "$warn" | head -n 5)"

# root still reaches the control socket of a master whose user exists only while it runs
reply=$(echo status | in_ct timeout 10 socat -t 5 - UNIX-CONNECT:/run/$DU/cluster-master.sock 2>&1 || true)
grep -q 'ready' <<<"$reply" && ok "socat - UNIX-CONNECT:/run/$DU/cluster-master.sock answers 'status'" || bad "socat status: $reply"
out=$(in_ct cluster-master ctl $DU status 2>&1) && ok "cluster-master ctl $DU status (exit 0)" || bad "ctl $DU status: $out"

# --- clean up: nothing of it left for later checks -------------------------------------------------
in_ct cluster-master service remove $DU --purge >/dev/null 2>&1 || bad "service remove $DU --purge"
in_ct sh -c "rm -rf /etc/systemd/system/$DU.service.d /var/cache/private/$DU /var/cache/$DU /opt/$DU && systemctl daemon-reload"
left=$(in_ct pgrep -af "/opt/$DU" || true)
[ -z "$left" ] && ! in_ct test -e /etc/systemd/system/$DU.service && ok "$DU removed, no process left" || bad "after removing $DU: $left"
