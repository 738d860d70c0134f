package dev.clustermaster.core;

/** What the master remembers about a slot across its workers: restart count and crash backoff. */
final class SlotHistory {
    /** Workers started in this slot so far; the next one gets this as CM_RESTART. */
    int started;
    int consecutiveFailures;
    long nextSpawnAt;
    String lastFailure = "";

    boolean failing() {
        return consecutiveFailures >= 2;
    }
}
