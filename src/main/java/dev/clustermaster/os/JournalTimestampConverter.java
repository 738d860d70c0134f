package dev.clustermaster.os;

import ch.qos.logback.classic.pattern.DateConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * Logback converter {@code %journalDate{pattern}}: a timestamp plus one space, like {@code %date},
 * but empty under systemd, where journald records the time of every line itself.
 */
public class JournalTimestampConverter extends DateConverter {

    private boolean enabled = !Journal.underJournal(System.getenv());

    void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    @Override
    public String convert(ILoggingEvent event) {
        return enabled ? super.convert(event) + " " : "";
    }
}
