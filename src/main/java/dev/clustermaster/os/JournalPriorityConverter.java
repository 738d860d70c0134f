package dev.clustermaster.os;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback converter {@code %journalPriority}: under systemd (JOURNAL_STREAM set) it prints the
 * syslog priority prefix that journald's stdout reader strips and stores as PRIORITY= (sd-daemon(3));
 * elsewhere it prints nothing, so a terminal sees plain lines.
 */
public class JournalPriorityConverter extends ClassicConverter {

    private boolean enabled = Journal.underJournal(System.getenv());

    /** For tests: force the prefix on or off regardless of the environment. */
    void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public String convert(ILoggingEvent event) {
        return enabled ? prefix(event.getLevel()) : "";
    }

    /** Syslog priorities: 3 err, 4 warning, 6 info, 7 debug. */
    public static String prefix(Level level) {
        return switch (level.toInt()) {
            case Level.ERROR_INT -> "<3>";
            case Level.WARN_INT -> "<4>";
            case Level.INFO_INT -> "<6>";
            default -> "<7>";
        };
    }
}
