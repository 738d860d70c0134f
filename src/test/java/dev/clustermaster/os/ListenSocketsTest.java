package dev.clustermaster.os;

import dev.clustermaster.os.ListenSockets.Listener;
import dev.clustermaster.os.ListenSockets.Spec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ListenSocketsTest {

    @TempDir
    Path dir;

    private final List<Listener> bound = new ArrayList<>();

    @AfterEach
    void closeAll() {
        ListenSockets.close(bound);
    }

    @Test
    void parsesEveryAcceptedForm() {
        assertEquals(new Spec("tcp-8080", "tcp", "127.0.0.1", 8080, ""), ListenSockets.parse("tcp://127.0.0.1:8080"));
        assertEquals(new Spec("tcp-8080", "tcp", "::1", 8080, ""), ListenSockets.parse("tcp://[::1]:8080"));
        assertEquals(new Spec("tcp-8080", "tcp", "", 8080, ""), ListenSockets.parse("tcp://:8080"));
        assertEquals(new Spec("tcp-80", "tcp", "", 80, ""), ListenSockets.parse(" TCP://*:80 "));
        assertEquals(new Spec("tcp-9", "tcp", "localhost", 9, ""), ListenSockets.parse("tcp://localhost:9"));
        assertEquals(new Spec("unix-http.sock", "unix", "", 0, "/run/app/http.sock"), ListenSockets.parse("unix:/run/app/http.sock"));
        assertEquals(new Spec("unix-http.sock", "unix", "", 0, "/run/app/http.sock"), ListenSockets.parse("unix:///run/app/http.sock"));
        assertEquals(new Spec("unix-cm_web", "unix", "", 0, "@cm/web"), ListenSockets.parse("unix:@cm/web"));
        assertEquals(new Spec("web", "tcp", "", 8080, ""), ListenSockets.parse("web=tcp://:8080"));
        assertEquals("tcp://[::1]:8080", ListenSockets.parse("tcp://[::1]:8080").address());
        assertEquals("tcp://:8080", ListenSockets.parse("tcp://:8080").address());
        assertEquals("unix:/a.sock", ListenSockets.parse("x=unix:/a.sock").address());
    }

    @Test
    void rejectsBadSpecsWithTheReason() {
        Map<String, String> bad = Map.of(
                "http://127.0.0.1:80", "expected tcp://",
                "tcp://127.0.0.1", "missing :PORT",
                "tcp://127.0.0.1:http", "not a number",
                "tcp://127.0.0.1:70000", "out of range",
                "tcp://::1:8080", "needs brackets",
                "tcp://[::1]8080", "[ADDR]:PORT",
                "unix:", "empty socket path",
                "unix:/" + "x".repeat(120), "longer than 107",
                "bad name=tcp://:80", "listener name",
                "tcp://127.0.0.1:80/path", "number");
        bad.forEach((spec, reason) -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ListenSockets.parse(spec), spec);
            assertTrue(e.getMessage().contains(reason) && e.getMessage().contains(spec.trim()), e.getMessage());
        });
    }

    @Test
    void bindsTcpOnLoopbackWithAKernelChosenPort() throws Exception {
        Listener l = bind("tcp://127.0.0.1:0").get(0);
        assertTrue(l.spec().matches("tcp://127\\.0\\.0\\.1:\\d+"), l.spec());
        assertEquals("tcp-0", l.name());
        assertTrue(cloexec(l.fd()), "listener fds must be FD_CLOEXEC in the master");
        int port = Integer.parseInt(l.spec().substring(l.spec().lastIndexOf(':') + 1));
        assertTrue(port > 0);
        // The kernel completes the handshake from the backlog even though nobody accepts yet.
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            assertTrue(s.isConnected());
        }
        assertEquals(l.spec(), ListenSockets.describe(l.fd()));
    }

    @Test
    void everyAddressIsDualStack() throws Exception {
        Listener l = bind("tcp://:0").get(0);
        int port = Integer.parseInt(l.spec().substring(l.spec().lastIndexOf(':') + 1));
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        }
        if (ipv6Loopback()) {
            assertEquals("tcp://[::]:" + port, l.spec());
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("::1", port), 2000);
            }
        }
    }

    @Test
    void bindsIpv6Loopback() throws Exception {
        assumeTrue(ipv6Loopback(), "no IPv6 loopback here");
        Listener l = bind("tcp://[::1]:0").get(0);
        assertTrue(l.spec().matches("tcp://\\[::1]:\\d+"), l.spec());
    }

    @Test
    void bindsUnixSocketsAndReplacesOnlyStaleFiles() throws Exception {
        Path path = dir.resolve("http.sock");
        Listener l = bind("web=unix:" + path).get(0);
        assertEquals(new Listener("web", "unix:" + path, l.fd()), l);
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            assertTrue(c.isConnected());
        }
        assertEquals("unix:" + path, ListenSockets.describe(l.fd()));
        // connecting needs write permission: the umask's 0755/0750 would keep out a proxy in the master's group
        assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(path)));

        IOException inUse = assertThrows(IOException.class, () -> bind("unix:" + path));
        assertTrue(inUse.getMessage().startsWith("cannot listen on unix:" + path + ": Address already in use"), inUse.getMessage());

        ListenSockets.close(List.of(l));
        bound.clear();
        assertFalse(Files.exists(path), "close removes the socket file");

        // A socket file nobody listens on any more (a crashed master) is replaced.
        try (ServerSocketChannel dead = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(path));
        }
        assertTrue(Files.exists(path));
        assertEquals("unix:" + path, bind("unix:" + path).get(0).spec());

        Path file = dir.resolve("plain.txt");
        Files.writeString(file, "keep me");
        IOException notSocket = assertThrows(IOException.class, () -> bind("unix:" + file));
        assertTrue(notSocket.getMessage().contains("not a socket"), notSocket.getMessage());
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void bindsAbstractUnixSockets() throws Exception {
        String name = "@cm-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Listener l = bind("unix:" + name).get(0);
        assertEquals("unix:" + name, ListenSockets.describe(l.fd()));
    }

    @Test
    void explainsWhyItCannotListenAndReleasesWhatItBound() throws Exception {
        Listener first = bind("tcp://127.0.0.1:0").get(0);
        int port = Integer.parseInt(first.spec().substring(first.spec().lastIndexOf(':') + 1));
        Path sock = dir.resolve("a.sock");
        IOException e = assertThrows(IOException.class,
                () -> ListenSockets.bind(List.of("unix:" + sock, "tcp://127.0.0.1:" + port)));
        assertEquals("cannot listen on tcp://127.0.0.1:" + port + ": Address already in use; another process listens there"
                + " (ss -ltnp 'sport = :" + port + "'): stop it or change listen=", e.getMessage());
        assertFalse(Files.exists(sock), "the unix socket bound before the failure was released");

        Path noDir = dir.resolve("missing/http.sock");
        IOException missing = assertThrows(IOException.class, () -> ListenSockets.bind(List.of("unix:" + noDir)));
        assertEquals("cannot listen on unix:" + noDir + ": No such file or directory; its directory does not exist: create it"
                + " or change listen=", missing.getMessage());

        IOException notLocal = assertThrows(IOException.class, () -> ListenSockets.bind(List.of("tcp://192.0.2.1:0")));
        assertEquals("cannot listen on tcp://192.0.2.1:0: Cannot assign requested address; no interface of this host has"
                + " that address: fix listen=", notLocal.getMessage());
    }

    @Test
    void duplicateNamesGetASuffixAndBadSpecsFailBeforeBinding() throws Exception {
        List<Listener> two = bind("tcp://127.0.0.1:0", "tcp://127.0.0.1:0");
        assertEquals(List.of("tcp-0", "tcp-0-2"), two.stream().map(Listener::name).toList());
        Path sock = dir.resolve("never.sock");
        assertThrows(IllegalArgumentException.class, () -> ListenSockets.bind(List.of("unix:" + sock, "tcp://nope")));
        assertFalse(Files.exists(sock));
    }

    @Test
    void reusePortModeTellsWorkersWhatToBind() {
        assertEquals(Map.of("PORT", "8080", "HOST", "127.0.0.1", "CM_LISTEN", "tcp://127.0.0.1:8080", "CM_REUSEPORT", "1"),
                ListenSockets.reusePortEnv(List.of("tcp://127.0.0.1:8080")));
        assertEquals(Map.of("PORT", "8080", "CM_LISTEN", "tcp://:8080", "CM_REUSEPORT", "1"),
                ListenSockets.reusePortEnv(List.of("tcp://:8080")));
        assertThrows(IllegalArgumentException.class, () -> ListenSockets.reusePortEnv(List.of("unix:/x.sock")));
        assertThrows(IllegalArgumentException.class, () -> ListenSockets.reusePortEnv(List.of("tcp://:0")));
        assertThrows(IllegalArgumentException.class, () -> ListenSockets.reusePortEnv(List.of("tcp://:1", "tcp://:2")));
    }

    @Test
    void compressesIpv6LikeRfc5952() throws Exception {
        assertEquals("::", ListenSockets.compressIpv6(new byte[16]));
        assertEquals("::1", ListenSockets.compressIpv6(InetAddress.getByName("::1").getAddress()));
        assertEquals("fe80::1:2", ListenSockets.compressIpv6(InetAddress.getByName("fe80:0:0:0:0:0:1:2").getAddress()));
        assertEquals("2001:db8::1:0:0:1", ListenSockets.compressIpv6(InetAddress.getByName("2001:db8:0:0:1:0:0:1").getAddress()));
        assertEquals("1:0:2:3:4:5:6:7", ListenSockets.compressIpv6(InetAddress.getByName("1:0:2:3:4:5:6:7").getAddress()));
    }

    private List<Listener> bind(String... specs) throws IOException {
        List<Listener> l = ListenSockets.bind(List.of(specs));
        bound.addAll(l);
        return l;
    }

    static boolean cloexec(int fd) {
        int flags = Libc.api().fcntl(fd, Libc.F_GETFD, 0);
        return flags >= 0 && (flags & Libc.FD_CLOEXEC) != 0;
    }

    private static boolean ipv6Loopback() throws IOException {
        NetworkInterface lo = NetworkInterface.getByName("lo");
        return lo != null && lo.inetAddresses().anyMatch(a -> a instanceof Inet6Address && a.isLoopbackAddress());
    }
}
