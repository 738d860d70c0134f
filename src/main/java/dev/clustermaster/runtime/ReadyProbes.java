package dev.clustermaster.runtime;

import dev.clustermaster.config.Readiness;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Readiness probes of workers' own ports, on one daemon thread so the event loop never waits on a socket.
 * A probe retries until it succeeds (then reports once) or is cancelled; the core's ready.timeout decides
 * when a worker that never passes has failed.
 */
final class ReadyProbes implements AutoCloseable {
    static final long INTERVAL_MILLIS = 250;
    private static final int CONNECT_TIMEOUT_MILLIS = 1_000;
    private static final int READ_TIMEOUT_MILLIS = 2_000;

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cm-ready-probe");
        t.setDaemon(true);
        return t;
    });

    /** Starts probing; {@code onReady} runs once, on the probe thread. Close the result to stop. */
    AutoCloseable start(Readiness.Probe probe, String host, int port, Runnable onReady) {
        AtomicBoolean done = new AtomicBoolean();
        ScheduledFuture<?>[] task = new ScheduledFuture<?>[1];
        task[0] = scheduler.scheduleWithFixedDelay(() -> {
            if (!done.get() && passes(probe, host, port) && done.compareAndSet(false, true)) {
                onReady.run();
                if (task[0] != null) {
                    task[0].cancel(false);
                }
            }
        }, INTERVAL_MILLIS, INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        return () -> {
            done.set(true);
            task[0].cancel(false);
        };
    }

    static boolean passes(Readiness.Probe probe, String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MILLIS);
            if (!probe.http()) {
                return true;
            }
            s.setSoTimeout(READ_TIMEOUT_MILLIS);
            s.getOutputStream().write(("GET " + probe.path() + " HTTP/1.1\r\nHost: " + host + ":" + port
                    + "\r\nUser-Agent: cluster-master-probe\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String status = statusLine(s.getInputStream());
            String[] parts = status.split(" ", 3);
            return parts.length >= 2 && parts[0].startsWith("HTTP/") && (parts[1].startsWith("2") || parts[1].startsWith("3"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static String statusLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b >= 0 && b != '\n' && line.length() < 256; b = in.read()) {
            line.append((char) b);
        }
        return line.toString().trim();
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
