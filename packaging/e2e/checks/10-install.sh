# Install the .deb the way a user does on a clean Debian 12; apt must resolve the JRE and adduser
# through the package's Depends (from the rootfs' download cache: the container has no network).
log "apt-get install /root/cluster-master.deb inside the container"
in_ct dpkg-query -W -f='${Status}' default-jre-headless 2>/dev/null | grep -q 'install ok installed' \
    && die "the rootfs already has a JRE: the install would not prove the Depends"
if in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /root/cluster-master.deb >"$WORK/apt.log" 2>&1; then
    ok "apt-get install ./cluster-master_*.deb on a clean Debian 12 (dependencies from the Depends)"
else
    quote <"$WORK/apt.log" | tail -n 30
    die "apt-get install failed"
fi
log "installed with it: $(sed -n 's/^Setting up \([^ :]*\).*/\1/p' "$WORK/apt.log" | tr '\n' ' ')"
java_v=$(in_ct java -version 2>&1 | sed -n 1p)
[ -n "$java_v" ] && ok "a JRE came with it: $java_v" || bad "no java after installing the package"
in_ct cluster-master --version >/dev/null 2>&1 && ok "cluster-master --version runs: $(in_ct cluster-master --version)" \
    || bad "cluster-master --version fails"
in_ct getent passwd cluster-master >/dev/null && ok "system user cluster-master exists" || bad "system user missing"
[ "$(in_ct systemctl is-enabled cluster-master.service)" = enabled ] && ok "unit enabled by postinst" || bad "unit not enabled"
[ "$(in_ct systemctl is-active cluster-master.service)" = active ] && ok "postinst started the service (shipped conf)" \
    || bad "service after install: $(in_ct systemctl is-active cluster-master.service)"
[ "$(in_ct systemctl is-enabled cluster-master.socket)" = disabled ] && ok "cluster-master.socket left disabled (opt-in)" \
    || bad "cluster-master.socket is $(in_ct systemctl is-enabled cluster-master.socket)"
# --man=no: a minimal system has no man(1); the page itself is checked below.
if out=$(in_ct systemd-analyze verify --man=no cluster-master.service cluster-master@test.service cluster-master.socket 2>&1) && [ -z "$out" ]; then
    ok "systemd-analyze verify is clean"
else
    bad "systemd-analyze verify: $out"
fi
in_ct test -s /usr/share/man/man1/cluster-master.1.gz && ok "man page installed (the units' Documentation=)" || bad "no man page"
