package dev.clustermaster.control;

import dev.clustermaster.os.TcpSocketOwners;
import dev.clustermaster.os.Users;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Optional HTTP status port (off by default), see {@link HttpRoutes} for what it answers and whom it lets change
 * things. One selector thread reads every request, so a slow client costs a descriptor and a buffer, never a
 * thread: a request must arrive whole within {@link Options#requestTimeout}, and when all
 * {@link Options#maxConnections} are taken the oldest unfinished request is dropped to make room, so probes are
 * answered however many clients trickle. Complete requests run on two small pools (reads, changes) so a change
 * that waits for workers never delays {@code /healthz}. One request per connection.
 */
public final class HttpStatusServer implements java.io.Closeable {

    private static final Logger log = LoggerFactory.getLogger(HttpStatusServer.class);
    /** Environment variable the runtime reads the port from when --http-port is not given. */
    private static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";
    private static final int MAX_HEAD_BYTES = 16 * 1024;
    private static final int MAX_BODY_BYTES = 4 * 1024;

    /**
     * Tunables; {@link #defaults()} is what the master uses. The uids and group are the REPL's ({@code repl.group}):
     * whoever may use the REPL may POST changes here.
     */
    public record Options(Set<Integer> allowedUids, String group, Duration requestTimeout, Duration writeTimeout,
                          int maxConnections, ProcessStatsSource stats, Duration commandTimeout) {
        public Options {
            Objects.requireNonNull(allowedUids);
            Objects.requireNonNull(stats);
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be positive");
            }
        }

        public static Options defaults() {
            return new Options(Set.copyOf(java.util.List.of(0, Users.ownUid())), null, Duration.ofSeconds(10), Duration.ofSeconds(10),
                    256, new ProcessStats(), Duration.ofSeconds(30));
        }

        public Options withGroup(String g) {
            return new Options(allowedUids, g, requestTimeout, writeTimeout, maxConnections, stats, commandTimeout);
        }

        Options withAllowedUids(Set<Integer> uids) {
            return new Options(uids, group, requestTimeout, writeTimeout, maxConnections, stats, commandTimeout);
        }

        Options withRequestTimeout(Duration d) {
            return new Options(allowedUids, group, d, writeTimeout, maxConnections, stats, commandTimeout);
        }

        Options withMaxConnections(int n) {
            return new Options(allowedUids, group, requestTimeout, writeTimeout, n, stats, commandTimeout);
        }

        public Options withStats(ProcessStatsSource s, Duration commandTimeout) {
            return new Options(allowedUids, group, requestTimeout, writeTimeout, maxConnections, s, commandTimeout);
        }
    }

    private enum Phase { READING, HANDLING, WRITING }

    /** Touched only by the selector thread, except {@link #response} which a pool thread sets before queueing. */
    private static final class Connection {
        final SocketChannel channel;
        final SelectionKey key;
        final ByteBuffer in = ByteBuffer.allocate(1024);
        byte[] buf = new byte[1024];
        int length;
        Phase phase = Phase.READING;
        long deadline;
        HttpRequest request;
        int headLength = -1;
        int bodyNeeded;
        volatile ByteBuffer response;

        Connection(SocketChannel channel, SelectionKey key, long deadline) {
            this.channel = channel;
            this.key = key;
            this.deadline = deadline;
        }
    }

    private final Options options;
    private final ServerSocketChannel listener;
    private final Selector selector;
    private final HttpRoutes routes;
    private final InetSocketAddress bound;
    private final Set<Connection> connections = new LinkedHashSet<>(); // accept order: the first unfinished is the oldest
    private final AtomicInteger connectionGauge = new AtomicInteger();
    private final Queue<Connection> answered = new ConcurrentLinkedQueue<>();
    private final ThreadPoolExecutor reads;
    private final ThreadPoolExecutor writes;
    private final Thread ioThread;
    private volatile boolean closed;

    private HttpStatusServer(ControlApi api, ServerSocketChannel listener, Options options, HttpRoutes.PeerUids peerUids)
            throws IOException {
        this.options = options;
        this.listener = listener;
        this.selector = Selector.open();
        this.bound = (InetSocketAddress) listener.getLocalAddress();
        PeerAccessPolicy policy = PeerAccessPolicy.forSystem(options.allowedUids(), options.group());
        this.routes = new HttpRoutes(Objects.requireNonNull(api), options.stats(), options.commandTimeout(),
                new HttpHostPolicy(bound), policy, peerUids);
        this.reads = pool("cm-http-read", 2, 64);
        this.writes = pool("cm-http-change", 1, 4);
        listener.configureBlocking(false);
        listener.register(selector, SelectionKey.OP_ACCEPT);
        this.ioThread = new Thread(this::loop, "cm-http-io");
        this.ioThread.setDaemon(true);
    }

    /** Starts on bindAddress (null means 127.0.0.1) and port (0 picks a free one) with the default options. */
    public static HttpStatusServer start(ControlApi api, String bindAddress, int port) throws IOException {
        return start(api, bindAddress, port, Options.defaults());
    }

    public static HttpStatusServer start(ControlApi api, String bindAddress, int port, ProcessStatsSource stats,
                                         Duration commandTimeout) throws IOException {
        return start(api, bindAddress, port, Options.defaults().withStats(stats, commandTimeout));
    }

    public static HttpStatusServer start(ControlApi api, String bindAddress, int port, Options options) throws IOException {
        return start(api, bindAddress, port, options, TcpSocketOwners::peerUid);
    }

    static HttpStatusServer start(ControlApi api, String bindAddress, int port, Options options,
                                  HttpRoutes.PeerUids peerUids) throws IOException {
        String address = bindAddress == null || bindAddress.isBlank() ? DEFAULT_BIND_ADDRESS : bindAddress;
        InetSocketAddress where = new InetSocketAddress(address, port);
        // an IPv4 address on an IPv4 socket: the JDK's default IPv6 socket turns 0.0.0.0 into [::], every IPv6 address too
        ServerSocketChannel listener = where.getAddress() instanceof java.net.Inet4Address
                ? ServerSocketChannel.open(java.net.StandardProtocolFamily.INET) : ServerSocketChannel.open();
        try {
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(where, 128);
        } catch (IOException e) {
            listener.close();
            throw new IOException("cannot listen for HTTP status on " + address + ":" + port + ": " + e.getMessage()
                    + "; change http.port= or http.address= (ss -ltnp 'sport = :" + port + "' shows who listens there)", e);
        }
        HttpStatusServer status;
        try {
            status = new HttpStatusServer(api, listener, options, peerUids);
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
        status.ioThread.start();
        InetSocketAddress b = status.address();
        String who = "changes: POST from local uids " + options.allowedUids() + (options.group() == null ? "" : " or group " + options.group());
        if (b.getAddress().isLoopbackAddress()) {
            log.info("HTTP status listening on http://{}:{}/ ({})", b.getHostString(), b.getPort(), who);
        } else {
            log.warn("HTTP status listening on non-loopback {}: status and metrics are readable by anyone who can connect ({})", b, who);
        }
        return status;
    }

    public InetSocketAddress address() {
        return bound;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        selector.wakeup();
        try {
            ioThread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reads.shutdownNow();
        writes.shutdownNow();
    }

    /** Number of open connections (tests watch slow clients being dropped). */
    int connectionCount() {
        return connectionGauge.get();
    }

    // ------------------------------------------------------------------ the selector thread

    private void loop() {
        try {
            while (!closed) {
                long now = System.nanoTime();
                long wait = expire(now);
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)));
                for (Connection c; (c = answered.poll()) != null; ) {
                    startWriting(c);
                }
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.isAcceptable()) {
                        acceptAll();
                    } else if (key.attachment() instanceof Connection c) {
                        try {
                            if (key.isReadable()) {
                                read(c);
                            } else if (key.isWritable()) {
                                write(c);
                            }
                        } catch (IOException e) {
                            drop(c);
                        }
                    }
                }
            }
        } catch (IOException | ClosedSelectorException e) {
            if (!closed) {
                log.error("HTTP status server stopped: {}", e.toString());
            }
        } catch (RuntimeException e) {
            log.error("HTTP status server stopped", e);
        } finally {
            for (Connection c : connections) {
                closeQuietly(c.channel);
            }
            connections.clear();
            connectionGauge.set(0);
            closeQuietly(listener);
            try {
                selector.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    /** Drops connections past their deadline; returns nanos until the next deadline (at most a second). */
    private long expire(long now) {
        long next = TimeUnit.SECONDS.toNanos(1);
        for (Iterator<Connection> it = connections.iterator(); it.hasNext(); ) {
            Connection c = it.next();
            if (c.phase == Phase.HANDLING) {
                continue; // the route has its own timeout
            }
            long left = c.deadline - now;
            if (left <= 0) {
                it.remove();
                connectionGauge.decrementAndGet();
                c.key.cancel();
                closeQuietly(c.channel);
            } else {
                next = Math.min(next, left);
            }
        }
        return next;
    }

    private void acceptAll() throws IOException {
        SocketChannel ch;
        while ((ch = listener.accept()) != null) {
            if (connections.size() >= options.maxConnections() && !evictOldestUnfinished()) {
                closeQuietly(ch); // every slot is busy answering: nothing slow to drop
                continue;
            }
            ch.configureBlocking(false);
            SelectionKey key = ch.register(selector, SelectionKey.OP_READ);
            Connection c = new Connection(ch, key, System.nanoTime() + options.requestTimeout().toNanos());
            key.attach(c);
            connections.add(c);
            connectionGauge.incrementAndGet();
        }
    }

    private boolean evictOldestUnfinished() {
        for (Connection c : connections) {
            if (c.phase == Phase.READING) {
                drop(c);
                return true;
            }
        }
        return false;
    }

    private void read(Connection c) throws IOException {
        c.in.clear();
        int n = c.channel.read(c.in);
        if (n < 0) {
            drop(c);
            return;
        }
        if (c.length + n > MAX_HEAD_BYTES + MAX_BODY_BYTES) {
            answerNow(c, HttpResponse.text(431, "request too large\n"), false);
            return;
        }
        if (c.length + n > c.buf.length) {
            c.buf = java.util.Arrays.copyOf(c.buf, Math.max(c.buf.length * 2, c.length + n));
        }
        System.arraycopy(c.in.array(), 0, c.buf, c.length, n);
        c.length += n;
        try {
            if (c.request == null) {
                int end = HttpRequest.headEnd(c.buf, c.length);
                if (end < 0) {
                    if (c.length > MAX_HEAD_BYTES) {
                        answerNow(c, HttpResponse.text(431, "request head too large\n"), false);
                    }
                    return;
                }
                c.headLength = end;
                // the accepted socket's own address: with a wildcard bind it is the address the client used
                c.request = HttpRequest.parse(c.buf, end, (InetSocketAddress) c.channel.getLocalAddress(),
                        (InetSocketAddress) c.channel.getRemoteAddress());
                c.bodyNeeded = c.request.contentLength();
                if (c.bodyNeeded > MAX_BODY_BYTES) {
                    answerNow(c, HttpResponse.text(413, "request body too large\n"), false);
                    return;
                }
            }
        } catch (HttpRequest.BadRequest e) {
            answerNow(c, HttpResponse.text(e.status, e.getMessage() + "\n"), false);
            return;
        }
        if (c.length - c.headLength >= c.bodyNeeded) {
            dispatch(c);
        }
    }

    /** Runs the complete request on a pool; the answer comes back through {@link #answered}. */
    private void dispatch(Connection c) {
        c.phase = Phase.HANDLING;
        c.key.interestOps(0);
        HttpRequest request = c.request;
        boolean head = request.method().equals("HEAD");
        ThreadPoolExecutor pool = HttpRoutes.isWrite(request) ? writes : reads;
        try {
            pool.execute(() -> {
                HttpResponse r;
                try {
                    r = routes.handle(request);
                } catch (RuntimeException e) {
                    log.warn("HTTP status request {} {} failed", request.method(), request.path(), e);
                    r = HttpResponse.text(500, "internal error\n");
                }
                c.response = ByteBuffer.wrap(r.toBytes(head));
                answered.add(c);
                selector.wakeup();
            });
        } catch (RejectedExecutionException e) {
            answerNow(c, HttpResponse.text(503, "busy, try again\n"), head);
        }
    }

    private void answerNow(Connection c, HttpResponse r, boolean head) {
        c.response = ByteBuffer.wrap(r.toBytes(head));
        startWriting(c);
    }

    private void startWriting(Connection c) {
        if (!c.key.isValid()) {
            return;
        }
        c.phase = Phase.WRITING;
        c.deadline = System.nanoTime() + options.writeTimeout().toNanos();
        try {
            write(c);
        } catch (IOException e) {
            drop(c);
        }
    }

    private void write(Connection c) throws IOException {
        c.channel.write(c.response);
        if (c.response.hasRemaining()) {
            c.key.interestOps(SelectionKey.OP_WRITE);
        } else {
            drop(c);
        }
    }

    private void drop(Connection c) {
        if (connections.remove(c)) {
            connectionGauge.decrementAndGet();
        }
        c.key.cancel();
        closeQuietly(c.channel);
    }

    private static void closeQuietly(java.nio.channels.Channel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            log.debug("closing HTTP connection", e);
        }
    }

    private static ThreadPoolExecutor pool(String name, int threads, int queue) {
        AtomicInteger n = new AtomicInteger();
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queue), r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }
}
