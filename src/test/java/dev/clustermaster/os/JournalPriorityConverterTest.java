package dev.clustermaster.os;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalPriorityConverterTest {

    private static LoggingEvent event(Level level, Throwable t) {
        LoggerContext ctx = new LoggerContext();
        return new LoggingEvent("x", ctx.getLogger("t"), level, "hello", t, null);
    }

    @Test
    void mapsLevelsToSyslogPriorities() {
        assertEquals("<3>", JournalPriorityConverter.prefix(Level.ERROR));
        assertEquals("<4>", JournalPriorityConverter.prefix(Level.WARN));
        assertEquals("<6>", JournalPriorityConverter.prefix(Level.INFO));
        assertEquals("<7>", JournalPriorityConverter.prefix(Level.DEBUG));
        assertEquals("<7>", JournalPriorityConverter.prefix(Level.TRACE));
    }

    @Test
    void prefixOnlyUnderJournal() {
        JournalPriorityConverter c = new JournalPriorityConverter();
        c.setEnabled(true);
        assertEquals("<4>", c.convert(event(Level.WARN, null)));
        c.setEnabled(false);
        assertEquals("", c.convert(event(Level.WARN, null)));
    }

    @Test
    void journalStreamDetection() {
        assertTrue(Journal.underJournal(Map.of("JOURNAL_STREAM", "8:12345")));
        assertFalse(Journal.underJournal(Map.of()));
        assertFalse(Journal.underJournal(Map.of("JOURNAL_STREAM", "")));
    }

    @Test
    void everyStackTraceLineCarriesThePriority() {
        JournalThrowableConverter c = new JournalThrowableConverter();
        c.setContext(new LoggerContext());
        c.start();
        c.setEnabled(true);
        String out = c.convert(event(Level.ERROR, new IllegalStateException("boom")));
        assertFalse(out.isEmpty());
        for (String line : out.split("\\R")) {
            assertTrue(line.startsWith("<3>"), "unprefixed line: " + line);
        }
        c.setEnabled(false);
        assertFalse(c.convert(event(Level.ERROR, new IllegalStateException("boom"))).startsWith("<"));
    }

    /** The shipped logback.xml, in a fresh JVM, with and without JOURNAL_STREAM. */
    @Test
    void shippedConfigUnderSystemdAndInATerminal() throws Exception {
        List<String> journal = runDemo(true);
        assertEquals("<6>INFO  [main] d.c.os.JournalLogDemo - info line", journal.get(0));
        assertEquals("<4>WARN  [main] d.c.os.JournalLogDemo - warn line", journal.get(1));
        assertTrue(journal.get(2).startsWith("<3>ERROR [main] d.c.os.JournalLogDemo - error line"), journal.get(2));
        assertTrue(journal.get(3).startsWith("<3>java.lang.IllegalStateException: boom"), journal.get(3));
        assertTrue(journal.get(4).startsWith("<3>\tat "), journal.get(4));

        List<String> tty = runDemo(false);
        // ISO-8601 timestamp first, no priority prefix
        assertTrue(tty.get(0).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\S* INFO  \\[main] d\\.c\\.os\\.JournalLogDemo - info line"), tty.get(0));
    }

    private static List<String> runDemo(boolean underJournal) throws IOException, InterruptedException {
        return JournalLogDemo.run(System.getProperty("java.class.path"), underJournal);
    }
}

/** Logs one line per level; run in a child JVM by the test above. */
class JournalLogDemo {
    /** Runs main in a child JVM on classPath, without the caller's journal and level settings; its output lines. */
    static List<String> run(String classPath, boolean underJournal) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", classPath, JournalLogDemo.class.getName());
        pb.environment().remove("JOURNAL_STREAM");
        pb.environment().remove("CM_LOG_LEVEL");
        if (underJournal) {
            pb.environment().put("JOURNAL_STREAM", "8:4242");
        }
        pb.redirectErrorStream(true);
        Process p = pb.start();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(buf);
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), buf.toString(StandardCharsets.UTF_8));
        return buf.toString(StandardCharsets.UTF_8).lines().toList();
    }

    public static void main(String[] args) {
        Logger log = LoggerFactory.getLogger(JournalLogDemo.class);
        log.debug("debug line is below the default INFO level");
        log.info("info line");
        log.warn("warn line");
        log.error("error line", new IllegalStateException("boom"));
    }
}
