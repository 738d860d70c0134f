# Last: dpkg --purge stops and disables everything (the socket was left enabled and active by 30-*).
PORT=${PORT:-8080}
# --- remove / purge -----------------------------------------------------------------------------
in_ct dpkg --purge cluster-master >/dev/null && ok "dpkg --purge" || bad "dpkg --purge failed"
# The socket was left enabled and active above: removal must stop it too, or a connection would start a
# service whose files are gone.
if [ "$(in_ct systemctl is-active cluster-master.socket)" != active ] && ! in_ct ss -Hltn "sport = :$PORT" | grep -q . \
    && [ -z "$(in_ct pgrep -u cluster-master || true)" ] && ! in_ct test -e /etc/systemd/system/sockets.target.wants/cluster-master.socket; then
    ok "purge stopped and disabled cluster-master.socket and the service"
else
    bad "after purge: socket $(in_ct systemctl is-active cluster-master.socket), listening: $(in_ct ss -Hltn "sport = :$PORT"), processes: $(in_ct pgrep -u cluster-master -a || true)"
fi

