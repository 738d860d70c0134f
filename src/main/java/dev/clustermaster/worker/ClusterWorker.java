package dev.clustermaster.worker;

import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * What a worker's code may ask of its cluster-master. Every call is harmless outside a master:
 * {@link #id()} is 0, {@link #ready()} does nothing, {@link #send} fails its future.
 *
 * <p>Uses only the JDK. A worker started with {@code --main}/{@code --jar} talks to the master over two inherited
 * pipes ({@code CM_IPC_IN_FD}, {@code CM_IPC_OUT_FD}), READY=1 and the other states included, and loads no native
 * library. A JVM the master runs as a plain command ({@code --exec java ...}) only has NOTIFY_SOCKET and the
 * socket at {@code CM_IPC_FD}, which need jnr-unixsocket (in cluster-master's jar), loaded then on first use;
 * without it notifications and messages are disabled with one log line and the worker still runs.
 *
 * <p>A worker whose IPC channel reaches end of stream (the master died, even by kill -9) exits on its own:
 * shutdown hooks get 2 s, then the JVM halts with status 1.
 */
public final class ClusterWorker {

    private static Optional<ServerSocketChannel> listener;

    private ClusterWorker() {
    }

    /**
     * Slot number, 1-based; 0 when not started by a master, and in a warm spare until it is promoted (its
     * environment's CM_CHILD_ID stays 0; this follows the promotion, which {@link #inheritedListener()} waits for).
     */
    public static int id() {
        return SpareHold.slot().orElse(env().childId());
    }

    /** How many times this slot was started before this incarnation. */
    public static int restartCount() {
        return SpareHold.restarts().orElse(env().restartCount());
    }

    /** Unique id of this incarnation, empty when not started by a master. */
    public static String workerId() {
        return env().workerId();
    }

    /** Pid of the master, 0 when not started by a master. */
    public static long masterPid() {
        return env().masterPid();
    }

    public static boolean isWorker() {
        return env().underMaster();
    }

    /**
     * Tells the master this worker serves now (READY=1); during a rolling restart the master waits for this
     * before stopping the next old worker. Without the IPC pipes it may block while jnr loads (first call only).
     *
     * @return true if the notification was sent; false when not under a master or the channel is gone
     */
    public static boolean ready() {
        return WorkerRuntime.get().notifyMaster("READY=1");
    }

    /** A one-line status shown by the master (STATUS=...). */
    public static boolean status(String text) {
        String line = Objects.requireNonNull(text, "text").replace('\n', ' ').replace('\r', ' ');
        return WorkerRuntime.get().notifyMaster("STATUS=" + line);
    }

    /**
     * Tells the master this worker is alive (WATCHDOG=1). Once sent, the master expects it again within
     * {@link #watchdogInterval()}, or it treats the worker as hung: SIGQUIT (a thread dump to stdout), then the stop
     * signal, SIGKILL, and a replacement. Call it from the code that would stop when the worker is stuck (its main
     * loop), or use {@link #startWatchdog()}.
     *
     * @return true if the notification was sent
     */
    public static boolean watchdog() {
        return WorkerRuntime.get().notifyMaster("WATCHDOG=1");
    }

    /** WATCHDOG_USEC set by the master; empty when the master watches no worker (then {@link #watchdog()} is not needed). */
    public static Optional<Duration> watchdogInterval() {
        long usec = env().watchdogUsec();
        return usec <= 0 ? Optional.empty() : Optional.of(Duration.ofNanos(usec * 1_000));
    }

    /**
     * Starts a daemon thread that sends WATCHDOG=1 every third of {@link #watchdogInterval()}, but only while the
     * returned heartbeat was {@link Heartbeat#beat() beaten} since the last one: call {@code beat()} from your main
     * loop, and a stuck loop stops the pings. Without a watchdog interval the heartbeat does nothing.
     */
    public static Heartbeat startWatchdog() {
        return Heartbeat.start(watchdogInterval());
    }

    /**
     * Asks the master to replace this worker gracefully (RECYCLE=1): a new one is started and made ready first,
     * then this one gets the stop signal. For a worker that knows it leaks or wants fresh state.
     */
    public static boolean recycle() {
        return WorkerRuntime.get().notifyMaster("RECYCLE=1");
    }

    /** Sends a message to the master; completes with its reply, or exceptionally when there is no channel. */
    public static CompletableFuture<String> send(String message) {
        return WorkerRuntime.get().send(Objects.requireNonNull(message, "message"));
    }

    /**
     * Handles messages from the master (one at a time, off the caller's thread). The returned text is the reply;
     * null replies empty; an exception replies "ERR " and its description. Replaces an earlier handler.
     */
    public static void onMessage(Function<String, String> handler) {
        WorkerRuntime.get().onMessage(Objects.requireNonNull(handler, "handler"));
    }

    /**
     * Called with the level (TRACE, DEBUG, INFO, WARN, ERROR, OFF) when the master changes log levels,
     * after the root logger of java.util.logging (and of logback, when present) was set to it.
     */
    public static void onLogLevel(Consumer<String> listener) {
        WorkerRuntime.get().onLogLevel(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Graceful drain: when the master stops this worker (SIGTERM, on a rolling restart, a resize or a quit), runs
     * {@code drain} on a thread of its own, then exits the JVM with status 0 (1 if a drain threw). The drain should
     * stop accepting (without closing the inherited listener, see {@link #inheritedListener()}), finish the
     * requests in flight and return; the master SIGKILLs the worker if it takes longer than its stop timeout.
     * Several drains run in the order they were registered. SIGINT does the same. Outside a master too.
     */
    public static void onStop(Runnable drain) {
        GracefulStop.add(Objects.requireNonNull(drain, "drain"));
    }

    /**
     * True once the master asked this worker to stop (its onStop drains are running), or stopped this warm spare
     * before promoting it ({@link #inheritedListener()} then throws).
     */
    public static boolean stopping() {
        return GracefulStop.stopping() || SpareHold.stopped();
    }

    /**
     * The listening socket the master passed in, if any: the master puts its first listener at fd 0 as well as
     * fd 3, and fd 0 is what {@link System#inheritedChannel()} wraps (TCP or AF_UNIX). Further listeners
     * (fds 4.., see {@link #listenerNames()}) cannot be opened by the JDK from a number.
     *
     * <p>In a warm spare ({@code spare=} of the master) this call blocks until the spare is promoted into a slot.
     * For the promotion to cost nothing but accepting, do all the start-up work before: build the server, start
     * its threads, run its request path once (in-process), then call this on the thread that accepts, right before
     * its accept loop; then call {@link #ready()} as always. Whatever the app leaves for after this call runs
     * after a crash, while that slot's connections wait (see the demo worker, {@code dev.clustermaster.demo}).
     *
     * <p>A held spare that the master stops instead of promoting (a rolling restart, a resize, a quit) gets an
     * IOException here, with {@link #stopping()} true, and then the stop signal: an app that handles the signal
     * itself can exit at once rather than wait for SIGKILL after {@code stop.timeout}.
     *
     * <p>To drain, stop calling accept; do not close this channel: the socket is shared with the master and
     * the other workers, and the JDK answers closing an inherited channel by pointing fds 0-2 (so stdout and
     * stderr) at /dev/null.
     */
    public static synchronized Optional<ServerSocketChannel> inheritedListener() throws IOException {
        if (listener == null) {
            // before the hold: wrapping fd 0 loads classes, work a promoted spare should not be left with
            Channel inherited = System.inheritedChannel();
            listener = inherited instanceof ServerSocketChannel server ? Optional.of(server) : Optional.empty();
        }
        // a warm spare (spare=N) waits here until the master promotes it into a slot: it must not accept before
        SpareHold.await(() -> WorkerRuntime.get().held());
        return listener;
    }

    /**
     * True in a warm spare ({@code spare=} of the master) until it is promoted: {@link #inheritedListener()} will
     * hold, so the app has time to warm up its request path (run it until the JIT compiled it) before it serves.
     */
    public static boolean spare() {
        return SpareHold.waiting();
    }

    /** Names of the passed listeners in fd order (LISTEN_FDNAMES), empty when none were passed. */
    public static List<String> listenerNames() {
        return env().listenFds() == 0 ? List.of() : env().listenFdNames();
    }

    private static WorkerEnv env() {
        return WorkerRuntime.get().env();
    }
}
