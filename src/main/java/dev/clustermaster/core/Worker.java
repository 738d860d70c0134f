package dev.clustermaster.core;

/** The master's mutable record of one worker incarnation. Package-private: only {@link Master} changes it. */
final class Worker {
    final long id;
    /** 0 while a warm spare: it takes a slot (and that slot's restart count) when promoted. */
    int slot;
    int restarts;
    /** Started as a warm spare; false once promoted. */
    boolean spare;
    /** A promoted spare that has not yet said READY=1 (it accepts) since its promotion: when promoted; -1: none. */
    long promotedAt = -1;
    final long spawnRequestedAt;
    int pid;
    WorkerState state = WorkerState.SPAWNING;
    long startedAt;
    /** Since its start, or a spare's promotion: a healthy run (healthy.uptime) counts from here, not from a hold. */
    long inSlotSince;
    long readyAt;
    long stopDeadline;
    boolean killSent;
    /** Old worker of a rolling restart or recycle: still serving, stopped once its replacement passed probation. */
    boolean retiring;
    /** Stopped on purpose (quit, resize, restart, stopWorkers, recycling): its exit is not a crash. */
    boolean expectedExit;
    /** A replacement that is READY but must stay up until then before its old worker is stopped; 0: none. */
    long probationUntil;
    /** Time of the last WATCHDOG=1; watched only once the worker sent the first one. */
    long lastPing;
    boolean watchdogArmed;
    /** Hung: the stop signal follows the thread-dump signal at this time; 0: none pending. */
    long stopAt;
    boolean hung;
    /** When the operator last signalled it (signal command), -1: never. An exit soon after is not a crash. */
    long operatorSignalAt = -1;
    Signal operatorSignal;
    /** Last STATUS= text. */
    String status = "";
    /** Set when the worker must be recycled (or is being): why. */
    RecycleReason recycle;
    long rssBytes;
    /** Recycled for age at this time; 0: never. */
    long maxAgeAt;

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
        return (spare ? "spare worker" : "worker " + slot) + (pid > 0 ? " (pid " + pid + ")" : "");
    }

    WorkerView view(long now, long wallNow) {
        String note = spare ? (state == WorkerState.STARTING ? WorkerView.SPARE + ", starting" : WorkerView.SPARE)
                : hung ? "hung"
                : probationUntil > 0 ? "probation"
                : retiring && recycle != null ? "recycling: " + recycle.label()
                : retiring ? "being replaced" : "";
        return new WorkerView(id, slot, restarts, pid, state, wallNow - (now - startedAt), status, note);
    }
}
