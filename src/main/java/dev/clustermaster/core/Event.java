package dev.clustermaster.core;

/** Everything that can happen to the master. The runtime turns OS facts into these; the core decides. */
public sealed interface Event {

    /** Time passed; lets deadlines (grace, stop timeout, backoff) fire. */
    record Tick() implements Event {}

    record Spawned(long workerId, int pid) implements Event {}

    record SpawnFailed(long workerId, String error) implements Event {}

    /** The worker's main process was reaped. */
    record Exited(long workerId, WorkerExit exit) implements Event {}

    /** The worker said READY=1. */
    record Ready(long workerId) implements Event {}

    /** A warm spare waits to be promoted (it holds its accept in ClusterWorker.inheritedListener()): it is warm. */
    record Held(long workerId) implements Event {}

    /** The worker said WATCHDOG=1: it is alive; from now on it must repeat that within the watchdog interval. */
    record WatchdogPing(long workerId) implements Event {}

    /** The worker said STATUS=text. */
    record WorkerStatus(long workerId, String text) implements Event {}

    /** The worker asked to be replaced (RECYCLE=1): a fresh one is started and made ready first. */
    record RecycleRequested(long workerId) implements Event {}

    /** Answer to {@link Action.SampleUsage}: the resident memory of one worker's main process. */
    record Usage(long workerId, long rssBytes) implements Event {}

    /** A signal reached the master: HUP, INT, TERM, TTIN, TTOU act; others are ignored. */
    record SignalReceived(Signal signal) implements Event {}

    /** A command from the API or a control surface; {@code requestId} is echoed in the {@link Action.Reply}. */
    record Command(long requestId, Request request) implements Event {}

    sealed interface Request {}

    record Resize(int size) implements Request {}

    record Restart() implements Request {}

    /**
     * A new configuration (reload): adopt its timing rules, then a rolling restart replaces every worker. The size
     * is adopted only when given (the config's size changed): else a size set at runtime (resize, TTIN) stays.
     */
    record Reload(Policy policy, java.util.OptionalInt size) implements Request {}

    record Quit() implements Request {}

    record QuitHard() implements Request {}

    /** Gracefully stop the current workers; their slots start fresh ones. */
    record StopWorkers() implements Request {}

    /** Send a signal to the process groups of one slot's workers, or all when slot is null. */
    record SignalWorkers(Integer slot, Signal signal) implements Request {}
}
