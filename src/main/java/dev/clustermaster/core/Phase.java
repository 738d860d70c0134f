package dev.clustermaster.core;

import java.util.Locale;

/** What the master as a whole is doing. */
public enum Phase {
    /** Not every slot has been ready yet. */
    STARTING,
    /** Serving; crashed workers are replaced as they die. */
    RUNNING,
    /** A rolling restart (restart or reload) is under way. */
    RESTARTING,
    /** A quit is under way: workers are stopped and not replaced; the master exits when they are gone. */
    STOPPING;

    /** "running": the word status output shows. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
