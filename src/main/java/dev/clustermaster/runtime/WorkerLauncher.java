package dev.clustermaster.runtime;

import dev.clustermaster.config.Config;
import dev.clustermaster.config.Readiness;
import dev.clustermaster.config.ReplSetting;
import dev.clustermaster.os.Fds;
import dev.clustermaster.os.LaunchOptions;
import dev.clustermaster.os.LinePump;
import dev.clustermaster.os.NotifyListener;
import dev.clustermaster.os.OrphanGuard;
import dev.clustermaster.os.Pipe;
import dev.clustermaster.os.ProcessSpawner;
import dev.clustermaster.os.WorkerChannel;
import dev.clustermaster.os.WorkerIpc;
import dev.clustermaster.os.WorkerPipes;
import dev.clustermaster.worker.WorkerEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Turns a Spawn decision into a running process: its private notify socket and IPC channel, the listening
 * sockets at fds 3.., the CM_* environment, output capture in silent mode.
 */
final class WorkerLauncher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("dev.clustermaster.master");
    private static final Logger output = LoggerFactory.getLogger("dev.clustermaster.worker.output");
    private static final int FIRST_LISTEN_FD = 3;

    /** Called on the fd poller thread (or a probe's): implementations only parse and enqueue. */
    interface Callbacks {
        /** The worker is ready by its log line or probe. */
        void ready(long workerId);

        /** One sd_notify message of the worker, every key=value of it (READY, STATUS, WATCHDOG, ...). */
        void notify(long workerId, Map<String, String> message);

        void ipcLine(long workerId, String line);

        void ipcClosed(long workerId);
    }

    /** Swapped by a reload (on the loop thread, like every launch). */
    private Config config;
    private final ProcessSpawner spawner;
    private final List<InheritedSocket> sockets;
    private final Path workersDir;
    private final int masterPid;
    private final Callbacks callbacks;
    private final boolean usePdeathsig;
    private final Map<String, String> listenEnv;
    /** The master's level (CM_LOG_LEVEL at start, then whatever was set at runtime): workers log at it too. */
    private volatile String logLevel = blankToNull(System.getenv(WorkerEnv.LOG_LEVEL));
    /** Held for the master's life: every worker's stdin unless it gets a listener there. */
    private final int devNull;
    /** PORT values of live workers (port.base); only the loop thread touches it. */
    private final Set<Integer> portsInUse = new HashSet<>();
    private ReadyProbes probes;
    /** The app's AppCDS archive (Java workers, java.cds not off); replaced by a reload. */
    private Optional<AppCdsArchive> cds;
    /** Kills the worker groups if the master dies without stopping them (null with pdeathsig=false). */
    private final OrphanGuard orphanGuard;

    WorkerLauncher(Config config, ProcessSpawner spawner, List<InheritedSocket> sockets, Path workersDir, int masterPid,
                   Callbacks callbacks) {
        this.config = config;
        this.spawner = spawner;
        this.sockets = List.copyOf(sockets);
        this.workersDir = workersDir;
        this.masterPid = masterPid;
        this.callbacks = callbacks;
        this.usePdeathsig = config.parentDeathSignal() && LaunchOptions.parentDeathSignalAvailable();
        this.listenEnv = ListenerSetup.workerEnv(config);
        this.devNull = Fds.openDevNullForReading();
        this.orphanGuard = config.parentDeathSignal() ? startOrphanGuard(spawner) : null;
        this.cds = AppCdsArchive.forApp(config, System.getenv());
    }

    /** New workers start from this configuration (a reload); listening sockets and their env stay. */
    void use(Config next) {
        this.config = next;
        Optional<AppCdsArchive> nextCds = AppCdsArchive.forApp(next, System.getenv());
        // the same archive: keep its state, above all the worker that writes it as the restart stops it
        if (nextCds.isEmpty() || cds.isEmpty() || !cds.get().sameArchive(nextCds.get())) {
            this.cds = nextCds;
        }
    }

    /** The worker said it is ready (loop thread): the AppCDS archive checks that its JVM mapped the archive. */
    void ready(long workerId, int pid) {
        cds.ifPresent(c -> c.ready(workerId, pid));
    }

    WorkerHandle launch(long workerId, int slot, int restarts) throws IOException {
        Prepared p = prepare(workerId, slot, restarts);
        int pid;
        try {
            pid = spawn(p);
        } catch (IOException | RuntimeException e) {
            p.abort();
            throw e;
        }
        return start(p, pid);
    }

    /**
     * A worker made ready to spawn on the loop thread: its notify socket, IPC channel, pipes, environment and fd
     * map. Only {@link #spawn} may run on another thread (it touches nothing of the launcher's state), so a mass
     * spawn overlaps the waits of posix_spawn for each child to exec.
     */
    final class Prepared {
        final long workerId;
        final int slot;
        final NotifyListener notify;
        final WorkerIpc channel;
        final Pipe out;
        final Pipe err;
        final Map<String, String> env;
        final LaunchOptions options;
        final Integer port;

        private Prepared(long workerId, int slot, NotifyListener notify, WorkerIpc channel, Pipe out, Pipe err,
                         Map<String, String> env, LaunchOptions options, Integer port) {
            this.workerId = workerId;
            this.slot = slot;
            this.notify = notify;
            this.channel = channel;
            this.out = out;
            this.err = err;
            this.env = env;
            this.options = options;
            this.port = port;
        }

        /** The spawn failed: everything prepared is closed (loop thread). */
        void abort() {
            portsInUse.remove(port);
            cds.ifPresent(c -> c.exited(workerId));
            closeAll(notify, channel, out, err);
        }
    }

    Prepared prepare(long workerId, int slot, int restarts) throws IOException {
        if (!Files.isDirectory(workersDir)) {
            // someone cleaned the runtime dir under us (tmpfiles, an operator): make it again rather than fail every spawn
            Files.createDirectories(workersDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        NotifyListener notify = NotifyListener.bind(workersDir.resolve("w" + workerId + ".notify"),
                msg -> callbacks.notify(workerId, msg));
        WorkerIpc channel = null;
        Pipe out = null;
        Pipe err = null;
        try {
            // a JVM cannot use a socket by fd number with the JDK alone, but it can reopen pipes: no jnr in workers
            channel = config.javaWorker() ? WorkerPipes.open() : WorkerChannel.open();
            Map<Integer, Integer> fds = new LinkedHashMap<>();
            for (int i = 0; i < sockets.size(); i++) {
                fds.put(FIRST_LISTEN_FD + i, sockets.get(i).fd());
            }
            int ipcFd = FIRST_LISTEN_FD + sockets.size();
            fds.putAll(channel.childFds(ipcFd));
            if (config.javaWorker() && !sockets.isEmpty()) {
                // fd 0 is where System.inheritedChannel() looks
                fds.put(0, sockets.get(0).fd());
            } else if (devNull >= 0) {
                // a worker in its own process group reading a terminal would be stopped by SIGTTIN
                fds.put(0, devNull);
            }
            if (config.captureOutput()) {
                out = Pipe.open();
                err = Pipe.open();
                fds.put(1, out.writeFd());
                fds.put(2, err.writeFd());
            }
            Map<String, String> env = environment(workerId, slot, restarts, notify.path(), ipcFd, config.javaWorker());
            Integer port = config.portBase() == null ? null : reservePort();
            if (port != null) {
                env.put("PORT", port.toString());
            }
            return new Prepared(workerId, slot, notify, channel, out, err, env, launchOptions(env, fds, cds.map(c -> c.jvmArgs(workerId)).orElse(List.of())), port);
        } catch (IOException | RuntimeException e) {
            cds.ifPresent(c -> c.exited(workerId));
            closeAll(notify, channel, out, err);
            throw e;
        }
    }

    /** The one step that may run off the loop thread: posix_spawn of a prepared worker. */
    int spawn(Prepared p) throws IOException {
        return spawner.spawn(p.options);
    }

    /** The process runs: the master drops the child's ends and starts reading the worker (loop thread). */
    WorkerHandle start(Prepared p, int pid) {
        long workerId = p.workerId;
        int slot = p.slot;
        Integer port = p.port;
        if (orphanGuard != null) {
            orphanGuard.add(pid);
        }
        p.channel.closeChildEnd();
        // a spare's output is tagged "spare" until its promotion names the slot
        AtomicReference<String> label = new AtomicReference<>(slot == 0 ? "spare" : Integer.toString(slot));
        if (config.captureOutput()) {
            Consumer<String> readyLine = readyLineWatcher(workerId);
            pump(p.out, label, pid, "out", false, readyLine);
            pump(p.err, label, pid, "err", true, readyLine);
        }
        AutoCloseable probe = startProbe(workerId, p.env);
        WorkerIpc ch = p.channel;
        ch.startReading("cm-ipc-" + slot + "-" + pid, line -> callbacks.ipcLine(workerId, line),
                () -> callbacks.ipcClosed(workerId));
        AtomicBoolean released = new AtomicBoolean();
        WorkerHandle h = new WorkerHandle(workerId, slot, pid, ch, p.notify, () -> {
            if (released.compareAndSet(false, true)) {
                if (orphanGuard != null) {
                    orphanGuard.remove(pid);
                }
                portsInUse.remove(port);
                closeQuietly(probe);
                cds.ifPresent(c -> c.exited(workerId));
            }
        });
        h.onPromoted = promoted -> label.set(Integer.toString(promoted));
        return h;
    }

    private static void closeAll(NotifyListener notify, WorkerIpc channel, Pipe out, Pipe err) {
        notify.close();
        if (channel != null) {
            channel.close();
        }
        if (out != null) {
            out.close();
        }
        if (err != null) {
            err.close();
        }
    }

    /** Level set at runtime ("DEBUG", ...), passed to workers started from now on; null: none set. */
    void logLevel(String level) {
        logLevel = level;
    }

    /**
     * The lowest port from port.base up that no live worker holds: a rolling restart's new worker never fights the
     * old one. A port another process listens on is skipped: its worker could only crash-loop on "address in use",
     * and a readiness probe of it would ask the other process.
     */
    private int reservePort() throws IOException {
        for (int p = config.portBase(); p <= 65535; p++) {
            if (!portsInUse.contains(p) && heldByAnotherProcess(p)) {
                log.warn("port.base: port {} is held by another process (not a worker), skipping it; "
                        + "ss -ltnp 'sport = :{}' shows which", p, p);
                continue;
            }
            if (portsInUse.add(p)) {
                return p;
            }
        }
        throw new IOException("no free port left above port.base=" + config.portBase());
    }

    /** A listener on any address of p (the wildcard bind conflicts with them all; SO_REUSEADDR passes TIME_WAIT). */
    private static boolean heldByAnotherProcess(int p) {
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new java.net.InetSocketAddress(p), 1);
            return false;
        } catch (java.net.BindException e) {
            return String.valueOf(e.getMessage()).contains("in use"); // not EACCES: a worker may have the capability
        } catch (IOException e) {
            return false;
        }
    }

    /** With ready=log: reports the worker ready at its first output line that matches. */
    private Consumer<String> readyLineWatcher(long workerId) {
        Readiness r = config.readiness();
        if (r.mode() != Readiness.Mode.LOG) {
            return line -> { };
        }
        Pattern pattern = r.logPattern();
        AtomicBoolean seen = new AtomicBoolean();
        return line -> {
            if (!seen.get() && pattern.matcher(line).find() && seen.compareAndSet(false, true)) {
                callbacks.ready(workerId);
            }
        };
    }

    /** With ready=probe: probes off the loop until the worker answers; the core owns the timeout. */
    private AutoCloseable startProbe(long workerId, Map<String, String> env) {
        Readiness.Probe p = config.readiness().probe();
        if (config.readiness().mode() != Readiness.Mode.PROBE || p == null) {
            return null;
        }
        if (probes == null) {
            probes = new ReadyProbes();
        }
        return probes.start(p, p.host(), p.port(env), () -> callbacks.ready(workerId));
    }

    private static OrphanGuard startOrphanGuard(ProcessSpawner spawner) {
        try {
            return OrphanGuard.start(spawner);
        } catch (IOException | RuntimeException e) {
            log.warn("no orphan guard ({}): outside systemd, workers that ignore SIGTERM and their children may "
                    + "outlive a kill -9 of the master", e.getMessage());
            return null;
        }
    }

    /** The master is done with its workers: the guard exits (killing any group still listed). */
    @Override
    public void close() {
        if (orphanGuard != null) {
            orphanGuard.close();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // a probe that is already gone
        }
    }

    private void pump(Pipe pipe, AtomicReference<String> label, int pid, String stream, boolean stderr, Consumer<String> watcher) {
        pipe.closeWriteEnd();
        LinePump.watch(pipe.detachReadFd(), "cm-" + stream + "-" + label.get() + "-" + pid, line -> {
            String slotText = label.get();
            MDC.put("CM_CHILD_ID", slotText);
            try {
                if (stderr) {
                    output.warn("[{}] {}", slotText, line);
                } else {
                    output.info("[{}] {}", slotText, line);
                }
            } finally {
                MDC.remove("CM_CHILD_ID");
            }
            watcher.accept(line); // after the line is logged: "ready" follows the line that made it so
        }, () -> { });
    }

    /** The master's configuration (config keys as CM_*, MAX_CHILD_PROCESSES, ...); CM_LOG_JOURNAL is for every JVM. */
    static boolean masterSetting(String name) {
        return (name.startsWith("CM_") && !name.equals("CM_LOG_JOURNAL"))
                || name.equals("MAX_CHILD_PROCESSES") || name.equals(ReplSetting.ENV);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    /**
     * The worker's command ({@link Config#workerArgv}: a Java worker's JVM arguments come from there) with the os
     * edge's trampolines: pdeathsig, and LISTEN_PID for a non-Java worker that inherits listeners.
     */
    LaunchOptions launchOptions(Map<String, String> env, Map<Integer, Integer> fds) {
        return launchOptions(env, fds, List.of());
    }

    private LaunchOptions launchOptions(Map<String, String> env, Map<Integer, Integer> fds, List<String> cdsArgs) {
        return new LaunchOptions(AppCdsArchive.withJvmArgs(config.workerArgv(), cdsArgs), env, fds, usePdeathsig, !sockets.isEmpty() && !config.javaWorker());
    }

    Map<String, String> environment(long workerId, int slot, int restarts, Path notifySocket, int ipcFd, boolean ipcPipes) {
        Map<String, String> env = new LinkedHashMap<>(System.getenv());
        env.keySet().removeAll(LaunchOptions.MASTER_ONLY_ENV);
        // the master's own CM_* settings (CM_SIZE, CM_EXEC, ...) configure it, not its workers
        env.keySet().removeIf(WorkerLauncher::masterSetting);
        env.putAll(listenEnv);
        env.putAll(config.env());
        // a spare's slot is known only at promotion (PROMOTE frame; ClusterWorker.id() follows it): 0 until then
        env.put(WorkerEnv.CHILD_ID, Integer.toString(slot));
        if (slot == 0) {
            env.put(WorkerEnv.SPARE, "1");
        }
        env.put(WorkerEnv.RESTART, Integer.toString(restarts));
        env.put(WorkerEnv.MASTER_PID, Integer.toString(masterPid));
        env.put(WorkerEnv.WORKER_ID, Long.toString(workerId));
        env.put(WorkerEnv.NOTIFY_SOCKET, notifySocket.toString());
        if (ipcPipes) {
            env.put(WorkerEnv.IPC_IN_FD, Integer.toString(ipcFd));
            env.put(WorkerEnv.IPC_OUT_FD, Integer.toString(ipcFd + 1));
        } else {
            env.put(WorkerEnv.IPC_FD, Integer.toString(ipcFd));
        }
        long watchdogMillis = config.policy().watchdogMillis();
        if (watchdogMillis > 0) {
            env.put(WorkerEnv.WATCHDOG_USEC, Long.toString(watchdogMillis * 1_000));
        }
        String level = logLevel;
        if (level != null) {
            env.put(WorkerEnv.LOG_LEVEL, level);
        }
        if (!sockets.isEmpty()) {
            env.put(WorkerEnv.LISTEN_FDS, Integer.toString(sockets.size()));
            env.put(WorkerEnv.LISTEN_FDNAMES, String.join(":", sockets.stream().map(InheritedSocket::name).toList()));
        }
        return env;
    }
}
