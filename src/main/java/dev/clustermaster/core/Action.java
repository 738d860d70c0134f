package dev.clustermaster.core;

/** What the core asks the runtime to do. */
public sealed interface Action {

    /**
     * Start a worker process for this slot; answer with {@link Event.Spawned} or {@link Event.SpawnFailed}. Slot 0:
     * a warm spare (CM_SPARE=1), which must hold its accept until {@link Promote}d.
     */
    record Spawn(long workerId, int slot, int restarts) implements Action {
        public boolean spare() {
            return slot == 0;
        }
    }

    /** A warm spare now serves this slot: tell it (its slot and restart count), so it starts accepting. */
    record Promote(long workerId, int pid, int slot, int restarts) implements Action {}

    /**
     * A warm spare is stopped before it was promoted: tell it over IPC (a STOP frame ends its hold), so an app that
     * handles the stop signal itself is not left waiting in the hold until SIGKILL. Comes before the stop signal.
     */
    record StopSpare(long workerId, int pid) implements Action {}

    /** Send a signal to the process group led by pid (a worker and everything it started). */
    record SignalGroup(long workerId, int pid, Signal signal) implements Action {}

    /** Send a signal to one process only (a thread-dump request must not reach what the worker started). */
    record SignalProcess(long workerId, int pid, Signal signal) implements Action {}

    /** Measure every live worker's memory; answer with one {@link Event.Usage} per worker. */
    record SampleUsage() implements Action {}

    /** A worker is gone for good: release what the runtime holds for it (channels, sockets). */
    record Forget(long workerId) implements Action {}

    /** Tell systemd how the master is doing (sd_notify). */
    record Notify(Notice notice) implements Action {}

    record Log(Level level, String message) implements Action {}

    record Reply(long requestId, boolean ok, String message) implements Action {}

    /** Every worker is gone after a quit: the master exits with this code. */
    record ExitMaster(int code) implements Action {}

    enum Level { DEBUG, INFO, WARN, ERROR }
}
