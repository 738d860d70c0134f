package dev.clustermaster.core;

/**
 * Capped exponential restart delay for a slot that keeps crashing.
 * The first crash after a healthy run restarts at once (a kill -9 must heal fast);
 * from the second consecutive crash on the delay doubles from {@code initialMillis} up to {@code maxMillis}.
 */
public record Backoff(long initialMillis, long maxMillis) {

    public Backoff {
        if (initialMillis < 0 || maxMillis < initialMillis) {
            throw new IllegalArgumentException("backoff needs 0 <= initial <= max, got " + initialMillis + ", " + maxMillis);
        }
    }

    /** @param consecutiveFailures crashes in a row, counting the one just seen (>= 1) */
    public long delayMillis(int consecutiveFailures) {
        if (consecutiveFailures <= 1) {
            return 0;
        }
        int doublings = Math.min(consecutiveFailures - 2, 40);
        long delay = initialMillis << doublings;
        return delay < 0 || delay > maxMillis ? maxMillis : delay;
    }
}
