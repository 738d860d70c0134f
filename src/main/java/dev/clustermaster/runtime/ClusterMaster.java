package dev.clustermaster.runtime;

import ch.qos.logback.classic.Level;
import dev.clustermaster.config.Config;
import dev.clustermaster.config.ConfigDiff;
import dev.clustermaster.config.ConfigSource;
import dev.clustermaster.config.WorkerInfo;
import dev.clustermaster.control.ControlApi;
import dev.clustermaster.core.Action;
import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.Event;
import dev.clustermaster.core.Master;
import dev.clustermaster.core.Signal;
import dev.clustermaster.core.WorkerView;
import dev.clustermaster.os.NotifyMessages;
import dev.clustermaster.os.ProcessSpawner;
import dev.clustermaster.os.SdNotify;
import dev.clustermaster.os.SignalTrap;
import dev.clustermaster.os.Signals;
import dev.clustermaster.os.StraySignals;
import dev.clustermaster.os.Users;
import dev.clustermaster.worker.IpcFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.stream.Stream;

/**
 * A running master: starts the workers of a {@link Config}, keeps them running and answers control requests.
 *
 * <pre>{@code
 * ClusterMaster m = ClusterMaster.start(Config.builder().mainClass("com.example.Server").size(4).build());
 * m.restart().join();           // graceful rolling restart
 * m.quit(); int code = m.exitCode().join();
 * }</pre>
 * Every method is thread-safe: it only enqueues work for the master's event loop.
 */
public final class ClusterMaster implements ControlApi {
    private static final Logger log = LoggerFactory.getLogger("dev.clustermaster.master");
    /** Reaping without SIGCHLD (its trap failed): how often exits are looked for. */
    private static final long REAP_POLL_MILLIS = 1_000;
    private static final List<String> SIGNALS = List.of("HUP", "INT", "TERM", "TTIN", "TTOU", "CHLD");

    private final Config config;
    /** The configuration new workers start from: the start one, then each reloaded one. */
    private volatile Config current;
    private final ConfigSource source;
    private final int pid;
    private final EventLoop loop;
    private final Supervisor supervisor;
    private final WorkerLauncher launcher;
    private final Path workersDir;
    private final SdNotify sdNotify;
    private final Watchdog watchdog;
    private final List<Closeable> resources = new ArrayList<>();
    private final Map<Long, CompletableFuture<String>> pending = new ConcurrentHashMap<>();
    private final AtomicLong requestIds = new AtomicLong();
    private final CompletableFuture<Integer> exitCode = new CompletableFuture<>();
    /** Runs config.onMessage for worker messages in arrival order; its one thread ends when idle. */
    private final ThreadPoolExecutor messages = new ThreadPoolExecutor(1, 1, 10, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "cm-messages");
                t.setDaemon(true);
                return t;
            });
    private volatile String controlSocketPath = "";
    private volatile InetSocketAddress httpAddress;
    /** Loop thread only: SIGCHLD is not trapped, so reaping needs a deadline of its own. */
    private boolean pollReaping;
    private long lastReapPoll;
    private final MasterUpgrade upgrader;
    private final boolean startedByUpgrade;
    private ControlSurfaces.Started surfaces;
    /** Set once a new master took over: this one then leaves socket files to it. */
    private volatile boolean handedOver;
    /** The worker class path's fallback is the same for every spawn and reload: said once. */
    private final AtomicBoolean classPathWarned = new AtomicBoolean();

    private ClusterMaster(Config config, List<InheritedSocket> sockets, SdNotify sdNotify, Map<String, String> env,
                          ConfigSource source) throws IOException {
        this.config = config;
        this.current = config;
        this.source = source;
        this.pid = (int) ProcessHandle.current().pid();
        messages.allowCoreThreadTimeOut(true);
        this.sdNotify = sdNotify;
        this.startedByUpgrade = UpgradeHandover.isUpgrade(env);
        this.watchdog = Watchdog.fromEnvironment(System.getenv(), pid);
        int euid = Users.effectiveUid();
        RuntimeDirGuard.ensure(config.runtimeDir(), euid);
        RuntimeDirGuard.removeStaleWorkerDirs(config.runtimeDir(), euid, RuntimeDirGuard::processExists);
        this.workersDir = Files.createTempDirectory(config.runtimeDir(), "workers-" + pid + "-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Master master = new Master(config.policy(), config.size(), config.maxSize());
        this.launcher = new WorkerLauncher(config, new ProcessSpawner(), sockets, workersDir, pid, new WorkerEvents());
        resources.add(launcher::close);
        this.loop = new EventLoop("cm-loop", this::nextDeadline, this::onDeadline, this::onFatal);
        this.supervisor = new Supervisor(master, launcher, sdNotify, pid, this::onReply, this::onMasterExit);
        this.upgrader = new MasterUpgrade(config, sockets, pid, sdNotify, env, new UpgradeHost());
    }

    /** Starts a master: binds nothing it was not told to, spawns the workers, installs signal handlers. */
    public static ClusterMaster start(Config config) throws IOException {
        return start(config, null);
    }

    /** Like {@link #start(Config)}; {@link #reload()} reads the configuration again from {@code source}. */
    public static ClusterMaster start(Config config, ConfigSource source) throws IOException {
        Map<String, String> env = System.getenv();
        SdNotify sdNotify = UpgradeHandover.notifier(env);
        List<InheritedSocket> sockets = ListenerSetup.open(config, env, (int) ProcessHandle.current().pid(), sdNotify);
        ClusterMaster m = new ClusterMaster(config, sockets, sdNotify, env, source);
        m.resources.add(() -> ListenerSetup.close(sockets, !m.handedOver));
        m.begin();
        return m;
    }

    private void begin() throws IOException {
        log.info("master {} starting {} workers: {}", pid, config.size(), String.join(" ", config.workerArgv()));
        warnOfClassPath(config);
        // signals first: the loop spawns at once and a worker's exit is only seen through SIGCHLD
        List<String> failed = config.signals()
                ? SignalTrap.install(SIGNALS, name -> loop.submit(() -> onSignal(name)))
                : SignalTrap.install(List.of("CHLD"), name -> loop.submit(supervisor::reap));
        if (!failed.isEmpty()) {
            log.warn("could not handle signals {}", failed);
        }
        if (config.signals()) {
            StraySignals.install(name -> loop.submit(() -> log.warn("ignored SIG{}: the master acts only on HUP, INT, "
                    + "TERM, TTIN, TTOU", name)));
        }
        if (failed.contains("CHLD")) {
            log.warn("without SIGCHLD, worker exits are noticed within {} ms", REAP_POLL_MILLIS);
            loop.submit(() -> pollReaping = true);
        }
        if (config.repl()) {
            // Known before the socket accepts (a client may ask 'sock' at once), and absolute as ControlServer
            // binds it: a relative --repl path would be wrong for a client in another directory.
            controlSocketPath = config.replSocket().toAbsolutePath().toString();
        }
        // workers start while the control surfaces come up
        loop.start();
        if (startedByUpgrade && config.repl()) {
            // the old master's control socket: it keeps serving its open sessions, new clients come to us
            Files.deleteIfExists(config.replSocket());
        }
        try {
            surfaces = ControlSurfaces.start(config, this);
            resources.addAll(surfaces.resources());
            httpAddress = surfaces.httpAddress();
        } catch (IOException | RuntimeException e) {
            quitHard();
            throw e;
        }
    }

    // ---- public API -------------------------------------------------------------------------------------------

    /** Keep n workers. */
    @Override
    public CompletableFuture<String> resize(int n) {
        return command(new Event.Resize(n));
    }

    /** Graceful rolling restart: each slot's new worker is ready before its old one is stopped. */
    @Override
    public CompletableFuture<String> restart() {
        return command(new Event.Restart());
    }

    /**
     * Reads the configuration again from the source the master was started with (without one: applies the
     * current one again) and applies it with {@link #reload(Config)}. An invalid configuration fails at once with
     * its one-line reason; nothing running changes.
     */
    @Override
    public CompletableFuture<String> reload() {
        if (source == null) {
            return reload(current);
        }
        Config next;
        try {
            next = source.load();
        } catch (RuntimeException e) {
            log.error("reload failed, the running workers are kept: {}", e.getMessage());
            return CompletableFuture.failedFuture(new IllegalStateException("reload failed: " + e.getMessage()
                    + " (the running workers are kept)"));
        }
        return reload(next);
    }

    private void warnOfClassPath(Config c) {
        if (c.javaWorker() && c.javaLaunch().warning().isPresent() && classPathWarned.compareAndSet(false, true)) {
            log.warn(c.javaLaunch().warning().get());
        }
    }

    /**
     * Applies a new configuration: new workers run its command, env, size and timing, through a rolling restart of
     * every slot. Completes when the restart is done; fails when it failed (then workers start from the previous
     * configuration again). Listening sockets, control surfaces and the name stay until the master restarts.
     */
    public CompletableFuture<String> reload(Config next) {
        Config previous = current;
        List<String> applied = ConfigDiff.applied(previous, next);
        // against the start's settings: a reload that only reverts an earlier, unapplied listen= change is no change
        List<String> ignored = ConfigDiff.needRestart(config, next);
        if (next.size() > config.maxSize()) {
            return CompletableFuture.failedFuture(new IllegalStateException("reload failed: size " + next.size()
                    + " exceeds max.children " + config.maxSize() + " of the running master (the running workers are kept)"));
        }
        log.info("reload: {}", applied.isEmpty() ? "configuration unchanged, replacing every worker" : "applying " + String.join(", ", applied));
        String note = ignored.isEmpty() ? "" : "; not applied until the master restarts: " + String.join(", ", ignored);
        if (!ignored.isEmpty()) {
            log.warn("reload: {} changed, which applies only when the master restarts (systemctl restart)", String.join(", ", ignored));
        }
        java.util.OptionalInt size = ConfigDiff.sizeToApply(previous, next);
        if (size.isEmpty() && supervisor.snapshot().desiredSize() != next.size()) {
            log.info("reload: keeping the size set at runtime ({}); the config's size={} is unchanged",
                    supervisor.snapshot().desiredSize(), next.size());
        }
        warnOfClassPath(next);
        current = next;
        return command(new Event.Reload(next.policy(), size), () -> launcher.use(next))
                .thenApply(msg -> "reloaded: " + msg + note)
                .whenComplete((msg, failure) -> {
                    if (failure != null && current == next) {
                        current = previous;
                        loop.submit(() -> launcher.use(previous));
                        log.error("reload failed, new workers start from the previous configuration again: {}", failure.getMessage());
                    }
                });
    }

    @Override
    public java.util.Optional<java.time.Duration> restartBudget() {
        Config c = current;
        int size = Math.max(c.size(), supervisor.snapshot().desiredSize());
        return java.util.Optional.of(java.time.Duration.ofMillis(c.policy().restartBudgetMillis(size)));
    }

    /** Graceful quit: SIGTERM, drain, SIGKILL after the stop timeout; {@link #exitCode()} then completes with 0. */
    public CompletableFuture<String> quit() {
        return command(new Event.Quit());
    }

    /** Hard quit: SIGKILL to every worker group; {@link #exitCode()} then completes with 1. */
    public CompletableFuture<String> quitHard() {
        return command(new Event.QuitHard());
    }

    /** Completes with the master's exit code once every worker is gone after a quit. */
    public CompletableFuture<Integer> exitCode() {
        return exitCode;
    }

    /** Sends a message to every Java worker (delivered to its ClusterWorker.onMessage handler). */
    public CompletableFuture<Integer> broadcast(String message) {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        loop.submit(() -> f.complete(supervisor.broadcast(new IpcFrame(IpcFrame.Kind.MSG, 0, message))));
        return f;
    }

    public int pid() {
        return pid;
    }

    /** The configuration new workers start from (the latest reloaded one). */
    public Config config() {
        return current;
    }

    @Override
    public ClusterSnapshot snapshot() {
        return supervisor.snapshot();
    }

    @Override
    public CompletableFuture<String> stop() {
        return quit();
    }

    @Override
    public CompletableFuture<String> kill() {
        return quitHard();
    }

    @Override
    public CompletableFuture<String> upgrade() {
        CompletableFuture<String> f = new CompletableFuture<>();
        if (exitCode.isDone()) {
            f.completeExceptionally(new IllegalStateException("the master has exited"));
            return f;
        }
        loop.submit(() -> upgrader.start(f));
        return f;
    }

    @Override
    public CompletableFuture<String> stopWorkers() {
        return command(new Event.StopWorkers());
    }

    @Override
    public CompletableFuture<String> signal(Integer slot, String signalName) {
        Signal signal;
        try {
            signal = Signals.signal(signalName);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        return command(new Event.SignalWorkers(slot, signal));
    }

    @Override
    public CompletableFuture<String> setLogLevel(String level) {
        String given = level.trim().toUpperCase(Locale.ROOT);
        // logback has no FATAL: ERROR is the nearest level that still shows fatal messages
        String upper = given.equals("FATAL") ? "ERROR" : given;
        if (!List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF").contains(upper)) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "unknown log level '" + level + "' (trace, debug, info, warn, error, fatal = error, off)"));
        }
        org.slf4j.Logger root = LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (root instanceof ch.qos.logback.classic.Logger logback) {
            logback.setLevel(Level.toLevel(upper));
        }
        CompletableFuture<String> f = new CompletableFuture<>();
        loop.submit(() -> {
            launcher.logLevel(upper);
            int n = supervisor.broadcast(new IpcFrame(IpcFrame.Kind.LOGLEVEL, 0, upper));
            f.complete("log level " + upper.toLowerCase(Locale.ROOT) + " (master and " + n + " workers)");
        });
        return f;
    }

    /**
     * The address the HTTP status port is bound to, with the real port when {@code httpPort(0)} asked for any
     * free one; empty when the HTTP port is off.
     */
    public Optional<InetSocketAddress> httpAddress() {
        return Optional.ofNullable(httpAddress);
    }

    @Override
    public String controlSocketPath() {
        return controlSocketPath;
    }

    // ---- loop side --------------------------------------------------------------------------------------------

    private CompletableFuture<String> command(Event.Request request) {
        return command(request, () -> { });
    }

    /** {@code first} runs on the loop right before the request is handled. */
    private CompletableFuture<String> command(Event.Request request, Runnable first) {
        CompletableFuture<String> f = new CompletableFuture<>();
        if (exitCode.isDone()) {
            f.completeExceptionally(new IllegalStateException("the master has exited"));
            return f;
        }
        long id = requestIds.incrementAndGet();
        pending.put(id, f);
        loop.submit(() -> {
            first.run();
            supervisor.dispatch(new Event.Command(id, request));
        });
        return f;
    }

    private void onSignal(String name) {
        Signal signal = Signals.signal(name);
        if (signal == Signal.CHLD) {
            supervisor.reap();
        } else if (signal == Signal.HUP) {
            // like ctl reload: the config is read again, then the rolling restart (without a source: just the restart)
            log.info("received SIGHUP: reload");
            reload().exceptionally(e -> null);
        } else {
            log.info("received {}", signal.label());
            supervisor.dispatch(new Event.SignalReceived(signal));
        }
    }

    /** Every deadline the loop sleeps toward: the core's, systemd's watchdog, reaping without SIGCHLD. */
    private long nextDeadline() {
        long next = Math.min(supervisor.nextDeadline(), watchdog.nextDueMillis());
        return pollReaping ? Math.min(next, lastReapPoll + REAP_POLL_MILLIS) : next;
    }

    private void onDeadline() {
        long now = EventLoop.nowMillis();
        lastReapPoll = now;
        supervisor.tick();
        if (watchdog.due(now) && supervisor.healthy()) {
            sdNotify.send("WATCHDOG=1");
        }
    }

    /** An Error left the loop: the master's state is unknown, so it exits (code 1) and systemd restarts it. */
    private void onFatal(Error e) {
        try {
            supervisor.abandon();
        } finally {
            onMasterExit(1);
        }
    }

    private void onReply(Action.Reply reply) {
        CompletableFuture<String> f = pending.remove(reply.requestId());
        if (f == null) {
            return;
        }
        if (reply.ok()) {
            f.complete(reply.message());
        } else {
            f.completeExceptionally(new IllegalStateException(reply.message()));
        }
    }

    private void onMasterExit(int code) {
        loop.stop();
        // answer waiting commands first: a control session closes sooner once its command has its answer
        pending.values().forEach(f -> f.completeExceptionally(new IllegalStateException("the master has exited")));
        pending.clear();
        try {
            for (Closeable c : resources) {
                try {
                    c.close();
                } catch (IOException | RuntimeException e) {
                    log.debug("closing {} failed", c, e);
                }
            }
            deleteQuietly(workersDir);
            messages.shutdown();
            if (config.signals()) {
                SignalTrap.restore();
            }
            log.info("master {} exits with code {}", pid, code);
        } finally {
            // whatever failed above (an Error: a class the replaced jar no longer has), main must not wait forever
            exitCode.complete(code);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            log.debug("cannot clean {}", dir, e);
        }
    }

    /** What an upgrade needs from this master; called on the loop. */
    private final class UpgradeHost implements MasterUpgrade.Host {
        @Override
        public void releaseForUpgrade() {
            if (surfaces != null && surfaces.http() != null) {
                try {
                    surfaces.http().close();   // the new master binds the HTTP status port
                } catch (IOException e) {
                    log.debug("closing the HTTP status port for the upgrade", e);
                }
            }
        }

        @Override
        public void restoreAfterFailedUpgrade() {
            try {
                if (config.httpPort() != null) {
                    dev.clustermaster.control.HttpStatusServer http = dev.clustermaster.control.HttpStatusServer.start(
                            ClusterMaster.this, config.httpAddress(), config.httpPort());
                    resources.add(http::close);
                    httpAddress = http.address();
                }
                if (config.repl() && !Files.exists(config.replSocket())
                        || config.repl() && Files.exists(config.replSocket()) && !answers(config.replSocket())) {
                    dev.clustermaster.control.ControlServer repl = ControlSurfaces.startRepl(config, ClusterMaster.this);
                    if (repl != null) {
                        resources.add(repl::close);
                    }
                }
            } catch (IOException | RuntimeException e) {
                log.error("after the failed upgrade the control surfaces could not be restored: {}", e.getMessage());
            }
        }

        @Override
        public void handedOver(int newPid) {
            handedOver = true;
            sdNotify.redirect(null);   // systemd now listens to the new master only
            quit();
        }

        @Override
        public void submit(Runnable task) {
            loop.submit(task);
        }

        private boolean answers(Path socket) {
            try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket))) {
                return true;
            } catch (IOException e) {
                return false;
            }
        }
    }


    /**
     * Callbacks from the fd poller thread: they only enqueue, to the loop or (the user's onMessage handler, which
     * may take its time) to the message thread.
     */
    private final class WorkerEvents implements WorkerLauncher.Callbacks {
        @Override
        public void ready(long workerId) {
            loop.submit(() -> supervisor.dispatch(new Event.Ready(workerId)));
        }

        @Override
        public void notify(long workerId, Map<String, String> message) {
            for (Event e : NotifyMessages.events(workerId, message)) {
                loop.submit(() -> supervisor.dispatch(e));
            }
        }

        @Override
        public void ipcLine(long workerId, String line) {
            IpcFrame frame;
            try {
                frame = IpcFrame.decode(line);
            } catch (IllegalArgumentException e) {
                log.warn("worker {}: {}", workerId, e.getMessage());
                return;
            }
            switch (frame.kind()) {
                case MSG -> {
                    if (!messages.isShutdown()) {
                        messages.execute(() -> onWorkerMessage(workerId, frame));
                    }
                }
                case NOTIFY -> notify(workerId, SdNotify.parse(frame.payload()));
                case HELD -> loop.submit(() -> supervisor.dispatch(new Event.Held(workerId)));
                default -> log.debug("worker {}: ignoring IPC frame {}", workerId, frame.kind());
            }
        }

        private void onWorkerMessage(long workerId, IpcFrame frame) {
            BiFunction<WorkerInfo, String, String> handler = config.onMessage();
            WorkerView w = supervisor.snapshot().workers().stream().filter(v -> v.workerId() == workerId).findFirst().orElse(null);
            WorkerInfo info = new WorkerInfo(w == null ? 0 : w.slot(), workerId, w == null ? 0 : w.pid());
            String answer;
            try {
                answer = handler == null ? "" : handler.apply(info, frame.payload());
            } catch (RuntimeException e) {
                log.warn("onMessage handler failed for worker {}", info.slot(), e);
                answer = "error: " + e.getMessage();
            }
            if (handler == null) {
                log.info("message from worker {}: {}", info.slot(), frame.payload());
            }
            if (frame.id() != 0) {
                String reply = new IpcFrame(IpcFrame.Kind.REPLY, frame.id(), answer == null ? "" : answer).encode();
                loop.submit(() -> supervisor.reply(workerId, reply));
            }
        }

        @Override
        public void ipcClosed(long workerId) {
            log.debug("worker {} closed its IPC channel", workerId);
        }
    }
}
