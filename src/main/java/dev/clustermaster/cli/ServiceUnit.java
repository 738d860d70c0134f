package dev.clustermaster.cli;

import java.util.Map;

/**
 * The text of the files {@code cluster-master service create} writes: a systemd unit named after the app, and its
 * config file with the same keys as {@code run}. Pure: values in, text out.
 */
final class ServiceUnit {
    private ServiceUnit() {
    }

    /**
     * @param supplementaryGroup repl.group when it differs from the service's own group: the master must be in it to
     *                           hand it the control socket; null for none
     * @param workDir            null: the unit's StateDirectory, /var/lib/APP
     */
    static String unit(String app, String user, String group, String supplementaryGroup, String workDir, String configFile,
                       String launcher) {
        String wd = workDir == null ? "/var/lib/" + app : workDir;
        return """
                # Written by: cluster-master service create %1$s (the settings are in %6$s)
                [Unit]
                Description=%1$s (cluster-master)
                Documentation=man:cluster-master(1) file:///usr/share/doc/cluster-master/operations.md
                After=network-online.target
                Wants=network-online.target
                # A master that gives up on a crash loop exits 69; a 5th start within a minute is refused (a give-up takes 5 s or more), so the unit is left failed.
                StartLimitIntervalSec=60
                StartLimitBurst=4

                [Service]
                # The master sends READY=1 once every worker is ready, so "active" means serving.
                Type=notify
                NotifyAccess=main
                EnvironmentFile=-/etc/default/cluster-master
                EnvironmentFile=-/etc/sysconfig/cluster-master
                ExecStart=%7$s run --config %6$s
                # reload = re-read %6$s, then a rolling restart; waits until it is done, fails if it failed. The master
                # extends systemd's timeout (EXTEND_TIMEOUT_USEC) by what its size, surge and timeouts need.
                # SIGHUP does the same, not awaited, when the control socket is off (repl=off).
                ExecReload=/bin/sh -c '%7$s ctl --name %1$s reload; rc=$$?; [ "$$rc" = 3 ] && exec /bin/kill -HUP "$$MAINPID"; exit "$$rc"'
                KillMode=mixed
                TimeoutStartSec=120
                TimeoutStopSec=60
                Restart=on-failure
                RestartSec=2
                # 2 = bad usage or configuration: starting again cannot help (the one-line reason is in the journal).
                RestartPreventExitStatus=2
                FileDescriptorStoreMax=64

                User=%2$s
                Group=%3$s
                %4$s# /run/%1$s/cluster-master.sock: socat - UNIX-CONNECT:/run/%1$s/cluster-master.sock, or cluster-master ctl %1$s
                RuntimeDirectory=%1$s
                RuntimeDirectoryMode=0750
                StateDirectory=%1$s
                # Java workers' AppCDS archive (java.cds=auto uses $CACHE_DIRECTORY, here /var/cache/%1$s/cds)
                CacheDirectory=%1$s
                CacheDirectoryMode=0700
                WorkingDirectory=%5$s
                AmbientCapabilities=CAP_NET_BIND_SERVICE
                CapabilityBoundingSet=CAP_NET_BIND_SERVICE
                LimitNOFILE=65536

                # Hardening that a JVM tolerates (no MemoryDenyWriteExecute: the JIT needs W+X pages). Home directories
                # stay readable so an app may live there.
                NoNewPrivileges=yes
                ProtectSystem=strict
                ProtectHome=read-only
                PrivateTmp=yes
                PrivateDevices=yes
                ProtectKernelTunables=yes
                ProtectKernelModules=yes
                ProtectKernelLogs=yes
                ProtectControlGroups=yes
                ProtectClock=yes
                ProtectHostname=yes
                RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
                RestrictNamespaces=yes
                RestrictRealtime=yes
                RestrictSUIDSGID=yes
                LockPersonality=yes
                SystemCallArchitectures=native
                UMask=0027

                [Install]
                WantedBy=multi-user.target
                """.formatted(app, user, group,
                supplementaryGroup == null ? "" : "# repl.group: the master hands the control socket to this group\nSupplementaryGroups=" + supplementaryGroup + "\n",
                wd, configFile, launcher);
    }

    /** A properties file {@code run --config} reads back to exactly these settings. */
    static String config(String app, Map<String, String> settings) {
        StringBuilder s = new StringBuilder();
        s.append("# cluster-master settings of ").append(app).append(" (keys as in man cluster-master-run).\n");
        s.append("# Edit, then apply with: systemctl reload ").append(app).append("   (a bad value fails the reload; the\n");
        s.append("# running workers are kept). listen, repl*, http.* and name apply on systemctl restart.\n");
        settings.forEach((k, v) -> s.append(k).append('=').append(escape(v)).append('\n'));
        return s.toString();
    }

    /** java.util.Properties escaping of a value: backslash, line breaks, a leading blank. */
    static String escape(String v) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case ' ' -> out.append(i == 0 ? "\\ " : " ");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
