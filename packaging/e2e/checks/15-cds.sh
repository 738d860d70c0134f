# postinst made the AppCDS archives of this jar for this JRE, and the launcher starts the master with them.
for a in run ctl; do
    in_ct test -s /var/cache/cluster-master/$a.jsa && ok "postinst made /var/cache/cluster-master/$a.jsa" \
        || bad "no /var/cache/cluster-master/$a.jsa after install"
done
main_pid=$(in_ct systemctl show -p MainPID --value cluster-master.service)
cmdline=$(in_ct cat /proc/"$main_pid"/cmdline 2>/dev/null | tr '\0' ' ')
case "$cmdline" in
    *-XX:SharedArchiveFile=/var/cache/cluster-master/run.jsa*-Xmx64m*|*-Xmx64m*-XX:SharedArchiveFile=/var/cache/cluster-master/run.jsa*)
        ok "the master runs with the lean flags and its class archive" ;;
    *) bad "master command line without the lean flags or archive: $cmdline" ;;
esac
in_ct cluster-master ctl status >/dev/null 2>&1 && ok "ctl with its class archive answers" || bad "ctl status failed"
