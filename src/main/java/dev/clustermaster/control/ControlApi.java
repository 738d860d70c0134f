package dev.clustermaster.control;

import dev.clustermaster.core.ClusterSnapshot;

import java.util.concurrent.CompletableFuture;

/**
 * What the control surfaces (REPL, ctl, HTTP) may ask of a running master.
 * Implemented by the runtime; every call only enqueues work for the event loop,
 * so it is safe from any thread. Futures complete with a one-line human answer,
 * or exceptionally with an {@link IllegalArgumentException}/{@link IllegalStateException} whose message is the error.
 */
public interface ControlApi {

    ClusterSnapshot snapshot();

    /** Keep n workers (n >= 0). Completes when the resize was applied (not when new workers are ready). */
    CompletableFuture<String> resize(int n);

    /** Graceful rolling restart; completes when every slot was replaced (or the restart failed). */
    CompletableFuture<String> restart();

    /** Graceful quit of the whole master: SIGTERM to workers, drain, SIGKILL after the timeout, exit 0. */
    CompletableFuture<String> stop();

    /** Hard quit: SIGKILL to every worker group, exit 1. */
    CompletableFuture<String> kill();

    /**
     * Re-read the configuration the master was started from and apply it through a rolling restart; completes
     * like {@link #restart()}, or fails at once with a one-line reason when the new configuration is invalid
     * (the running workers are kept).
     */
    default CompletableFuture<String> reload() {
        return CompletableFuture.failedFuture(new IllegalStateException("reload is not supported by this master"));
    }

    /** How long a rolling restart may legitimately take now; empty: the control surface's own limit applies. */
    default java.util.Optional<java.time.Duration> restartBudget() {
        return java.util.Optional.empty();
    }

    /** Gracefully stop the current workers; they are started again (the slots stay). */
    CompletableFuture<String> stopWorkers();

    /**
     * Send a signal to the process group of one slot's workers, or of every worker when slot is null.
     * @param signalName "TERM", "SIGTERM", "HUP", "USR1", "KILL", ... (case-insensitive)
     * @return a one-line answer, e.g. "sent SIGUSR1 to 4 workers"
     */
    CompletableFuture<String> signal(Integer slot, String signalName);

    /** Set the log level of the master and (through the IPC channel) of every Java worker. */
    CompletableFuture<String> setLogLevel(String level);

    /**
     * Moves the master to new code (e.g. after a package upgrade): a new master on the same listening sockets takes
     * over once its workers are ready; completes then, or fails with the reason while the old master keeps serving.
     */
    default CompletableFuture<String> upgrade() {
        return CompletableFuture.failedFuture(new IllegalStateException("this master cannot upgrade itself"));
    }

    /** Name of the control socket path, or "" when disabled. */
    String controlSocketPath();
}
