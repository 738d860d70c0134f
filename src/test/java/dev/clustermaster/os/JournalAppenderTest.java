package dev.clustermaster.os;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalAppenderTest {

    // --- encoding (pure) ---

    @Test
    void plainValuesAreKeyEqualsValueLines() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("MESSAGE", "hello wörld");
        f.put("PRIORITY", "6");
        assertArrayEquals("MESSAGE=hello wörld\nPRIORITY=6\n".getBytes(StandardCharsets.UTF_8), JournalAppender.encode(f));
    }

    @Test
    void valuesWithNewlinesUseTheBinarySafeForm() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("MESSAGE", "a\nb=c");
        f.put("PRIORITY", "3");
        byte[] got = JournalAppender.encode(f);
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.writeBytes("MESSAGE\n".getBytes(StandardCharsets.US_ASCII));
        want.writeBytes(new byte[]{5, 0, 0, 0, 0, 0, 0, 0});  // 64-bit little-endian length
        want.writeBytes("a\nb=c\nPRIORITY=3\n".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals(want.toByteArray(), got);
        assertEquals(f, decode(got));
    }

    @Test
    void mdcKeysBecomeValidFieldNames() {
        assertEquals("CM_CHILD_ID", JournalAppender.fieldName("CM_CHILD_ID"));
        assertEquals("REQUEST_ID", JournalAppender.fieldName("request.id"));
        assertEquals("TRACE_ID", JournalAppender.fieldName("__trace-id"));  // no trusted "_" fields
        assertEquals("MDC_1ST", JournalAppender.fieldName("1st"));
        assertNull(JournalAppender.fieldName("__"));
        assertEquals(64, JournalAppender.fieldName("x".repeat(100)).length());
    }

    @Test
    void fieldsOfAnEvent() {
        LoggerContext ctx = context();
        LoggingEvent e = new LoggingEvent("x", ctx.getLogger("dev.clustermaster.worker.output"), Level.WARN,
                "[{}] {}", new IllegalStateException("boom"), new Object[]{"2", "line"});
        e.setThreadName("cm-err-2-77");
        e.setMDCPropertyMap(Map.of("CM_CHILD_ID", "2", "priority", "0", "user.name", "bob"));
        JournalAppender a = new JournalAppender(Map.of());
        Map<String, String> f = a.fields(e);
        assertTrue(f.get("MESSAGE").startsWith("[2] line\njava.lang.IllegalStateException: boom\n\tat "), f.get("MESSAGE"));
        assertEquals("4", f.get("PRIORITY"));
        assertEquals("cluster-master", f.get("SYSLOG_IDENTIFIER"));
        assertEquals("dev.clustermaster.worker.output", f.get("LOGGER"));
        assertEquals("cm-err-2-77", f.get("THREAD"));
        assertEquals("2", f.get("CM_CHILD_ID"));
        assertEquals("bob", f.get("USER_NAME"));
        assertFalse(f.containsKey("CODE_FUNC"));
        // the event's own priority wins over an MDC entry of the same name
        assertEquals(decode(JournalAppender.encode(f)).get("PRIORITY"), "4");
    }

    @Test
    void priorities() {
        assertEquals(3, JournalAppender.priority(Level.ERROR));
        assertEquals(4, JournalAppender.priority(Level.WARN));
        assertEquals(6, JournalAppender.priority(Level.INFO));
        assertEquals(7, JournalAppender.priority(Level.DEBUG));
        assertEquals(7, JournalAppender.priority(Level.TRACE));
    }

    @Test
    void aWorkerNamesItsSlotFromTheEnvironment() {
        LoggerContext ctx = context();
        LoggingEvent e = new LoggingEvent("x", ctx.getLogger("app"), Level.INFO, "hi", null, null);
        assertEquals("3", new JournalAppender(Map.of("CM_CHILD_ID", "3")).fields(e).get("CM_CHILD_ID"));
    }

    @Test
    void autoModeNeedsJournalStreamToBeOurOutput(@TempDir Path dir) throws IOException {
        try (Receiver journal = new Receiver(dir.resolve("socket"))) {
            // a JOURNAL_STREAM that is not our stdout (as in a silent-mode worker): stay on stdout
            JournalAppender a = new JournalAppender(Map.of("JOURNAL_STREAM", "1:1"));
            a.setContext(context());
            a.setSocket(journal.path.toString());
            a.start();
            assertFalse(a.isNative());
            a.stop();
            a = new JournalAppender(Map.of());
            a.setContext(context());
            a.setSocket(journal.path.toString());
            a.start();
            assertFalse(a.isNative());
            a.stop();
        }
    }

    // --- real sends to a datagram socket standing in for journald ---

    @Test
    void sendsEachEventAsOneDatagram(@TempDir Path dir) throws IOException {
        LoggerContext ctx = context();
        ListAppender<ILoggingEvent> stdout = startedList(ctx);
        try (Receiver journal = new Receiver(dir.resolve("socket"))) {
            JournalAppender a = started(ctx, journal.path, stdout);
            a.setIncludeCallerData(true);
            assertTrue(a.isNative());
            Logger log = logger(ctx, a);
            MDC.put("CM_CHILD_ID", "2");
            try {
                log.info("[2] hello from a worker");
            } finally {
                MDC.remove("CM_CHILD_ID");
            }
            log.error("it broke", new IllegalStateException("boom"));

            Map<String, String> first = decode(journal.receive());
            assertEquals("[2] hello from a worker", first.get("MESSAGE"));
            assertEquals("6", first.get("PRIORITY"));
            assertEquals("2", first.get("CM_CHILD_ID"));
            assertEquals("cluster-master", first.get("SYSLOG_IDENTIFIER"));
            assertEquals("JournalAppenderTest.java", first.get("CODE_FILE"));
            assertTrue(first.get("CODE_FUNC").endsWith("JournalAppenderTest.sendsEachEventAsOneDatagram"), first.get("CODE_FUNC"));

            Map<String, String> second = decode(journal.receive());
            assertEquals("3", second.get("PRIORITY"));
            assertTrue(second.get("MESSAGE").startsWith("it broke\njava.lang.IllegalStateException: boom"), second.get("MESSAGE"));
            assertFalse(second.containsKey("CM_CHILD_ID"));
            assertTrue(stdout.list.isEmpty(), "nothing should reach the fallback");
            a.stop();
        }
    }

    @Test
    void failedSendsFallBackToStdout(@TempDir Path dir) throws IOException {
        LoggerContext ctx = context();
        ListAppender<ILoggingEvent> stdout = startedList(ctx);
        try (Receiver journal = new Receiver(dir.resolve("socket"))) {
            JournalAppender a = started(ctx, journal.path, stdout);
            Logger log = logger(ctx, a);
            // far over an AF_UNIX datagram's limit (the send buffer, ~208 KiB by default): EMSGSIZE
            log.info("x".repeat(4 << 20));
            assertEquals(1, stdout.list.size());
            log.info("small again");
            assertEquals("small again", decode(journal.receive()).get("MESSAGE"));
            assertEquals(1, stdout.list.size());
            a.stop();
        }
        // the journal went away: the next event still gets out, on stdout
        LoggerContext ctx2 = context();
        ListAppender<ILoggingEvent> stdout2 = startedList(ctx2);
        Path gone = dir.resolve("gone");
        java.nio.file.Files.createFile(gone);  // exists, but no socket listens there
        JournalAppender a = started(ctx2, gone, stdout2);
        assertTrue(a.isNative());
        logger(ctx2, a).warn("nobody listens");
        assertEquals(List.of("nobody listens"), stdout2.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
        a.stop();
    }

    @Test
    void offModeAndMissingSocketUseStdout(@TempDir Path dir) {
        LoggerContext ctx = context();
        ListAppender<ILoggingEvent> stdout = startedList(ctx);
        JournalAppender a = new JournalAppender(Map.of());
        a.setContext(ctx);
        a.setMode("on");
        a.setSocket(dir.resolve("missing").toString());
        a.addAppender(stdout);
        a.start();
        assertFalse(a.isNative());
        logger(ctx, a).info("to stdout");
        assertEquals(1, stdout.list.size());
        a.stop();
    }

    private static JournalAppender started(LoggerContext ctx, Path socket, ListAppender<ILoggingEvent> stdout) {
        JournalAppender a = new JournalAppender(Map.of());
        a.setContext(ctx);
        a.setMode("on");
        a.setSocket(socket.toString());
        a.addAppender(stdout);
        a.start();
        return a;
    }

    private static ListAppender<ILoggingEvent> startedList(LoggerContext ctx) {
        ListAppender<ILoggingEvent> l = new ListAppender<>();
        l.setContext(ctx);
        l.start();
        return l;
    }

    private static Logger logger(LoggerContext ctx, JournalAppender a) {
        Logger log = ctx.getLogger("test");
        log.setAdditive(false);
        log.addAppender(a);
        return log;
    }

    /** A fresh context that sees the MDC the test writes through slf4j. */
    private static LoggerContext context() {
        LoggerContext ctx = new LoggerContext();
        ctx.setMDCAdapter(MDC.getMDCAdapter());
        return ctx;
    }

    /** Parses a native-protocol datagram, both forms, independently of the encoder. */
    static Map<String, String> decode(byte[] d) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        while (i < d.length) {
            int nl = i;
            int eq = -1;
            while (d[nl] != '\n') {
                if (d[nl] == '=' && eq < 0) {
                    eq = nl;
                }
                nl++;
            }
            if (eq >= 0) {
                out.put(new String(d, i, eq - i, StandardCharsets.US_ASCII), new String(d, eq + 1, nl - eq - 1, StandardCharsets.UTF_8));
                i = nl + 1;
            } else {
                String key = new String(d, i, nl - i, StandardCharsets.US_ASCII);
                long len = ByteBuffer.wrap(d, nl + 1, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                int start = nl + 9;
                out.put(key, new String(d, start, (int) len, StandardCharsets.UTF_8));
                assertEquals('\n', d[start + (int) len]);
                i = start + (int) len + 1;
            }
        }
        return out;
    }

    /** A bound AF_UNIX datagram socket: the journal's stand-in. */
    private static final class Receiver implements AutoCloseable {
        final Path path;
        private final int fd;

        Receiver(Path path) throws IOException {
            this.path = path;
            UnixAddress addr = UnixAddress.of(path.toString());
            fd = Libc.api().socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
            assertTrue(fd >= 0);
            assertEquals(0, Libc.api().bind(fd, addr.pointer, addr.length), () -> Libc.strerror(Libc.errno()));
            Reference.reachabilityFence(addr);
            Libc.setSocketTimeout(fd, Libc.SO_RCVTIMEO, 5000);
        }

        byte[] receive() {
            byte[] buf = new byte[1 << 16];
            long n = Libc.api().recv(fd, buf, buf.length, 0);
            assertTrue(n > 0, () -> "no datagram: " + Libc.strerror(Libc.errno()));
            return java.util.Arrays.copyOf(buf, (int) n);
        }

        @Override
        public void close() throws IOException {
            Libc.closeQuietly(fd);
            java.nio.file.Files.deleteIfExists(path);
        }
    }
}
