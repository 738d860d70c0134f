package dev.clustermaster.core;

/** Why a serving worker is replaced although it did not fail. */
public enum RecycleReason {
    /** Resident memory above worker.max-rss. */
    RSS,
    /** Older than worker.max-age (plus jitter). */
    AGE,
    /** The worker asked (RECYCLE=1, ClusterWorker.recycle()). */
    REQUEST;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
