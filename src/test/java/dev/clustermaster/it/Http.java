package dev.clustermaster.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** One plain HTTP GET over loopback, with timeouts; and a free port for a test to listen on. */
public final class Http {
    private Http() {
    }

    /** The answer body of {@code GET path} if the status is 200; throws otherwise. */
    public static String get(int port, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int end = answer.indexOf("\r\n\r\n");
            if (!answer.startsWith("HTTP/1.") || end < 0 || !answer.split(" ", 3)[1].equals("200")) {
                throw new IOException("bad answer: " + answer);
            }
            return answer.substring(end + 4);
        }
    }

    /** The body, or null when the request failed (for Wait loops). */
    public static String tryGet(int port, String path) {
        try {
            return get(port, path);
        } catch (IOException e) {
            return null;
        }
    }

    public static int freePort() throws IOException {
        return freePorts(1);
    }

    /**
     * A base port with n free ports from it, checked by binding them, then released. Chosen below the kernel's
     * ephemeral range: a port from that range, once released, can be taken by any outgoing connection (a load
     * generator, a readiness probe) before the process under test binds it (a CI failure: "Address already in use").
     */
    public static int freePorts(int n) throws IOException {
        int[] ephemeral = ephemeralRange();
        int low = 10_000;
        int high = ephemeral[0] > low + 1_000 ? ephemeral[0] : 65_536; // else above the range
        if (high == 65_536) {
            low = ephemeral[1] + 1;
        }
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = low + RANDOM.nextInt(high - low - n);
            if (allBindable(base, n)) {
                return base;
            }
        }
        throw new IOException("no " + n + " consecutive free ports in " + low + ".." + (high - 1));
    }

    private static final java.util.Random RANDOM = new java.util.Random();

    private static boolean allBindable(int base, int n) throws IOException {
        java.util.List<ServerSocket> held = new java.util.ArrayList<>();
        try {
            for (int p = base; p < base + n; p++) {
                held.add(new ServerSocket(p, 1, InetAddress.getLoopbackAddress()));
            }
            return true;
        } catch (IOException e) {
            return false; // taken: try another base
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }

    /** net.ipv4.ip_local_port_range, or Linux's default. */
    private static int[] ephemeralRange() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                    .trim().split("\\s+");
            return new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
        } catch (IOException | RuntimeException e) {
            return new int[] {32_768, 60_999};
        }
    }
}
