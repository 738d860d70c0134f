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
 */
public record WorkerView(long workerId, int slot, int restarts, int pid, WorkerState state, long startedAtMillis) {
}
