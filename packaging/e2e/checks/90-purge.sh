# Last: remove, then purge. Removal stops every master running the package's files: the service and the socket (left
# enabled and active by 30-*), the user's own apps as cluster-master@rmi (enabled: removal disables it too) and as
# a unit named after it (service create rmsvc: its unit is the admin's and stays); purge then disables the rest.
PORT=${PORT:-8080}
# shellcheck source=packaging/e2e/app-lib.sh
. "$E2E_DIR/app-lib.sh"
RM_UNITS=(cluster-master@rmi.service rmsvc.service)
RM_PORTS=(8085 8086)
for i in 0 1; do own_app_create "${RM_UNITS[$i]}" "${RM_PORTS[$i]}"; done
own_apps_start "${RM_UNITS[@]}"

# --- remove --------------------------------------------------------------------------------------
if in_ct env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q cluster-master >"$WORK/remove.log" 2>&1; then
    ok "apt-get remove cluster-master"
else
    quote <"$WORK/remove.log" | tail -n 20
    bad "apt-get remove failed"
fi
{ grep 'cluster-master: stopped' "$WORK/remove.log" || true; } | quote
for u in "${RM_UNITS[@]}"; do
    grep -q "cluster-master: stopped $u " "$WORK/remove.log" && ok "prerm said it stopped $u" || bad "prerm did not say it stopped $u"
done
for u in "${RM_UNITS[@]}" cluster-master.service cluster-master.socket; do
    a=$(in_ct systemctl is-active "$u" 2>&1 || true)
    [ "$a" != active ] && [ "$a" != deactivating ] && ok "after remove $u is $a" || bad "after remove $u is $a"
done
await 30 '[ -z "$(in_ct pgrep -u cluster-master || true)" ]' && ok "after remove no process of user cluster-master runs" \
    || bad "after remove processes of cluster-master run: $(in_ct pgrep -u cluster-master -a || true)"
for p in "$PORT" "${RM_PORTS[@]}"; do
    in_ct ss -Hltn "sport = :$p" | grep -q . && bad "after remove port $p still listens: $(in_ct ss -Hltnp "sport = :$p")" \
        || ok "after remove port $p is closed"
done
links=$(in_ct sh -c 'find /etc/systemd/system -name "cluster-master@*"' 2>&1 || true)
[ -z "$links" ] && ok "after remove no cluster-master@NAME instance is enabled" || bad "after remove instances left enabled: $links"

# --- purge ---------------------------------------------------------------------------------------
in_ct dpkg --purge cluster-master >/dev/null && ok "dpkg --purge" || bad "dpkg --purge failed"
# The socket was left enabled and active above: removal must stop it too, or a connection would start a
# service whose files are gone; purge drops its enablement.
if [ "$(in_ct systemctl is-active cluster-master.socket)" != active ] && ! in_ct ss -Hltn "sport = :$PORT" | grep -q . \
    && [ -z "$(in_ct pgrep -u cluster-master || true)" ] && ! in_ct test -e /etc/systemd/system/sockets.target.wants/cluster-master.socket; then
    ok "purge stopped and disabled cluster-master.socket and the service"
else
    bad "after purge: socket $(in_ct systemctl is-active cluster-master.socket), listening: $(in_ct ss -Hltn "sport = :$PORT"), processes: $(in_ct pgrep -u cluster-master -a || true)"
fi
