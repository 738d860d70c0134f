package dev.clustermaster.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Facts about systemd's journal that logging needs. */
public final class Journal {
    /** journald's native protocol socket (systemd-journald.service(8)). */
    public static final String NATIVE_SOCKET = "/run/systemd/journal/socket";

    private Journal() {
    }

    /**
     * True when stdout/stderr is connected to journald: systemd sets JOURNAL_STREAM=DEV:INODE
     * for services whose output goes to the journal (systemd.exec(5)).
     */
    public static boolean underJournal(Map<String, String> env) {
        String v = env.get("JOURNAL_STREAM");
        return v != null && v.matches("\\d+:\\d+");
    }

    /**
     * Stricter than {@link #underJournal}: JOURNAL_STREAM is set and names the very stream our stdout or stderr
     * is. A child whose output the parent captures (a silent-mode worker) inherits the variable, but its stdout
     * is a pipe; systemd.exec(5) says to compare device and inode for exactly this reason. When the fds cannot
     * be examined the variable is trusted.
     */
    public static boolean outputIsJournal(Map<String, String> env) {
        if (!underJournal(env)) {
            return false;
        }
        String[] devIno = env.get("JOURNAL_STREAM").split(":");
        boolean examined = false;
        for (String fd : new String[]{"1", "2"}) {
            try {
                // stat() through the /proc magic link reaches the socket or pipe itself
                Map<String, Object> a = Files.readAttributes(Path.of("/proc/self/fd", fd), "unix:dev,ino");
                examined = true;
                if (Long.toUnsignedString((Long) a.get("dev")).equals(devIno[0])
                        && Long.toUnsignedString((Long) a.get("ino")).equals(devIno[1])) {
                    return true;
                }
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
                // closed fd or no unix view: this one tells nothing
            }
        }
        return !examined;
    }
}
