package dev.clustermaster.control;

import dev.clustermaster.os.ProcStats;

/**
 * Resource usage of one process at one moment, read from /proc.
 *
 * @param pid            process id
 * @param rssBytes       resident set size
 * @param cpuTicks       user + system CPU time in clock ticks (USER_HZ, see ProcStats.clockTicksPerSecond)
 * @param startTimeTicks start time after boot in clock ticks
 * @param state          one-letter kernel state (R, S, D, Z, ...)
 */
public record ProcessSample(int pid, long rssBytes, long cpuTicks, long startTimeTicks, char state) {

    /** /proc times are in USER_HZ, the one tick rate os/ProcStats reads with sysconf(_SC_CLK_TCK). */
    public double cpuSeconds() {
        return cpuTicks / (double) ProcStats.clockTicksPerSecond();
    }
}
