package dev.clustermaster.config;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Where the control REPL listens, as {@code --repl}, {@code repl=} and {@code $CLUSTER_MASTER_REPL} say it:
 * on/true/yes/1 (the default socket in the runtime directory), off/false/no/0 (none), anything else a socket path
 * (a relative one is relative to the working directory). The one parser of the setting, for the master and ctl.
 *
 * @param enabled whether the master has a REPL socket
 * @param socket  the socket path given, or null for the default one in the runtime directory
 */
public record ReplSetting(boolean enabled, Path socket) {

    public static final String ENV = "CLUSTER_MASTER_REPL";
    /** Unset: on, at the default place. */
    public static final ReplSetting DEFAULT = new ReplSetting(true, null);

    /** Null or blank means unset ({@link #DEFAULT}). */
    public static ReplSetting parse(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT;
        }
        String v = value.strip();
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "false", "no", "off", "0" -> new ReplSetting(false, null);
            case "true", "yes", "on", "1" -> DEFAULT;
            default -> new ReplSetting(true, Path.of(v));
        };
    }

    /** The socket of a master whose runtime directory is {@code runtimeDir}. */
    public Path socketIn(Path runtimeDir) {
        return socket != null ? socket : runtimeDir.resolve(RuntimeDirs.SOCKET_FILE);
    }
}
