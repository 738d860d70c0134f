package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SdNotifyTest {
    @Test
    void parsesKeyValueLines() {
        assertEquals(Map.of("READY", "1", "STATUS", "x=y"), SdNotify.parse("READY=1\nSTATUS=x=y"));
        assertEquals(Map.of("A", ""), SdNotify.parse("A=\nnoequals\n=v\n\n"));
        assertEquals(Map.of(), SdNotify.parse(""));
        assertEquals(Map.of(), SdNotify.parse(null));
    }

    @Test
    void disabledWithoutSocket() {
        assertFalse(SdNotify.to(null).enabled());
        assertFalse(SdNotify.to("").send("READY=1"));
        assertEquals(System.getenv("NOTIFY_SOCKET") != null && !System.getenv("NOTIFY_SOCKET").isEmpty(),
                SdNotify.fromEnvironment().enabled());
    }

    @Test
    void failuresReturnFalseInsteadOfThrowing() {
        assertFalse(SdNotify.to("/nonexistent/dir/notify.sock").send("READY=1"));
        assertFalse(SdNotify.to("/" + "x".repeat(200)).send("READY=1"));
    }

    @Test
    void sendsToTheAbstractNamespace() throws Exception {
        String name = "@cluster-master-test-" + ProcessHandle.current().pid();
        int fd = Libc.api().socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        try {
            UnixAddress addr = UnixAddress.of(name);
            assertEquals(0, Libc.api().bind(fd, addr.pointer, addr.length), "bind " + name);
            Libc.setSocketTimeout(fd, Libc.SO_RCVTIMEO, 5000);
            SdNotify n = SdNotify.to(name);
            assertTrue(n.enabled());
            assertTrue(n.send("READY=1\nMONOTONIC_USEC=" + Monotonic.nowMicros()));
            byte[] buf = new byte[256];
            long got = Libc.api().recv(fd, buf, buf.length, 0);
            assertTrue(got > 0, "received");
            Map<String, String> msg = SdNotify.parse(new String(buf, 0, (int) got, StandardCharsets.UTF_8));
            assertEquals("1", msg.get("READY"));
            assertTrue(Long.parseLong(msg.get("MONOTONIC_USEC")) > 0);
        } finally {
            Libc.closeQuietly(fd);
        }
    }

    @TempDir
    Path dir;

    /** FDSTORE=1 carries the socket itself: the receiver's copy keeps it listening after ours is closed. */
    @Test
    void storeFdsPassesTheSocketAsScmRights() throws Exception {
        List<ListenSockets.Listener> bound = ListenSockets.bind(List.of("tcp://127.0.0.1:0", "unix:" + dir.resolve("a.sock")));
        try (NotifyReceiver systemd = NotifyReceiver.bind(dir.resolve("notify.sock"))) {
            SdNotify n = SdNotify.to(systemd.path());
            assertTrue(n.storeFds("cm-listen.web", bound.get(0).fd(), bound.get(1).fd()));
            NotifyReceiver.Message m = systemd.await("FDSTORE", Duration.ofSeconds(10), x -> x.get("FDSTORE") != null);
            assertEquals(Map.of("FDSTORE", "1", "FDNAME", "cm-listen.web"), m.fields());
            assertEquals(2, m.fds().length, "both fds attached");
            for (int i = 0; i < 2; i++) {
                assertNotEquals(bound.get(i).fd(), m.fds()[i], "a duplicate, not our number");
                assertEquals(bound.get(i).spec(), ListenSockets.describe(m.fds()[i]));
                assertTrue(Libc.isCloexec(m.fds()[i]), "received with MSG_CMSG_CLOEXEC");
            }
            String tcp = bound.get(0).spec();
            int port = Integer.parseInt(tcp.substring(tcp.lastIndexOf(':') + 1));
            ListenSockets.close(List.of(bound.get(0)));
            try (SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
                assertTrue(c.isConnected(), "the received copy still listens on " + tcp);
            }
        } finally {
            ListenSockets.close(bound.subList(1, 2));
        }
    }

    @Test
    void removeStoredFdsAndPlainMessagesCarryNoFds() throws Exception {
        try (NotifyReceiver systemd = NotifyReceiver.bind(dir.resolve("notify.sock"))) {
            SdNotify n = SdNotify.to(systemd.path());
            assertTrue(n.removeStoredFds("cm-listen.web"));
            assertTrue(n.send("READY=1"));
            NotifyReceiver.Message remove = systemd.await("FDSTOREREMOVE", Duration.ofSeconds(10), x -> x.get("FDSTOREREMOVE") != null);
            assertEquals(Map.of("FDSTOREREMOVE", "1", "FDNAME", "cm-listen.web"), remove.fields());
            assertEquals(0, remove.fds().length);
            assertEquals(0, systemd.await("READY", Duration.ofSeconds(10), x -> x.get("READY") != null).fds().length);
        }
    }

    @Test
    void fdNamesFollowSystemdsRule() {
        assertTrue(SdNotify.isValidFdName("cm-listen.tcp-8080"));
        assertFalse(SdNotify.isValidFdName("a:b"));
        assertFalse(SdNotify.isValidFdName(""));
        assertFalse(SdNotify.isValidFdName("x".repeat(256)));
        assertFalse(SdNotify.isValidFdName("tab\there"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SdNotify.to("/x").storeFds("a:b", 0));
        assertTrue(e.getMessage().contains("no ':'"), e.getMessage());
    }

    @Test
    void sendingToNobodyFailsQuietlyAndKeepsOurFds() throws IOException {
        List<ListenSockets.Listener> bound = ListenSockets.bind(List.of("tcp://127.0.0.1:0"));
        try {
            assertFalse(SdNotify.to(dir.resolve("nobody.sock").toString()).storeFds("x", bound.get(0).fd()));
            assertEquals(bound.get(0).spec(), ListenSockets.describe(bound.get(0).fd()));
        } finally {
            ListenSockets.close(bound);
        }
    }

    /** An upgraded master reports to the old master first; redirect replays its fd-store messages and state to systemd. */
    @Test
    void aHandoverNotifierReplaysTheStoreAndTheLastStateAfterRedirect() throws Exception {
        List<ListenSockets.Listener> bound = ListenSockets.bind(List.of("tcp://127.0.0.1:0"));
        try (NotifyReceiver old = NotifyReceiver.bind(dir.resolve("old.sock"));
             NotifyReceiver systemd = NotifyReceiver.bind(dir.resolve("systemd.sock"))) {
            SdNotify n = SdNotify.handover(old.path());
            assertTrue(n.storeFds("cm-listen.web", bound.get(0).fd()));
            assertTrue(n.send("READY=1\nSTATUS=2/2 ready"));
            n.send("WATCHDOG=1");
            old.await("READY at the old master", Duration.ofSeconds(10), m -> "1".equals(m.get("READY")));
            n.redirect(systemd.path());
            NotifyReceiver.Message stored = systemd.await("FDSTORE", Duration.ofSeconds(10), m -> m.get("FDSTORE") != null);
            assertEquals(bound.get(0).spec(), ListenSockets.describe(stored.fds()[0]));
            NotifyReceiver.Message state = systemd.await("the last state", Duration.ofSeconds(10), m -> m.get("READY") != null);
            assertEquals("2/2 ready", state.get("STATUS"));
            assertTrue(systemd.seen().stream().noneMatch(m -> m.get("WATCHDOG") != null), "pings are not replayed");
            n.redirect(null);
            assertFalse(n.send("STOPPING=1"), "redirected to nowhere");
        } finally {
            ListenSockets.close(bound);
        }
    }
}
