package dev.clustermaster.os;

import ch.qos.logback.classic.pattern.TargetLengthBasedClassNameAbbreviator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.util.CachingDateFormatter;

/**
 * One stdout line per event, as the pattern
 * {@code %journalPriority%journalDate{yyyy-MM-dd'T'HH:mm:ss.SSSXXX}%-5level [%thread] %logger{24} - %msg%n%journalEx}
 * prints it, written out in code so that no pattern parser is loaded. Under systemd (JOURNAL_STREAM) each line,
 * stack trace lines included, starts with the syslog priority {@code <N>} and has no timestamp (journald adds
 * one); in a terminal it starts with the date.
 */
public final class JournalLineLayout extends LayoutBase<ILoggingEvent> {

    private final boolean underJournal;
    private final TargetLengthBasedClassNameAbbreviator abbreviator = new TargetLengthBasedClassNameAbbreviator(24);
    private CachingDateFormatter dates;

    public JournalLineLayout(boolean underJournal) {
        this.underJournal = underJournal;
    }

    @Override
    public void start() {
        if (!underJournal) {
            dates = new CachingDateFormatter("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
        }
        super.start();
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        String prefix = underJournal ? JournalPriorityConverter.prefix(event.getLevel()) : "";
        StringBuilder b = new StringBuilder(128);
        b.append(prefix);
        if (!underJournal) {
            b.append(dates.format(event.getTimeStamp())).append(' ');
        }
        String level = event.getLevel().toString();
        b.append(level);
        for (int i = level.length(); i < 5; i++) {
            b.append(' ');
        }
        b.append(" [").append(event.getThreadName()).append("] ")
                .append(abbreviator.abbreviate(event.getLoggerName())).append(" - ")
                .append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
        IThrowableProxy tp = event.getThrowableProxy();
        if (tp != null) {
            String trace = ThrowableProxyUtil.asString(tp);
            if (!trace.endsWith(CoreConstants.LINE_SEPARATOR)) {
                trace += CoreConstants.LINE_SEPARATOR;
            }
            // journald reads each stdout line as its own entry: a bare line would get the default priority
            b.append(prefix.isEmpty() ? trace : trace.replaceAll("(?m)^(?=.)", prefix));
        }
        return b.toString();
    }
}
