package dev.clustermaster.runtime;

import dev.clustermaster.os.Pipe;
import dev.clustermaster.os.SdNotify;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * The new master's side of an upgrade ({@link MasterUpgrade} is the old one's): started by the old master with
 * {@value #FD} naming a pipe and NOTIFY_SOCKET pointing at the old master, it reports READY=1 there; the old
 * master then makes it systemd's main pid (MAINPID=) and closes the pipe, and from then on this master talks to
 * systemd ({@value #SYSTEMD_SOCKET}), replaying its fd-store messages and its last state.
 */
final class UpgradeHandover {
    private static final Logger log = LoggerFactory.getLogger("dev.clustermaster.master");
    static final String FD = "CM_UPGRADE_FD";
    static final String SYSTEMD_SOCKET = "CM_UPGRADE_NOTIFY_SOCKET";
    static final String FROM = "CM_UPGRADE_FROM";

    private UpgradeHandover() {
    }

    static boolean isUpgrade(Map<String, String> env) {
        return env.containsKey(FD);
    }

    /** systemd's notify socket, also in a master that an upgrade started (whose NOTIFY_SOCKET is the old master). */
    static String systemdSocket(Map<String, String> env) {
        return isUpgrade(env) ? env.getOrDefault(SYSTEMD_SOCKET, "") : env.getOrDefault("NOTIFY_SOCKET", "");
    }

    /** The notifier of this master: systemd's, or for an upgraded master one that switches over at the handover. */
    static SdNotify notifier(Map<String, String> env) {
        if (!isUpgrade(env)) {
            return SdNotify.fromEnvironment();
        }
        int fd;
        try {
            fd = Integer.parseInt(env.get(FD).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(FD + " is not an fd number: '" + env.get(FD) + "'");
        }
        SdNotify notify = SdNotify.handover(env.get("NOTIFY_SOCKET"));
        String systemd = env.getOrDefault(SYSTEMD_SOCKET, "");
        Thread t = new Thread(() -> {
            Pipe.awaitEof(fd);
            notify.redirect(systemd);
            log.info("upgrade from master {} complete: this master now reports to systemd", env.getOrDefault(FROM, "?"));
        }, "cm-upgrade-handover");
        t.setDaemon(true);
        t.start();
        return notify;
    }
}
