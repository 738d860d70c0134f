package dev.clustermaster.demo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A small HTTP/1.1 server on a given listening channel, with a graceful drain.
 *
 * <p>{@code GET /} answers the fixed body; {@code GET /slow?ms=N} answers it after N ms (to have requests in
 * flight during a restart). Draining stops accepting without closing a shared listener (the queue of an
 * inherited socket then goes to the other workers), answers requests in progress with {@code Connection: close},
 * and closes keep-alive connections once they sit idle.
 */
final class DemoHttpServer {

    private static final int MAX_HEADER_BYTES = 16 * 1024;
    private static final int IDLE_POLL_MILLIS = 250;
    private static final long KEEP_ALIVE_MILLIS = 60_000;
    /**
     * While draining, a keep-alive connection is closed once idle this long: its client gets a request in first
     * (answered with Connection: close) unless it has paused; closing at the first 250 ms poll raced with clients
     * descheduled for that long on a loaded machine, whose next request then met a closed socket.
     */
    private static final long DRAIN_IDLE_MILLIS = 1_000;
    private static final long MAX_SLOW_MILLIS = 30_000;

    private final ServerSocketChannel server;
    private final boolean ownsListener;
    private final byte[] body;
    private final ExecutorService connections = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "demo-http-conn");
        t.setDaemon(true);
        return t;
    });
    private final Object activeLock = new Object();
    private int active;
    private volatile boolean draining;
    private Selector selector;
    private Thread acceptor;

    /** @param ownsListener true if this server bound the socket itself and may close it on drain */
    DemoHttpServer(ServerSocketChannel server, boolean ownsListener, String body) {
        this.server = server;
        this.ownsListener = ownsListener;
        this.body = body.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Starts accepting. Non-blocking accept behind a selector, so that draining can stop it without closing the
     * channel. (Switching the channel to non-blocking sets O_NONBLOCK on the socket, which is shared with the
     * other workers; JDK workers do not mind, their blocking accept waits on EAGAIN.)
     */
    void start() throws IOException {
        selector = Selector.open();
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        acceptor = new Thread(this::acceptLoop, "demo-http-accept");
        acceptor.start();
    }

    /** Stops accepting, lets every open connection finish, waits at most {@code timeoutMillis}; true if all finished. */
    boolean drain(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        draining = true;
        selector.wakeup();
        acceptor.join(Math.max(1, timeoutMillis));
        if (ownsListener) {
            closeQuietly(server);
        }
        synchronized (activeLock) {
            while (active > 0) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                activeLock.wait(left);
            }
        }
        return true;
    }

    private void acceptLoop() {
        try (Selector s = selector) {
            while (!draining) {
                s.select();
                s.selectedKeys().clear();
                SocketChannel client;
                while (!draining && (client = server.accept()) != null) {
                    enter();
                    SocketChannel c = client;
                    connections.execute(() -> serve(c));
                }
            }
        } catch (IOException e) {
            if (!draining) {
                System.err.println("demo: accept failed: " + e);
            }
        }
    }

    private void serve(SocketChannel client) {
        try (client) {
            client.configureBlocking(true);
            client.socket().setSoTimeout(IDLE_POLL_MILLIS);
            client.socket().setTcpNoDelay(true);
            InputStream in = client.socket().getInputStream();
            OutputStream out = client.socket().getOutputStream();
            boolean keepAlive = true;
            while (keepAlive) {
                Request request = readRequest(in);
                if (request == null) {
                    return;
                }
                keepAlive = respond(out, request);
            }
        } catch (IOException e) {
            // The client went away; nothing to answer.
        } finally {
            leave();
        }
    }

    private record Request(String method, String target, boolean keepAlive) {
    }

    /** Null when the connection should close: EOF, or idle while draining or beyond the keep-alive time. */
    private Request readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(512);
        long idleSince = System.nanoTime();
        int matched = 0;
        while (matched < 4) {
            int b;
            try {
                b = in.read();
            } catch (SocketTimeoutException e) {
                boolean idle = head.size() == 0;
                long idleMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - idleSince);
                if (idle && idleMillis > (draining ? DRAIN_IDLE_MILLIS : KEEP_ALIVE_MILLIS)) {
                    return null;
                }
                continue;
            }
            if (b < 0) {
                return null;
            }
            head.write(b);
            if (head.size() > MAX_HEADER_BYTES) {
                throw new IOException("request head too large");
            }
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String[] first = lines[0].split(" ");
        if (first.length != 3) {
            throw new IOException("bad request line");
        }
        boolean http11 = first[2].equals("HTTP/1.1");
        boolean keepAlive = http11;
        long contentLength = 0;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = lines[i].substring(colon + 1).trim().toLowerCase(Locale.ROOT);
            if (name.equals("connection")) {
                keepAlive = value.contains("keep-alive") || (http11 && !value.contains("close"));
            } else if (name.equals("content-length")) {
                contentLength = Long.parseLong(value);
            }
        }
        in.skipNBytes(contentLength);
        return new Request(first[0], first[1], keepAlive);
    }

    /** @return whether the connection stays open: decided after the work, so a drain that began meanwhile closes it */
    private boolean respond(OutputStream out, Request request) throws IOException {
        int status = 200;
        byte[] payload = body;
        if (!request.method.equals("GET") && !request.method.equals("HEAD")) {
            status = 405;
            payload = "method not allowed\n".getBytes(StandardCharsets.US_ASCII);
        } else if (request.target.startsWith("/slow")) {
            sleepQuietly(slowMillis(request.target));
        } else if (!request.target.equals("/")) {
            status = 404;
            payload = "not found\n".getBytes(StandardCharsets.US_ASCII);
        }
        boolean keepAlive = request.keepAlive && !draining;
        String head = "HTTP/1.1 " + status + (status == 200 ? " OK" : status == 404 ? " Not Found" : " Method Not Allowed")
                + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + payload.length
                + "\r\nConnection: " + (keepAlive ? "keep-alive" : "close") + "\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        if (!request.method.equals("HEAD")) {
            out.write(payload);
        }
        out.flush();
        return keepAlive;
    }

    private static long slowMillis(String target) {
        int at = target.indexOf("ms=");
        if (at < 0) {
            return 1000;
        }
        int end = at + 3;
        while (end < target.length() && Character.isDigit(target.charAt(end))) {
            end++;
        }
        try {
            return Math.min(MAX_SLOW_MILLIS, Long.parseLong(target.substring(at + 3, end)));
        } catch (NumberFormatException e) {
            return 1000;
        }
    }

    private void enter() {
        synchronized (activeLock) {
            active++;
        }
    }

    private void leave() {
        synchronized (activeLock) {
            active--;
            activeLock.notifyAll();
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(ServerSocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // Exiting anyway.
        }
    }
}
