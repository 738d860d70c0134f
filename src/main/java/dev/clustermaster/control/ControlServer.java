package dev.clustermaster.control;

import dev.clustermaster.os.UnixSockets;
import dev.clustermaster.os.Users;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The control REPL server: a unix stream socket (and optionally TCP) where each accepted connection gets its own
 * thread running a {@link ReplSession}, up to {@code maxConnections}. Unix peers are checked with SO_PEERCRED
 * before they see a prompt. Start with {@link #start}, stop with {@link #close}.
 */
public final class ControlServer implements java.io.Closeable {

    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    private static final int BACKLOG = 128;
    private static final long REFUSAL_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final ControlApi api;
    private final ControlServerOptions options;
    private final CommandTree commands;
    private final Map<ReplSession, Thread> sessions = new ConcurrentHashMap<>();
    private final AtomicLong connectionIds = new AtomicLong();
    private final AtomicLong lastRefusalLog = new AtomicLong(System.nanoTime() - REFUSAL_LOG_INTERVAL_NANOS);
    private final List<Thread> acceptors = new ArrayList<>();
    private final ThreadPoolExecutor broadcaster;
    private final ScheduledThreadPoolExecutor watchdog;
    private final SessionHost host = new SessionHost();
    private volatile boolean closed;

    private volatile UnixSockets.Listener unixServer;
    private volatile Path boundSocket;
    private volatile Object boundSocketKey;
    private volatile ServerSocket tcpServer;
    private volatile PeerAccessPolicy policy;

    private ControlServer(ControlApi api, ControlServerOptions options) {
        this.api = Objects.requireNonNull(api);
        this.options = Objects.requireNonNull(options);
        this.commands = new CommandTree(options.processStats(), System::currentTimeMillis, options.commandTimeouts());
        // One thread, bounded queue: a debug storm or a stuck client cannot pile up memory.
        this.broadcaster = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(1024),
                daemonThreads("cm-repl-broadcast"), new ThreadPoolExecutor.DiscardPolicy());
        this.watchdog = new ScheduledThreadPoolExecutor(1, daemonThreads("cm-repl-watchdog"));
        this.watchdog.setRemoveOnCancelPolicy(true);
    }

    /**
     * Binds the configured socket(s) and starts accepting. Fails with a clear message when another master is
     * listening on the same path, the path is not a socket, or the group does not exist.
     */
    public static ControlServer start(ControlApi api, ControlServerOptions options) throws IOException {
        ControlServer server = new ControlServer(api, options);
        try {
            if (options.socketPath().isPresent()) {
                server.listenUnix(options.socketPath().get());
            }
            if (options.tcpAddress().isPresent()) {
                server.listenTcp(options.tcpAddress().get());
            }
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** The bound unix socket path, if listening on one. */
    public Optional<Path> socketPath() {
        return Optional.ofNullable(boundSocket);
    }

    /** The bound TCP address (with the real port when 0 was asked), if listening on TCP. */
    public Optional<InetSocketAddress> tcpAddress() {
        return tcpServer == null ? Optional.empty() : Optional.of((InetSocketAddress) tcpServer.getLocalSocketAddress());
    }

    /** Current REPL connections. */
    public int connectionCount() {
        return sessions.size();
    }

    /** Descriptors of the unix listener and unix sessions, so tests can check FD_CLOEXEC. */
    List<Integer> unixDescriptors() {
        List<Integer> fds = new ArrayList<>();
        if (unixServer != null) {
            fds.add(unixServer.fd());
        }
        for (ReplSession s : sessions.keySet()) {
            if (s.connection() instanceof UnixClientConnection u) {
                fds.add(u.fd());
            }
        }
        return fds;
    }

    // ------------------------------------------------------------------ listening

    private void listenUnix(Path requested) throws IOException {
        Path path = requested.toAbsolutePath();
        String group = options.group().isEmpty() && !options.ownGroupAdmitted() ? null : socketGroup(options.group().orElse(null));
        policy = PeerAccessPolicy.forSystem(options.allowedUids(), group);
        SocketFileGuard.checkPathLength(path);
        SocketFileGuard.prepareParent(path, group);
        SocketFileGuard.removeStaleSocket(path);
        Path staging = SocketFileGuard.stagingDir(path);
        try {
            Path staged = staging.resolve(SocketFileGuard.STAGED_NAME);
            SocketFileGuard.checkPathLength(staged);
            unixServer = UnixSockets.listen(staged, BACKLOG);
            SocketFileGuard.applyModeAndGroup(staged, options.fileMode(), group);
            SocketFileGuard.publish(staged, path);
        } catch (IOException e) {
            SocketFileGuard.discardStaging(staging);
            throw new IOException("cannot listen on control socket " + path + ": " + e.getMessage(), e);
        }
        boundSocket = path;
        boundSocketKey = fileKey(path);
        startAcceptor("cm-repl-accept-unix", this::acceptUnix);
        log.info("control REPL listening on {} (mode {}{})", path, Integer.toOctalString(options.fileMode()),
                group == null ? "" : ", group " + group);
    }

    /**
     * repl.group when the master may hand files to it (root, or a member), else, like without repl.group, the
     * master's own group: a group it is not in must not stop the service from starting.
     */
    private static String socketGroup(String requested) throws IOException {
        String own = Users.ownGroupName().orElse(null);
        if (requested == null || requested.equals(own)) {
            return own;
        }
        var group = Users.group(requested)
                .orElseThrow(() -> new IOException("control socket group '" + requested + "' does not exist (repl.group)"));
        int gid = group.gid();
        if (Users.ownUid() == 0 || Users.ownGid() == gid
                || PeerAccessPolicy.procGroups((int) ProcessHandle.current().pid()).contains(gid)) {
            return requested;
        }
        log.warn("repl.group={}: this master's user is not in that group, so the control socket stays with group {}; "
                + "add SupplementaryGroups={} to its unit (systemctl edit UNIT) or the user to the group", requested, own, requested);
        return own;
    }

    private void listenTcp(InetSocketAddress address) throws IOException {
        tcpServer = new ServerSocket();
        tcpServer.setReuseAddress(true);
        tcpServer.bind(address, BACKLOG);
        InetSocketAddress bound = (InetSocketAddress) tcpServer.getLocalSocketAddress();
        if (bound.getAddress().isLoopbackAddress()) {
            log.warn("control REPL also listening on TCP {}: TCP has no peer credential check, any local user can connect", bound);
        } else {
            log.warn("control REPL listening on non-loopback TCP {}: no authentication, anyone who can reach it controls the cluster", bound);
        }
        startAcceptor("cm-repl-accept-tcp", this::acceptTcp);
    }

    private void startAcceptor(String name, Runnable loop) {
        Thread t = new Thread(loop, name);
        t.setDaemon(true);
        acceptors.add(t);
        t.start();
    }

    private void acceptUnix() {
        while (!closed) {
            UnixSockets.Connection client;
            try {
                client = unixServer.accept();
            } catch (IOException | RuntimeException e) {
                if (closed) {
                    break;
                }
                log.warn("control socket accept failed: {}", e.getMessage());
                pauseAfterAcceptError();
                continue;
            }
            try {
                admitUnix(client);
            } catch (RuntimeException e) {
                log.error("could not set up control connection", e);
                closeQuietly(client);
            }
        }
    }

    private void acceptTcp() {
        while (!closed) {
            Socket client;
            try {
                client = tcpServer.accept();
            } catch (IOException e) {
                if (closed) {
                    break;
                }
                log.warn("control TCP accept failed: {}", e.getMessage());
                pauseAfterAcceptError();
                continue;
            }
            try {
                admit(new TcpClientConnection(client, options.writeTimeout(), watchdog), "tcp");
            } catch (IOException | RuntimeException e) {
                log.warn("could not set up control TCP connection: {}", e.toString());
                try {
                    client.close();
                } catch (IOException ignored) {
                    // nothing more to do for a connection we never used
                }
            }
        }
    }

    /** Avoids a hot loop when accept keeps failing (e.g. out of file descriptors). */
    private static void pauseAfterAcceptError() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void admitUnix(UnixSockets.Connection client) {
        UnixSockets.PeerCredentials credentials = null;
        try {
            credentials = client.peerCredentials();
        } catch (IOException | RuntimeException e) {
            log.warn("could not read peer credentials of a control connection: {}", e.toString());
        }
        String who = credentials == null ? "unknown peer"
                : "uid " + credentials.uid() + " pid " + credentials.pid();
        UnixClientConnection connection = new UnixClientConnection(client, who, options.writeTimeout());
        if (closed) {
            refuse(connection, "error: control server is shutting down");
            return;
        }
        if (credentials == null) {
            log.warn("refused control connection: peer credentials unavailable");
            refuse(connection, "access denied: cannot verify peer credentials");
            return;
        }
        PeerAccessPolicy.Decision decision = policy.check(credentials.pid(), credentials.uid(), credentials.gid());
        if (!decision.allowed()) {
            log.warn("refused control connection on {}: {}", boundSocket, decision.reason());
            refuse(connection, "access denied: " + decision.reason());
            return;
        }
        admit(connection, "uid " + credentials.uid());
    }

    /**
     * Admits within the per-peer and total limits. When a limit is reached, the connection that has been slowest
     * to send a line (see {@link #slowest}) makes room, so trickling clients cannot lock out {@code ctl}; if every
     * session is a working one, the newcomer is refused.
     */
    private void admit(ClientConnection connection, String peerKey) {
        ReplSession session = new ReplSession(connection, host, options.prompt(), options.maxLineBytes(),
                options.idleTimeout(), options.lineTimeout(), peerKey);
        ReplSession evicted = null;
        Thread thread = null;
        String refusal = null;
        synchronized (sessions) {
            List<ReplSession> samePeer = sessions.keySet().stream().filter(s -> s.peerKey().equals(peerKey)).toList();
            if (sessions.size() >= options.maxConnections()) {
                evicted = slowest(sessions.keySet());
                refusal = evicted == null ? "too many connections (max " + options.maxConnections() + ")" : null;
            } else if (samePeer.size() >= options.maxConnectionsPerPeer()) {
                evicted = slowest(samePeer);
                refusal = evicted == null ? "too many connections from " + peerKey + " (max " + options.maxConnectionsPerPeer() + ")" : null;
            }
            if (refusal == null) {
                if (evicted != null) {
                    sessions.remove(evicted);
                }
                thread = new Thread(session, "cm-repl-" + connectionIds.incrementAndGet());
                thread.setDaemon(true);
                sessions.put(session, thread);
            }
        }
        if (evicted != null) {
            evicted.abort();
            logRateLimited("dropped control connection {} ({}) to make room for {}", evicted.describe(),
                    evicted.ranCommand() ? "unfinished line" : "no command yet", connection.describe());
        }
        if (refusal != null) {
            logRateLimited("refused control connection from {}: {}", connection.describe(), refusal);
            refuse(connection, "error: " + refusal + ", try again later");
            return;
        }
        thread.start();
        if (closed) {
            session.abort();
        }
    }

    /**
     * The session to drop for a newcomer: the one whose unfinished line began longest ago, else the oldest that
     * has not sent a command yet; null when every session is idle at the prompt after working or busy.
     */
    static ReplSession slowest(java.util.Collection<ReplSession> candidates) {
        ReplSession best = null;
        for (ReplSession s : candidates) {
            if (s.lineStartedAt() != 0 && (best == null || best.lineStartedAt() == 0 || s.lineStartedAt() < best.lineStartedAt())) {
                best = s;
            }
        }
        if (best != null) {
            return best;
        }
        for (ReplSession s : candidates) {
            if (!s.ranCommand() && (best == null || s.connectedAt() < best.connectedAt())) {
                best = s;
            }
        }
        return best;
    }

    private void logRateLimited(String format, Object... args) {
        long now = System.nanoTime();
        long last = lastRefusalLog.get();
        if (now - last >= REFUSAL_LOG_INTERVAL_NANOS && lastRefusalLog.compareAndSet(last, now)) {
            log.warn(format, args);
        }
    }

    private static void refuse(ClientConnection connection, String message) {
        try {
            connection.write((message + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            log.debug("could not tell {} why it was refused", connection.describe(), e);
        } finally {
            connection.abort();
            connection.close();
        }
    }

    // ------------------------------------------------------------------ shutdown

    /** Stops accepting, ends every session (bounded wait) and removes the socket file. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (unixServer != null) {
            unixServer.shutdown();
        }
        if (tcpServer != null) {
            try {
                tcpServer.close();
            } catch (IOException e) {
                log.debug("closing control TCP listener", e);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (Thread t : acceptors) {
            joinUntil(t, deadline);
        }
        if (unixServer != null) {
            closeQuietly(unixServer);
            removeOwnSocketFile();
        }
        long answers = Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
        for (ReplSession s : List.copyOf(sessions.keySet())) {
            try {
                s.awaitAnswered(answers); // "stopping 2 workers" reaches the client that asked for the stop
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        sessions.keySet().forEach(ReplSession::abort);
        for (Thread t : List.copyOf(sessions.values())) {
            joinUntil(t, deadline);
        }
        broadcaster.shutdownNow();
        watchdog.shutdownNow();
        log.info("control REPL closed");
    }

    /** Deletes the socket only if it is still the one we created (not a newer master's). */
    private void removeOwnSocketFile() {
        if (boundSocket == null) {
            return;
        }
        try {
            Object key = fileKey(boundSocket);
            if (key != null && key.equals(boundSocketKey)) {
                Files.deleteIfExists(boundSocket);
            }
        } catch (IOException e) {
            log.warn("could not remove control socket {}: {}", boundSocket, e.toString());
        }
    }

    private static Object fileKey(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static void joinUntil(Thread t, long deadlineNanos) {
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining <= 0) {
            return;
        }
        try {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(java.io.Closeable channel) {
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("closing channel", e);
        }
    }

    private static ThreadFactory daemonThreads(String name) {
        ThreadFactory base = Executors.defaultThreadFactory();
        return r -> {
            Thread t = base.newThread(r);
            t.setName(name);
            t.setDaemon(true);
            return t;
        };
    }

    /** The narrow view sessions get of the server. */
    private final class SessionHost implements ReplSession.Host {
        @Override
        public CommandTree commands() {
            return commands;
        }

        @Override
        public ControlApi api() {
            return api;
        }

        @Override
        public int connectionCount() {
            return sessions.size();
        }

        @Override
        public void broadcast(ReplSession from, String message) {
            for (ReplSession s : sessions.keySet()) {
                if (s != from && s.isInteractive()) {
                    try {
                        broadcaster.execute(() -> s.sendUnsolicited(message));
                    } catch (RejectedExecutionException e) {
                        log.debug("broadcast dropped: {}", e.toString());
                    }
                }
            }
        }

        @Override
        public void ended(ReplSession session) {
            synchronized (sessions) {
                sessions.remove(session);
            }
        }
    }
}
