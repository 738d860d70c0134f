package dev.clustermaster.control;

import dev.clustermaster.os.ProcStats;

import java.util.Optional;

/** rss and CPU time of a worker for status output, read through {@link ProcStats}. */
public final class ProcessStats implements ProcessStatsSource {

    @Override
    public Optional<ProcessSample> sample(int pid) {
        if (pid <= 0) {
            return Optional.empty();
        }
        // the process may exit between snapshot and sample: an empty answer, not an error
        return ProcStats.sample(pid).map(s -> new ProcessSample(s.pid(), s.rssBytes(), s.cpuTicks(), s.startTimeTicks(), s.state()));
    }
}
