package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotifyListenerTest {
    @TempDir
    Path dir;

    private final Kids kids = new Kids();
    private final BlockingQueue<Map<String, String>> messages = new LinkedBlockingQueue<>();

    @AfterEach
    void cleanup() {
        kids.close();
    }

    @Test
    void receivesParsedDatagramsAndCleansUp() throws Exception {
        Path path = dir.resolve("w1.sock");
        Files.writeString(path, "stale");   // a leftover from a crashed master must not block the bind
        NotifyListener l = NotifyListener.bind(path, messages::add);
        try {
            assertEquals(path.toAbsolutePath(), l.path());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)));
            assertTrue(SdNotify.to(path.toString()).send("READY=1\nSTATUS=4/4 ready\n"));
            assertEquals(Map.of("READY", "1", "STATUS", "4/4 ready"), messages.poll(5, TimeUnit.SECONDS));
        } finally {
            l.close();
        }
        assertFalse(Files.exists(path), "unlinked on close");
        assertFalse(SdNotify.to(path.toString()).send("READY=1"), "nobody listens any more");
        l.close();
    }

    @Test
    void systemdNotifyFromAChildIsReceived() throws Exception {
        assumeTrue(List.of("/usr/bin/systemd-notify", "/bin/systemd-notify").stream()
                .anyMatch(p -> Files.isExecutable(Path.of(p))), "systemd-notify not installed");
        Path path = dir.resolve("w2.sock");
        try (NotifyListener l = NotifyListener.bind(path, messages::add)) {
            // systemd-notify (v246+) also sends BARRIER=1 with an fd and waits for it to close: our recv without
            // a control buffer drops that fd at once, so it returns promptly.
            int pid = kids.spawner.spawn(List.of("systemd-notify", "--ready", "--status=worker up"),
                    Map.of("NOTIFY_SOCKET", l.path().toString(), "PATH", System.getenv("PATH")), Map.of());
            kids.forget(pid);
            Map<String, String> first = messages.poll(5, TimeUnit.SECONDS);
            assertEquals("1", first.get("READY"));
            assertEquals("worker up", first.get("STATUS"));
            Kids.await("systemd-notify exits", () -> !new Reaper().reap(List.of(pid)).isEmpty());
        }
    }

    @Test
    void oversizedDatagramsAreDroppedAndMalformedLinesIgnored() throws Exception {
        Path path = dir.resolve("w3.sock");
        try (NotifyListener l = NotifyListener.bind(path, messages::add)) {
            SdNotify n = SdNotify.to(l.path().toString());
            assertTrue(n.send("STATUS=" + "x".repeat(NotifyListener.MAX_DATAGRAM)));
            assertTrue(n.send("garbage\n=novalue\nWATCHDOG=1"));
            assertEquals(Map.of("WATCHDOG", "1"), messages.poll(5, TimeUnit.SECONDS));
            assertNull(messages.poll(50, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void tooLongPathIsAClearError() {
        Path path = dir.resolve("x".repeat(120) + ".sock");
        IOException e = assertThrows(IOException.class, () -> NotifyListener.bind(path, messages::add));
        assertTrue(e.getMessage().contains("longer than"), e.getMessage());
    }
}
