package dev.clustermaster.config;

/** Who sent a message: given to {@link Config#onMessage()} handlers. */
public record WorkerInfo(int slot, long workerId, int pid) {
}
