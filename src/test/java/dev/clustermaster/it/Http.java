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
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
