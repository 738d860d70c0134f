package dev.clustermaster.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The per-JVM state behind {@link ClusterWorker}: the IPC channel, the registered handlers, sd_notify states.
 * Created on first use (by {@link WorkerMain} at startup, or by the first API call of a worker started otherwise).
 */
final class WorkerRuntime implements IpcChannel.Peer {

    private static WorkerRuntime instance;

    private final WorkerEnv env;
    /** Completes once connecting was tried; empty when there is no channel (not under a master, or it failed). */
    private final CompletableFuture<Optional<IpcChannel>> channel = new CompletableFuture<>();
    private volatile Function<String, String> messageHandler;
    private final List<Consumer<String>> logLevelListeners = new CopyOnWriteArrayList<>();

    private WorkerRuntime(WorkerEnv env) {
        this.env = env;
    }

    static synchronized WorkerRuntime get() {
        if (instance == null) {
            instance = new WorkerRuntime(WorkerEnv.current());
            instance.applyInitialLogLevel();
            instance.connect();
        }
        return instance;
    }

    /** A level the master was set to before this worker started (CM_LOG_LEVEL) applies from the start. */
    private void applyInitialLogLevel() {
        if (!env.logLevel().isEmpty()) {
            onLogLevel(env.logLevel());
        }
    }

    WorkerEnv env() {
        return env;
    }

    /**
     * A worker started with {@code --main}/{@code --jar} gets an IPC pipe pair, opened here with the JDK alone
     * (microseconds, so synchronously). Otherwise (a JVM the master runs as a plain command) the socketpair and
     * NOTIFY_SOCKET need jnr-unixsocket: loading it takes ~0.5 s of CPU, so that happens on a daemon thread
     * while the worker's own main starts.
     */
    private void connect() {
        if (env.ipcPipes()) {
            channel.complete(openPipes());
            return;
        }
        if (env.ipcFd() < 0 && env.notifySocket().isEmpty()) {
            MasterLoss.watchParent(env.masterPid());
            channel.complete(Optional.empty());
            return;
        }
        Thread t = new Thread(() -> channel.complete(openSocket()), "cm-ipc-connect");
        t.setDaemon(true);
        t.start();
    }

    private Optional<IpcChannel> openPipes() {
        try {
            IpcChannel ipc = new IpcChannel(PipePair.open(env.ipcInFd(), env.ipcOutFd()), this);
            ipc.start();
            return Optional.of(ipc);
        } catch (IOException | RuntimeException e) {
            WorkerLog.warn("cannot open the IPC pipes " + env.ipcInFd() + "/" + env.ipcOutFd() + " (" + e
                    + "); READY=1, status and master messages are disabled");
            MasterLoss.watchParent(env.masterPid());
            return Optional.empty();
        }
    }

    private Optional<IpcChannel> openSocket() {
        Optional<NativeTransport> transport = Transports.get();
        if (env.ipcFd() < 0 || transport.isEmpty()) {
            MasterLoss.watchParent(env.masterPid());
            return Optional.empty();
        }
        try {
            IpcChannel ipc = new IpcChannel(transport.get().openStream(env.ipcFd()), this);
            ipc.start();
            return Optional.of(ipc);
        } catch (IOException | RuntimeException e) {
            WorkerLog.warn("cannot use IPC fd " + env.ipcFd() + " (" + e + "); messages from the master are disabled");
            MasterLoss.watchParent(env.masterPid());
            return Optional.empty();
        }
    }

    /** Sends an sd_notify state: a NOTIFY frame on the pipes, else a datagram to NOTIFY_SOCKET; false when neither works. */
    boolean notifyMaster(String state) {
        if (env.ipcPipes()) {
            return channel.join().map(ipc -> ipc.notifyMaster(state)).orElse(false);
        }
        if (env.notifySocket().isEmpty()) {
            return false;
        }
        Optional<NativeTransport> transport = Transports.get();
        if (transport.isEmpty()) {
            return false;
        }
        try {
            transport.get().sendDatagram(env.notifySocket(), state.getBytes(StandardCharsets.UTF_8));
            return true;
        } catch (IOException | RuntimeException e) {
            WorkerLog.warn("cannot notify " + env.notifySocket() + " of " + state, e);
            return false;
        }
    }

    /** A spare reached its hold: the master may count it warm (no channel: it never will, and says why). */
    void held() {
        if (!channel.join().map(IpcChannel::held).orElse(false)) {
            WorkerLog.warn("this spare cannot tell the master it is warm (no IPC channel): it waits unpromoted");
        }
    }

    CompletableFuture<String> send(String text) {
        return channel.thenCompose(c -> c
                .map(ipc -> ipc.send(text))
                .orElseGet(() -> CompletableFuture.failedFuture(
                        new IllegalStateException("no IPC channel to a master (CM_IPC_IN_FD/CM_IPC_OUT_FD or CM_IPC_FD unset or unusable)"))));
    }

    void onMessage(Function<String, String> handler) {
        messageHandler = handler;
    }

    void onLogLevel(Consumer<String> listener) {
        logLevelListeners.add(listener);
    }

    @Override
    public String onMessage(String text) {
        Function<String, String> handler = messageHandler;
        if (handler == null) {
            throw new IllegalStateException("the worker registered no ClusterWorker.onMessage handler");
        }
        return handler.apply(text);
    }

    @Override
    public void onLogLevel(String level) {
        try {
            LogLevels.apply(level, Thread.currentThread().getContextClassLoader() != null
                    ? Thread.currentThread().getContextClassLoader() : ClassLoader.getSystemClassLoader());
        } catch (IllegalArgumentException e) {
            WorkerLog.warn("master sent " + e.getMessage());
            return;
        }
        for (Consumer<String> listener : logLevelListeners) {
            try {
                listener.accept(level);
            } catch (RuntimeException e) {
                WorkerLog.warn("onLogLevel listener failed", e);
            }
        }
    }

    @Override
    public void onClosed(String reason) {
        MasterLoss.exit("IPC channel to the master closed (" + reason + ")");
    }
}
