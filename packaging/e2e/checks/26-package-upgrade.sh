# Issue 10: apt-get install of a rebuilt package with a bumped version upgrades the running masters in place
# (postinst: "ctl upgrade") under HTTP load with 0 failed requests: cluster-master.service, the user's own app as
# cluster-master@inst and one as a unit named after it (service create svcapp); a failed upgrade (a conf the new
# master rejects) leaves the old master serving and says why. Leaves them stopped and ports 8080, 8083, 8084 free.
ZD_PORT=8080
ZD_SECONDS=180
# shellcheck source=packaging/e2e/load-lib.sh
. "$E2E_DIR/load-lib.sh"
# shellcheck source=packaging/e2e/app-lib.sh
. "$E2E_DIR/app-lib.sh"
OWN_UNITS=(cluster-master@inst.service svcapp.service)
OWN_PORTS=(8083 8084)

# The same package with the version bumped, as a rebuild would give (dpkg-deb on the host).
bump_deb() { # $1 = new version, prints the path inside the container
    local dir=$WORK/bump-$1
    rm -rf "$dir"
    dpkg-deb -R "$DEB" "$dir"
    sed -i "s/^Version: .*/Version: $1/" "$dir/DEBIAN/control"
    dpkg-deb -b "$dir" "$E2E_FILES/cluster-master_$1_all.deb" >/dev/null
    echo "/root/files/cluster-master_$1_all.deb"
}
UP1=$(bump_deb 0.1.1-1)
UP2=$(bump_deb 0.1.2-1)

zd_conf "$ZD_PORT"
in_ct timeout 180 systemctl restart cluster-master.service || bad "start with listen=tcp://127.0.0.1:$ZD_PORT failed"

for i in 0 1; do own_app_create "${OWN_UNITS[$i]}" "${OWN_PORTS[$i]}"; done
own_apps_start "${OWN_UNITS[@]}"

# --- a rebuilt package with a bumped version: postinst upgrades every master in place --------------------
ZD_MAIN=$(in_ct systemctl show -p MainPID --value cluster-master.service)
OWN_MAINS=()
for u in "${OWN_UNITS[@]}"; do OWN_MAINS+=("$(in_ct systemctl show -p MainPID --value "$u")"); done
before=$(in_ct dpkg-query -W -f='${Version}' cluster-master)
zd_load_start pkg
for i in 0 1; do zd_load_start "pkg-$i" "${OWN_PORTS[$i]}"; done
if in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$UP1" >"$WORK/up1.log" 2>&1; then
    ok "apt-get install of version 0.1.1-1 over $before"
else
    quote <"$WORK/up1.log" | tail -n 20
    bad "apt-get install of the bumped package failed"
fi
{ grep -E 'cluster-master.*(upgraded|NOT upgraded)' "$WORK/up1.log" || true; } | quote
# the load runs on until every old master has drained
assert_upgraded cluster-master.service "$ZD_MAIN" "$WORK/up1.log" postinst
for i in 0 1; do assert_upgraded "${OWN_UNITS[$i]}" "${OWN_MAINS[$i]}" "$WORK/up1.log" postinst; done
zd_load_report pkg "apt-get install of a bumped package: cluster-master.service"
for i in 0 1; do zd_load_report "pkg-$i" "apt-get install of a bumped package: ${OWN_UNITS[$i]}"; done
[ "$(in_ct dpkg-query -W -f='${Version}' cluster-master)" = 0.1.1-1 ] && ok "version 0.1.1-1 installed" || bad "version not bumped"
for u in "${OWN_UNITS[@]}"; do
    [ "$(in_ct systemctl is-active "$u")" = active ] && ok "$u active after the upgrade" || bad "$u $(in_ct systemctl is-active "$u") after the upgrade"
done
in_ct timeout 90 systemctl disable --now cluster-master@inst.service >/dev/null 2>&1 && in_ct rm /etc/cluster-master/inst.conf \
    && in_ct timeout 90 cluster-master service remove svcapp --purge >/dev/null 2>&1 || bad "removing cluster-master@inst and svcapp failed"
[ "$(in_ct systemctl is-active cluster-master.service)" = active ] && ok "unit active after the upgrade" \
    || bad "unit $(in_ct systemctl is-active cluster-master.service) after the upgrade"
in_ct timeout 30 cluster-master ctl status >/dev/null 2>&1 && ok "ctl reaches the new master on the same control socket" \
    || bad "ctl status fails after the upgrade"

# --- a failed upgrade leaves the old master serving and says why -------------------------------------
zd_conf "$ZD_PORT" "no.such.key=1"    # the new master refuses this conf at start
ZD_MAIN=$(in_ct systemctl show -p MainPID --value cluster-master.service)
zd_load_start pkgfail
in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$UP2" >"$WORK/up2.log" 2>&1 \
    && ok "apt-get install of 0.1.2-1 succeeds even though the master could not be upgraded" \
    || bad "apt-get install of 0.1.2-1 failed: $(tail -n 5 "$WORK/up2.log")"
sleep 2
zd_load_report pkgfail "a failed upgrade (the new master rejects the conf)"
{ grep 'NOT upgraded' "$WORK/up2.log" || true; } | quote
if grep -q "was NOT upgraded and still runs the old version: .*upgrade failed: the new master" "$WORK/up2.log" \
    && grep -q "fix the cause, then: cluster-master ctl --socket /run/cluster-master/cluster-master.sock upgrade" "$WORK/up2.log" \
    && [ "$(in_ct systemctl show -p MainPID --value cluster-master.service)" = "$ZD_MAIN" ] \
    && [ "$(in_ct systemctl is-active cluster-master.service)" = active ]; then
    ok "failed upgrade: the old master $ZD_MAIN keeps serving and postinst said why and how to retry"
else
    bad "failed upgrade: MainPID $(in_ct systemctl show -p MainPID --value cluster-master.service) (was $ZD_MAIN), output: $(grep cluster-master "$WORK/up2.log" | tail -n 3)"
fi
journal_line=$(in_ct journalctl -u cluster-master.service --no-pager -o cat | grep -E "unknown (config )?key|no.such.key" | tail -n 1 || true)
[ -n "$journal_line" ] && ok "the journal has the new master's reason: $journal_line" || bad "no reason in the journal"

zd_conf "$ZD_PORT"
in_ct timeout 90 systemctl stop cluster-master.service || bad "final stop failed"
log "package upgrade, load results:"
for r in "${ZD_RESULTS[@]}"; do log "  $r"; done
