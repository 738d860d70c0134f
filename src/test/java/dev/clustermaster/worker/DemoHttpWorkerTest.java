package dev.clustermaster.worker;

import dev.clustermaster.demo.DemoHttpWorker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo worker standalone (PORT fallback) over loopback; inherited listeners are covered by ZeroDowntimeIT. */
class DemoHttpWorkerTest {

    private static final long WAIT_SECONDS = 20;

    private Process demo;
    private final BlockingQueue<String> output = new LinkedBlockingQueue<>();

    @AfterEach
    void stop() throws InterruptedException {
        if (demo != null) {
            demo.destroyForcibly().waitFor(WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    @Test
    void servesItsIdentityAndDrainsOnSigterm() throws Exception {
        int port = start();
        String body = "pid " + demo.pid() + " worker 0 restart 0\n";

        try (Socket keepAlive = connect(port)) {
            assertEquals(body, get(keepAlive, "/", true).body);
            assertEquals(body, get(keepAlive, "/", true).body, "second request on the same connection");
            Response missing = get(keepAlive, "/nope", true);
            assertEquals(404, missing.status);

            // A slow request on a connection the server has certainly accepted, then SIGTERM while it runs.
            send(keepAlive, "/slow?ms=1500", true);
            demo.destroy();
            Response slow = read(keepAlive);
            assertEquals(200, slow.status);
            assertEquals(body, slow.body);
            assertTrue(slow.head.contains("Connection: close"), slow.head);
            assertEquals(-1, keepAlive.getInputStream().read(), "closed after the last answer");
        }
        assertTrue(demo.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "demo did not exit after draining");
        assertEquals(0, demo.exitValue(), String.join("\n", output));
        assertThrows(ConnectException.class, () -> connect(port).close());
    }

    /** Starts the demo on a kernel-chosen port and returns that port, read from its "serving on" line. */
    private int start() throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", ChildJvm.classPath(), DemoHttpWorker.class.getName())
                .redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("CM_") || k.startsWith("LISTEN_") || k.equals("NOTIFY_SOCKET"));
        pb.environment().put("PORT", "0");
        demo = pb.start();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.add(line);
                }
            } catch (IOException e) {
                // process gone
            }
        }, "demo-output");
        pump.setDaemon(true);
        pump.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (System.nanoTime() < deadline) {
            String line = output.poll(100, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith("demo: serving on ")) {
                String address = line.split(" ")[3];
                return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
            }
        }
        throw new AssertionError("demo did not start serving within " + WAIT_SECONDS + " s: " + output);
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        return s;
    }

    private record Response(int status, String head, String body) {
    }

    private static Response get(Socket s, String path, boolean keepAlive) throws IOException {
        send(s, path, keepAlive);
        return read(s);
    }

    private static void send(Socket s, String path, boolean keepAlive) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: test\r\n" + (keepAlive ? "" : "Connection: close\r\n") + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static Response read(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            assertTrue(b >= 0, () -> "connection closed inside a response head: " + head);
            head.append((char) b);
        }
        String text = head.toString();
        int length = 0;
        for (String line : text.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        byte[] body = in.readNBytes(length);
        assertNotNull(body);
        return new Response(Integer.parseInt(text.split(" ")[1]), text, new String(body, StandardCharsets.UTF_8));
    }
}
