package dev.clustermaster.core;

/**
 * The timing rules the master applies; plain values so the core stays free of configuration parsing.
 *
 * @param requireNotify       true: a worker is ready only when it sends READY=1, and fails if it has not within
 *                            {@code readyTimeoutMillis}; false: READY=1 or {@code readyGraceMillis} of uptime, whichever first
 * @param readyGraceMillis    uptime after which a worker that never notifies counts as ready
 * @param readyTimeoutMillis  how long a notifying worker may take to become ready
 * @param stopTimeoutMillis   SIGTERM to SIGKILL
 * @param surge               slots replaced at once during a rolling restart
 * @param healthyUptimeMillis a worker that ran this long resets its slot's crash count
 */
public record Policy(boolean requireNotify, long readyGraceMillis, long readyTimeoutMillis, long stopTimeoutMillis,
                     int surge, Backoff backoff, long healthyUptimeMillis) {

    public Policy {
        if (surge < 1) {
            throw new IllegalArgumentException("surge must be >= 1");
        }
        if (readyGraceMillis < 0 || readyTimeoutMillis <= 0 || stopTimeoutMillis < 0 || healthyUptimeMillis < 0) {
            throw new IllegalArgumentException("timeouts must not be negative");
        }
    }

    public static Policy defaults() {
        return new Policy(false, 1_000, 60_000, 10_000, 1, new Backoff(500, 30_000), 10_000);
    }
}
