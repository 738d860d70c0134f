package dev.clustermaster.demo;

import java.io.ByteArrayInputStream;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A small HTTP/1.1 server on a listening channel, with a graceful drain.
 *
 * <p>{@code GET /} answers the body; {@code GET /slow?ms=N} answers it after N ms (to have requests in
 * flight during a restart). Draining stops accepting without closing a shared listener (the queue of an
 * inherited socket then goes to the other workers), answers requests in progress with {@code Connection: close},
 * and closes keep-alive connections once they sit idle.
 *
 * <p>Built for a warm spare: everything is made and warmed before the listener is known ({@link #warmUp()},
 * {@link #start}), and the accept thread itself takes the listener, so that a spare held there only has to
 * start accepting when it is promoted.
 */
final class DemoHttpServer {

    /** Gives the accept thread its listener; in a warm spare this is where it is held until promoted. */
    interface ListenerSource {
        Listener take() throws IOException;
    }

    /** @param owned true if this server bound the socket itself and may close it on drain */
    record Listener(ServerSocketChannel channel, boolean owned) {
    }

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
    /** Requests and connections run by {@link #warmUp()}: enough for the JIT to compile their paths. */
    private static final int WARM_UP_ROUNDS = 2_000;
    /** Connection threads started ahead (they never time out), so a first connection does not wait for a new thread. */
    private static final int READY_THREADS = 2;

    private final Supplier<String> body;
    private volatile byte[] bodyBytes;
    private final ThreadPoolExecutor connections = new ThreadPoolExecutor(READY_THREADS, Integer.MAX_VALUE,
            60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
        Thread t = new Thread(r, "demo-http-conn");
        t.setDaemon(true);
        return t;
    });
    private final Object activeLock = new Object();
    private final CompletableFuture<Listener> listener = new CompletableFuture<>();
    private int active;
    private volatile boolean draining;
    private Selector selector;
    private Thread acceptor;

    /** @param body the answer to GET /, asked for once the listener is taken (a spare's slot is known only then) */
    DemoHttpServer(Supplier<String> body) {
        this.body = body;
        this.bodyBytes = body.get().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Runs the request path (parsing, answering, a connection's socket set-up, a selector) in-process until the JIT
     * compiled it, so that a warm spare's first requests after its promotion neither load classes nor run
     * interpreted. Takes a fraction of a second: for a spare, not for a worker that should serve as soon as it can.
     */
    void warmUp() throws IOException {
        byte[] request = "GET / HTTP/1.1\r\nHost: warm-up\r\nUser-Agent: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] last = "GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < WARM_UP_ROUNDS; i++) {
            converse(new ByteArrayInputStream(i % 2 == 0 ? request : last), OutputStream.nullOutputStream());
        }
        try (SocketChannel unconnected = SocketChannel.open()) {
            configure(unconnected);
        }
        try (Selector s = Selector.open(); ServerSocketChannel unbound = ServerSocketChannel.open()) {
            unbound.configureBlocking(false);
            unbound.register(s, SelectionKey.OP_ACCEPT);
            s.selectNow();
        }
    }

    /**
     * Starts the connection threads and the accept thread: it takes its listener from {@code source} (and may be
     * held there), then accepts.
     * Non-blocking accept behind a selector, so that draining can stop it without closing the channel.
     * (Switching the channel to non-blocking sets O_NONBLOCK on the socket, which is shared with the other
     * workers; JDK workers do not mind, their blocking accept waits on EAGAIN.)
     */
    void start(ListenerSource source) throws IOException {
        selector = Selector.open();
        connections.prestartAllCoreThreads();
        acceptor = new Thread(() -> acceptLoop(source), "demo-http-accept");
        acceptor.start();
    }

    /** Waits until the accept thread has its listener and accepts; throws what taking the listener threw. */
    Listener awaitAccepting() throws IOException, InterruptedException {
        try {
            return listener.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /** Stops accepting, lets every open connection finish, waits at most {@code timeoutMillis}; true if all finished. */
    boolean drain(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        draining = true;
        selector.wakeup();
        acceptor.join(Math.max(1, timeoutMillis));
        Listener taken = listener.getNow(null);
        if (taken != null && taken.owned()) {
            closeQuietly(taken.channel());
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

    private void acceptLoop(ListenerSource source) {
        try (Selector s = selector) {
            Listener taken = source.take();
            ServerSocketChannel server = taken.channel();
            bodyBytes = body.get().getBytes(StandardCharsets.UTF_8);
            server.configureBlocking(false);
            server.register(s, SelectionKey.OP_ACCEPT);
            listener.complete(taken);
            while (!draining) {
                acceptReady(s, server, this::dispatch, 0);
            }
        } catch (IOException | RuntimeException e) {
            if (!listener.completeExceptionally(e) && !draining) {
                System.err.println("demo: accept failed: " + e);
            }
        }
    }

    /** Waits for the selector (at most timeoutMillis, 0: no limit), then accepts every connection queued. */
    private int acceptReady(Selector s, ServerSocketChannel server, Consumer<SocketChannel> handler, long timeoutMillis)
            throws IOException {
        s.select(timeoutMillis);
        s.selectedKeys().clear();
        int n = 0;
        SocketChannel client;
        while (!draining && (client = server.accept()) != null) {
            handler.accept(client);
            n++;
        }
        return n;
    }

    private void dispatch(SocketChannel client) {
        enter();
        connections.execute(() -> serve(client));
    }

    private void serve(SocketChannel client) {
        try (client) {
            configure(client);
            converse(client.socket().getInputStream(), client.socket().getOutputStream());
        } catch (IOException e) {
            // The client went away; nothing to answer.
        } finally {
            leave();
        }
    }

    private static void configure(SocketChannel client) throws IOException {
        client.configureBlocking(true);
        client.socket().setSoTimeout(IDLE_POLL_MILLIS);
        client.socket().setTcpNoDelay(true);
    }

    /** Answers requests on one connection until it closes. */
    private void converse(InputStream in, OutputStream out) throws IOException {
        boolean keepAlive = true;
        while (keepAlive) {
            Request request = readRequest(in);
            if (request == null) {
                return;
            }
            keepAlive = respond(out, request);
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
        byte[] payload = bodyBytes;
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

    private static void closeQuietly(java.nio.channels.Channel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // Exiting anyway.
        }
    }
}
