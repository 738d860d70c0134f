package dev.clustermaster.core;

import java.util.ArrayDeque;
import java.util.Deque;

/** What the master remembers about a slot across its workers: restart count and crash backoff. */
final class SlotHistory {
    /** Workers started in this slot so far; the next one gets this as CM_RESTART. */
    int started;
    int consecutiveFailures;
    long nextSpawnAt;
    String lastFailure = "";
    /** Times of the latest failures of the current streak, oldest first, at most the crash-loop limit. */
    final Deque<Long> recentFailures = new ArrayDeque<>();

    boolean failing() {
        return consecutiveFailures >= 2;
    }
}
