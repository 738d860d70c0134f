package dev.clustermaster.it;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A bounded HTTP/1.1 load client for the demo worker: a few threads doing {@code GET /} over loopback, half of
 * them on keep-alive connections, half on a new connection per request. Every request has a timeout and every
 * failure is counted by kind (refused, reset, eof, timeout, status N). It never retries: a retried request
 * would hide exactly the failures the zero-downtime tests look for.
 *
 * <p>Each answer names the worker ("pid P worker N restart R"); the first time a pid answers is recorded, which
 * tells when a new worker really began serving.
 */
final class HttpLoad implements AutoCloseable {
    private static final Pattern BODY = Pattern.compile("pid (\\d+) worker (\\d+) restart (\\d+)");
    private static final int DEFAULT_TIMEOUT_MILLIS = 5_000;
    /** Paces each thread so the load leaves CPU to the workers on a 2-core machine and does not run out of ports. */
    private static final long PAUSE_MILLIS = 2;

    record Served(int pid, int slot, long firstSeenNanos) {
    }

    private final InetSocketAddress address;
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong maxLatencyNanos = new AtomicLong();
    private final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
    private final List<String> failureSamples = Collections.synchronizedList(new ArrayList<>());
    private final Map<Integer, Served> served = new ConcurrentHashMap<>();
    private volatile boolean running = true;

    private final int timeoutMillis;

    HttpLoad(int port, int threadCount) {
        this(port, threadCount, DEFAULT_TIMEOUT_MILLIS);
    }

    /** {@code timeoutMillis} bounds each connect and each answer (longer for tests where requests wait in a backlog). */
    HttpLoad(int port, int threadCount, int timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
        this.address = new InetSocketAddress("127.0.0.1", port);
        for (int i = 0; i < threadCount; i++) {
            boolean keepAlive = i % 2 == 0;
            Thread t = new Thread(() -> run(keepAlive), "http-load-" + i + (keepAlive ? "-keepalive" : "-close"));
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    int threads() {
        return threads.size();
    }

    long ok() {
        return ok.get();
    }

    /** The longest successful request so far, connect included. */
    long maxLatencyMillis() {
        return maxLatencyNanos.get() / 1_000_000;
    }

    long failed() {
        return failures.values().stream().mapToLong(AtomicLong::get).sum();
    }

    long failures(String kind) {
        AtomicLong n = failures.get(kind);
        return n == null ? 0 : n.get();
    }

    /** Failures by kind, with up to 20 samples: for assertion messages. */
    String failureReport() {
        Map<String, Long> byKind = new TreeMap<>();
        failures.forEach((k, v) -> byKind.put(k, v.get()));
        synchronized (failureSamples) {
            return "ok " + ok.get() + ", failed " + byKind + ", samples " + failureSamples;
        }
    }

    /** The pid's first answer, if it answered. */
    Served served(int pid) {
        return served.get(pid);
    }

    Map<Integer, Served> allServed() {
        return Map.copyOf(served);
    }

    /** Stops the threads after their current request (each is bounded by the request timeout). */
    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(3L * timeoutMillis);
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " did not stop");
            }
        }
    }

    private void run(boolean keepAlive) {
        Socket socket = null;
        while (running) {
            long start = System.nanoTime();
            try {
                if (socket == null) {
                    socket = new Socket();
                    socket.connect(address, timeoutMillis);
                    socket.setSoTimeout(timeoutMillis);
                    socket.setTcpNoDelay(true);
                }
                boolean open = exchange(socket, keepAlive);
                maxLatencyNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                if (!open) {
                    socket.close();
                    socket = null;
                }
            } catch (IOException e) {
                fail(kind(e), e.toString());
                closeQuietly(socket);
                socket = null;
            }
            Wait.pause(PAUSE_MILLIS);
        }
        closeQuietly(socket);
    }

    /** One request and its answer; returns whether the connection may be reused. */
    private boolean exchange(Socket socket, boolean keepAlive) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: " + (keepAlive ? "keep-alive" : "close")
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        String[] head = readHead(in).split("\r\n");
        String[] status = head[0].split(" ", 3);
        if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
            throw new IOException("bad status line: " + head[0]);
        }
        int length = -1;
        boolean serverCloses = status[0].equals("HTTP/1.0"); // 1.0 closes unless it says keep-alive
        for (int i = 1; i < head.length; i++) {
            String line = head[i].toLowerCase(Locale.ROOT);
            if (line.startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            } else if (line.startsWith("connection:")) {
                serverCloses = line.contains("close") || (serverCloses && !line.contains("keep-alive"));
            }
        }
        if (length < 0) {
            throw new IOException("no content-length");
        }
        byte[] bytes = in.readNBytes(length);
        if (bytes.length < length) {
            throw new EOFException("body cut short");
        }
        String body = new String(bytes, StandardCharsets.UTF_8);
        long now = System.nanoTime();
        if (!status[1].equals("200")) {
            fail("status " + status[1], head[0]);
        } else {
            ok.incrementAndGet();
            Matcher m = BODY.matcher(body);
            if (m.find()) {
                int pid = Integer.parseInt(m.group(1));
                served.putIfAbsent(pid, new Served(pid, Integer.parseInt(m.group(2)), now));
            }
        }
        return keepAlive && !serverCloses;
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(256);
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException(head.size() == 0 ? "closed before any answer" : "closed in the answer head");
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static String kind(IOException e) {
        if (e instanceof ConnectException) {
            return "refused";
        }
        if (e instanceof SocketTimeoutException) {
            return "timeout";
        }
        if (e instanceof EOFException) {
            return "eof";
        }
        if (e instanceof SocketException && String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("reset")) {
            return "reset";
        }
        return e.getClass().getSimpleName();
    }

    private void fail(String kind, String detail) {
        failures.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        if (failureSamples.size() < 20) {
            failureSamples.add(Thread.currentThread().getName() + ": " + detail);
        }
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // already broken
            }
        }
    }
}
