package dev.clustermaster.os;

import java.util.Map;

/** Facts about systemd's journal that logging needs. */
public final class Journal {
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
}
