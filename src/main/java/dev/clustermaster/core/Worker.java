package dev.clustermaster.core;

/** The master's mutable record of one worker incarnation. Package-private: only {@link Master} changes it. */
final class Worker {
    final long id;
    final int slot;
    final int restarts;
    final long spawnRequestedAt;
    int pid;
    WorkerState state = WorkerState.SPAWNING;
    long startedAt;
    long stopDeadline;
    boolean killSent;
    /** Old worker of a rolling restart: still serving, stopped once its replacement is ready. */
    boolean retiring;
    /** Stopped on purpose (quit, resize, restart, stopWorkers): its exit is not a crash. */
    boolean expectedExit;

    Worker(long id, int slot, int restarts, long now) {
        this.id = id;
        this.slot = slot;
        this.restarts = restarts;
        this.spawnRequestedAt = now;
        this.startedAt = now;
    }

    boolean live() {
        return state != WorkerState.STOPPING;
    }

    String describe() {
        return "worker " + slot + (pid > 0 ? " (pid " + pid + ")" : "");
    }

    WorkerView view(long now, long wallNow) {
        return new WorkerView(id, slot, restarts, pid, state, wallNow - (now - startedAt));
    }
}
