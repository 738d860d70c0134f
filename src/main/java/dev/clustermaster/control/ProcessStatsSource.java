package dev.clustermaster.control;

import java.util.Optional;

/** Where status output gets rss/cpu from; a fake in tests, {@link ProcessStats} in production. */
@FunctionalInterface
public interface ProcessStatsSource {

    /** Empty when the process is gone or /proc cannot be read. */
    Optional<ProcessSample> sample(int pid);

    ProcessStatsSource NONE = pid -> Optional.empty();
}
