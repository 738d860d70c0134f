package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
