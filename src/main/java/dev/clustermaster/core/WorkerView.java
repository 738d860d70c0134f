package dev.clustermaster.core;

/**
 * Immutable picture of one worker, for status output (REPL, HTTP, logs).
 *
 * @param workerId   unique id of this process incarnation (never reused during the master's life)
 * @param slot       stable slot id, exported as CM_CHILD_ID
 * @param restarts   how many times this slot was (re)started before this incarnation, exported as CM_RESTART
 * @param pid        process id, 0 while spawning
 * @param state      lifecycle state
 * @param startedAtMillis wall-clock start time (epoch millis), for ages
 * @param status     the worker's last STATUS= text, empty when it sent none
 * @param note       what the master is doing with it beyond its state ("probation", "recycling: rss", "hung"), or empty
 */
public record WorkerView(long workerId, int slot, int restarts, int pid, WorkerState state, long startedAtMillis,
                         String status, String note) {

    /** The note of a warm spare (slot 0, not serving until promoted); a starting one's note follows it. */
    public static final String SPARE = "spare";

    public WorkerView(long workerId, int slot, int restarts, int pid, WorkerState state, long startedAtMillis) {
        this(workerId, slot, restarts, pid, state, startedAtMillis, "", "");
    }

    /** A warm spare, started and held, serving no slot yet. */
    public boolean spare() {
        return note.startsWith(SPARE);
    }
}
