package dev.clustermaster.runtime;

import dev.clustermaster.config.Readiness;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReadyProbesTest {
    private static final Readiness.Probe TCP = new Readiness.Probe("tcp", "127.0.0.1", "$PORT", "/");
    private static final Readiness.Probe HTTP = new Readiness.Probe("http", "127.0.0.1", "$PORT", "/health");

    /** A one-thread HTTP server that answers every request with the given status line. */
    private static ServerSocket answering(String status) throws IOException {
        ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    InputStream in = s.getInputStream();
                    int matched = 0;
                    while (matched < 4) {
                        int b = in.read();
                        if (b < 0) {
                            break;
                        }
                        matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
                    }
                    s.getOutputStream().write((status + "\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // closed
                }
            }
        }, "fake-http");
        t.setDaemon(true);
        t.start();
        return server;
    }

    @Test
    void tcpPassesWhenSomethingListens() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertTrue(ReadyProbes.passes(TCP, "127.0.0.1", s.getLocalPort()));
            closedPort = s.getLocalPort();
        }
        assertFalse(ReadyProbes.passes(TCP, "127.0.0.1", closedPort));
    }

    @Test
    void httpPassesOn2xxAnd3xxOnly() throws IOException {
        try (ServerSocket ok = answering("HTTP/1.1 204 No Content"); ServerSocket moved = answering("HTTP/1.0 302 Found");
             ServerSocket down = answering("HTTP/1.1 503 Service Unavailable"); ServerSocket junk = answering("SSH-2.0-x")) {
            assertTrue(ReadyProbes.passes(HTTP, "127.0.0.1", ok.getLocalPort()));
            assertTrue(ReadyProbes.passes(HTTP, "127.0.0.1", moved.getLocalPort()));
            assertFalse(ReadyProbes.passes(HTTP, "127.0.0.1", down.getLocalPort()));
            assertFalse(ReadyProbes.passes(HTTP, "127.0.0.1", junk.getLocalPort()));
        }
    }

    @Test
    void aProbeReportsOnceWhenTheServerComesUpAndStopsWhenClosed() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (ReadyProbes probes = new ReadyProbes()) {
            CountDownLatch ready = new CountDownLatch(1);
            AutoCloseable probe = probes.start(TCP, "127.0.0.1", port, ready::countDown);
            assertFalse(ready.await(3 * ReadyProbes.INTERVAL_MILLIS, TimeUnit.MILLISECONDS), "nothing listens yet");
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertTrue(ready.await(30, TimeUnit.SECONDS), "reported once the port answers");
            }
            probe.close();
        }
    }
}
