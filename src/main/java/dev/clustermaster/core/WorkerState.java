package dev.clustermaster.core;

/** Lifecycle of one worker process, as the master sees it. */
public enum WorkerState {
    /** Spawn requested, pid not known yet. */
    SPAWNING,
    /** Running, not yet ready (no READY=1, grace period not over). */
    STARTING,
    /** Serving. */
    READY,
    /** Asked to stop (SIGTERM sent); waiting for it to exit, SIGKILL at the deadline. */
    STOPPING;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
