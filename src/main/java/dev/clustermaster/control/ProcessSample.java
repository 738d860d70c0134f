package dev.clustermaster.control;

/**
 * Resource usage of one process at one moment, read from /proc.
 *
 * @param pid            process id
 * @param rssBytes       resident set size
 * @param cpuTicks       user + system CPU time in clock ticks (USER_HZ, 100 per second on Linux)
 * @param startTimeTicks start time after boot in clock ticks
 * @param state          one-letter kernel state (R, S, D, Z, ...)
 */
public record ProcessSample(int pid, long rssBytes, long cpuTicks, long startTimeTicks, char state) {

    /** The kernel always reports /proc times in USER_HZ, which is 100 on every Linux ABI in use. */
    public static final int TICKS_PER_SECOND = 100;

    public double cpuSeconds() {
        return cpuTicks / (double) TICKS_PER_SECOND;
    }
}
