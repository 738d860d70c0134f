# The .rpm under a real systemd, with its scriptlets: on a machine of its own (a clean boot of the same rootfs,
# so the .deb never touched it), Java and Debian's rpm tool come from Debian, then "rpm -i" of the package that
# sits next to the .deb (--nodeps: Debian's rpm database knows no Java package; --force-debian: Debian's rpm
# refuses to install otherwise). A user's own app as cluster-master@APP starts, serves and reloads; "rpm -U" of
# the same spec rebuilt with a higher Release moves its running master, and that of an app named after itself
# (service create rpmsvc), in place under load (%postun), and a failed upgrade leaves it serving; "rpm -e" stops
# and disables everything (rpmsvc stopped, its unit being the admin's) and removes /var/cache/cluster-master.
# the .rpm of the same build: same VERSION-RELEASE as the .deb (0.1.0-1)
RPM_PKG=$(dirname "$DEB")/cluster-master-$(dpkg-deb -f "$DEB" Version).noarch.rpm
RPM_SRC=$(dirname "$DEB")/rpmbuild/SOURCES # staged by the pom's rpm profile
if [ ! -f "$RPM_PKG" ] || [ ! -d "$RPM_SRC" ] || ! command -v rpmbuild >/dev/null; then
    bad "no $RPM_PKG, no $RPM_SRC or no rpmbuild on this host: build with rpmbuild installed (apt-get install rpm)"
    return 0
fi
RPM_T0=$SECONDS
RPM_VER=$(rpm -qp --qf '%{VERSION}' "$RPM_PKG")
RPM_REL=$(rpm -qp --qf '%{RELEASE}' "$RPM_PKG")
cp "$RPM_PKG" "$E2E_FILES/"
RPM_IN=/root/files/$(basename "$RPM_PKG")
# The same spec and sources, Release bumped by $1: what a rebuild for an update gives. Prints its path inside.
rpm_rebuild() {
    local rel=$((RPM_REL + $1)) top=$WORK/rpmtop-$1
    mkdir -p "$top"
    sed "s/^Release:.*/Release: $rel/" "$E2E_DIR/../../rpm/cluster-master.spec" >"$top/cluster-master.spec"
    rpmbuild -bb --quiet --define "_topdir $top" --define "_sourcedir $RPM_SRC" --define "cm_version $RPM_VER" \
        --define "_rpmdir $E2E_FILES" --define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' \
        "$top/cluster-master.spec" >"$top/log" 2>&1 || { quote <"$top/log" >&2; die "rpmbuild of release $rel failed"; }
    echo "/root/files/cluster-master-$RPM_VER-$rel.noarch.rpm"
}
RPM_UP1=$(rpm_rebuild 1)
RPM_UP2=$(rpm_rebuild 2)

fresh_machine
# shellcheck source=packaging/e2e/java-app.sh
. "$E2E_DIR/java-app.sh"
# shellcheck source=packaging/e2e/app-lib.sh
. "$E2E_DIR/app-lib.sh"
ZD_PORT=8091
ZD_SECONDS=120
ZD_UNIT=cluster-master@app.service
# shellcheck source=packaging/e2e/load-lib.sh
. "$E2E_DIR/load-lib.sh"
RPM="rpm --force-debian"

in_ct getent passwd cluster-master >/dev/null && die "the clean machine already has a cluster-master user"
if in_ct sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q default-jre-headless /var/cache/cm-e2e-rpm/*.deb' \
    >"$WORK/rpm-apt.log" 2>&1; then
    log "from Debian: $(in_ct java -version 2>&1 | sed -n 1p), $(in_ct rpm --version)"
else
    quote <"$WORK/rpm-apt.log" | tail -n 20
    die "apt-get install of Java and rpm failed"
fi

# --- rpm -i: %pre makes the account, %post the class archives and the presets -------------------------
if in_ct $RPM -i --nodeps "$RPM_IN" >"$WORK/rpm-i.log" 2>&1; then
    ok "rpm -i --nodeps $(basename "$RPM_PKG") (scriptlets run)"
else
    bad "rpm -i failed"
fi
quote <"$WORK/rpm-i.log"
g=$(in_ct getent group cluster-master || true)
u=$(in_ct getent passwd cluster-master || true)
IFS=: read -r _ _ uid gid _ home shell <<<"$u" || true
if [ -n "$g" ] && [ "$gid" = "$(cut -d: -f3 <<<"$g")" ] && [ "${uid:-1000}" -lt 1000 ] \
    && [ "$home" = /var/lib/cluster-master ] && [ "$shell" = /sbin/nologin ]; then
    ok "%pre made the system group and user: $g / $u"
else
    bad "%pre: group '$g', user '$u' (want a system user in group cluster-master, home /var/lib/cluster-master, /sbin/nologin)"
fi
for a in run ctl; do
    in_ct test -s /var/cache/cluster-master/$a.jsa && ok "%post made /var/cache/cluster-master/$a.jsa" \
        || bad "%post made no /var/cache/cluster-master/$a.jsa"
done
out=$(in_ct $RPM -V --nodeps cluster-master 2>&1) && ok "rpm -V: the installed files match the package" || bad "rpm -V: $out"
log "after %post's preset (this distribution's policy): service $(in_ct systemctl is-enabled cluster-master.service 2>&1)," \
    "socket $(in_ct systemctl is-enabled cluster-master.socket 2>&1)"

# --- the user's own app: cluster-master@app with /etc/cluster-master/app.conf --------------------------
in_ct sh -c 'mkdir -p /opt/hello && cp /root/files/hello.jar /opt/hello/ && chmod -R a+rX /opt/hello'
in_ct sh -c 'cat > /etc/cluster-master/app.conf && chown root:cluster-master /etc/cluster-master/app.conf && chmod 0640 /etc/cluster-master/app.conf' <<EOF
jar=/opt/hello/hello.jar
jvm.args=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx64m
size=2
listen=tcp://127.0.0.1:$ZD_PORT
ready=$HELLO_READY
probation=1s
stop.timeout=15s
EOF
if in_ct timeout 180 systemctl enable --now cluster-master@app >/dev/null 2>&1 \
    && [ "$(in_ct systemctl is-active cluster-master@app)" = active ]; then
    ok "systemctl enable --now cluster-master@app: $(in_ct systemctl show -p Type --value cluster-master@app), active"
else
    bad "cluster-master@app did not start: $(in_ct systemctl status cluster-master@app --no-pager 2>&1 | tail -n 15)"
fi
body=$(in_ct curl -sS --max-time 20 "http://127.0.0.1:$ZD_PORT/" 2>&1 || true)
[[ $body == "pid "*" worker "*" greeting -"* ]] && ok "cluster-master@app serves: '$body'" || bad "GET :$ZD_PORT: '$body'"
reload_under_load cluster-master@app "http://127.0.0.1:$ZD_PORT/"
SVC_PORT=8092
own_app_create rpmsvc.service "$SVC_PORT"
own_apps_start rpmsvc.service

# --- rpm -U of a higher Release: %postun moves the running masters in place -----------------------------
ZD_MAIN=$(in_ct systemctl show -p MainPID --value cluster-master@app)
SVC_MAIN=$(in_ct systemctl show -p MainPID --value rpmsvc.service)
zd_load_start rpmup
zd_load_start rpmup-svc "$SVC_PORT"
if in_ct $RPM -U --nodeps "$RPM_UP1" >"$WORK/rpm-up1.log" 2>&1; then
    ok "rpm -U to $(basename "$RPM_UP1")"
else
    quote <"$WORK/rpm-up1.log" | tail -n 20
    bad "rpm -U of the rebuilt package failed"
fi
quote <"$WORK/rpm-up1.log"
# the load runs on until every old master has drained
assert_upgraded cluster-master@app.service "$ZD_MAIN" "$WORK/rpm-up1.log" %postun
assert_upgraded rpmsvc.service "$SVC_MAIN" "$WORK/rpm-up1.log" %postun
zd_load_report rpmup "rpm -U of a higher Release: cluster-master@app"
zd_load_report rpmup-svc "rpm -U of a higher Release: rpmsvc (service create)"
v=$(in_ct rpm -q cluster-master 2>&1)
[ "$v" = "cluster-master-$RPM_VER-$((RPM_REL + 1)).noarch" ] && ok "rpm -q: $v" || bad "rpm -q after the upgrade: $v"
[ "$(in_ct systemctl is-active cluster-master@app)" = active ] && ok "cluster-master@app active after the upgrade" \
    || bad "cluster-master@app $(in_ct systemctl is-active cluster-master@app) after the upgrade"
in_ct timeout 30 cluster-master ctl app status >/dev/null 2>&1 && ok "ctl app reaches the new master" \
    || bad "ctl app status fails after the upgrade"

# --- a failed upgrade (the new master rejects the conf): the old one keeps serving, %postun says why ----
in_ct sh -c 'echo no.such.key=1 >> /etc/cluster-master/app.conf'
ZD_MAIN=$(in_ct systemctl show -p MainPID --value cluster-master@app)
zd_load_start rpmfail
in_ct $RPM -U --nodeps "$RPM_UP2" >"$WORK/rpm-up2.log" 2>&1 \
    && ok "rpm -U to $(basename "$RPM_UP2") succeeds though the master could not be upgraded" \
    || bad "rpm -U to $(basename "$RPM_UP2") failed: $(tail -n 5 "$WORK/rpm-up2.log")"
zd_load_report rpmfail "rpm -U with a conf the new master rejects"
quote <"$WORK/rpm-up2.log"
if grep -q "cluster-master@app.service was NOT upgraded and still runs the old version: .*upgrade failed: the new master" "$WORK/rpm-up2.log" \
    && grep -q "fix the cause, then: cluster-master ctl --socket /run/app/cluster-master.sock upgrade" "$WORK/rpm-up2.log" \
    && [ "$(in_ct systemctl show -p MainPID --value cluster-master@app)" = "$ZD_MAIN" ] \
    && [ "$(in_ct systemctl is-active cluster-master@app)" = active ]; then
    ok "failed upgrade: the old master $ZD_MAIN keeps serving and %postun said why and how to retry"
else
    bad "failed upgrade: MainPID $(in_ct systemctl show -p MainPID --value cluster-master@app) (was $ZD_MAIN), output: $(grep cluster-master "$WORK/rpm-up2.log" | tail -n 3)"
fi
in_ct sed -i '/^no.such.key=1$/d' /etc/cluster-master/app.conf

# --- rpm -e: %preun stops and disables the units (the app's instance too), %postun drops the cache ---------
if in_ct $RPM -e cluster-master >"$WORK/rpm-e.log" 2>&1; then
    ok "rpm -e cluster-master"
else
    quote <"$WORK/rpm-e.log"
    bad "rpm -e failed"
fi
in_ct rpm -q cluster-master >/dev/null 2>&1 && bad "rpm -q still finds cluster-master after rpm -e"
grep -q "cluster-master: stopped rpmsvc.service " "$WORK/rpm-e.log" && ok "%preun said it stopped rpmsvc.service" \
    || bad "%preun did not say it stopped rpmsvc.service: $(cat "$WORK/rpm-e.log")"
for unit in cluster-master@app.service rpmsvc.service cluster-master.service cluster-master.socket; do
    a=$(in_ct systemctl is-active "$unit" 2>&1 || true)
    # inactive, not failed: the upgraded masters stopped gracefully (a master systemd does not see as its child
    # would be SIGKILLed with its workers the moment the stop begins, and the unit left failed)
    [ "$a" = inactive ] && ok "after rpm -e $unit is $a" || bad "after rpm -e $unit is $a: $(in_ct systemctl show -p Result --value "$unit")"
done
ls=$(in_ct systemctl show -p LoadState --value cluster-master.service cluster-master@app.service | grep . | tr '\n' ' ')
[ "$ls" = "not-found not-found " ] && ok "after rpm -e systemd finds neither unit any more" \
    || bad "after rpm -e the units' LoadState: $ls"
links=$(in_ct sh -c 'find /etc/systemd/system -name "cluster-master*"' 2>&1 || true)
[ -z "$links" ] && ok "after rpm -e nothing under /etc/systemd/system enables a cluster-master unit" \
    || bad "after rpm -e units left enabled: $links"
await 30 '[ -z "$(in_ct pgrep -u cluster-master || true)" ]' && ! in_ct ss -Hltn "( sport = :$ZD_PORT or sport = :$SVC_PORT )" | grep -q . \
    && ok "after rpm -e no process of cluster-master runs and ports $ZD_PORT, $SVC_PORT are closed" \
    || bad "after rpm -e: processes $(in_ct pgrep -u cluster-master -a || true), listening: $(in_ct ss -Hltn "( sport = :$ZD_PORT or sport = :$SVC_PORT )")"
in_ct test -e /var/cache/cluster-master && bad "after rpm -e /var/cache/cluster-master is still there" \
    || ok "%postun removed /var/cache/cluster-master"
log "rpm check: $((SECONDS - RPM_T0))s; load results:"
for r in "${ZD_RESULTS[@]}"; do log "  $r"; done
