package dev.clustermaster.config;

import java.util.OptionalInt;
import java.util.OptionalLong;

/** How many workers to run when the operator did not say: one per CPU, within the child limit and the memory limit. */
public final class DefaultSize {
    private DefaultSize() {
    }

    /**
     * @param cpus            available processors
     * @param maxChildren     MAX_CHILD_PROCESSES, if set
     * @param memoryLimit     cgroup memory limit in bytes, if any
     * @param perWorkerMemory memory budget of one worker in bytes
     */
    public static int compute(int cpus, OptionalInt maxChildren, OptionalLong memoryLimit, long perWorkerMemory) {
        long size = Math.max(1, cpus);
        if (maxChildren.isPresent()) {
            size = Math.min(size, maxChildren.getAsInt());
        }
        if (memoryLimit.isPresent() && perWorkerMemory > 0) {
            size = Math.min(size, Math.max(1, memoryLimit.getAsLong() / perWorkerMemory));
        }
        return (int) Math.max(maxChildren.isPresent() && maxChildren.getAsInt() == 0 ? 0 : 1, size);
    }
}
