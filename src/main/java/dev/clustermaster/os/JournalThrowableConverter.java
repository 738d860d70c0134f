package dev.clustermaster.os;

import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback converter {@code %journalEx}: the stack trace as {@code %ex} prints it, but under systemd
 * every line carries the event's priority prefix too; journald reads each stdout line as its own
 * entry, and a bare line would be logged at the unit's default priority (info).
 */
public class JournalThrowableConverter extends ThrowableProxyConverter {

    private boolean enabled = Journal.underJournal(System.getenv());

    void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public String convert(ILoggingEvent event) {
        String trace = super.convert(event);
        if (!enabled || trace.isEmpty()) {
            return trace;
        }
        String prefix = JournalPriorityConverter.prefix(event.getLevel());
        // Lines are separated by the platform separator; prefix every non-empty one.
        return trace.replaceAll("(?m)^(?=.)", prefix);
    }
}
