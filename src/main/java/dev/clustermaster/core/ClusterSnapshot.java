package dev.clustermaster.core;

import java.util.List;
import java.util.Map;

/**
 * Immutable picture of the whole cluster at one moment.
 *
 * @param masterPid      pid of the master
 * @param desiredSize    how many workers the master keeps
 * @param phase          what the master as a whole is doing
 * @param workers        live workers, ordered by slot then id
 * @param restartProgress human text such as "restarting 2/4", or empty
 * @param failingSlots   slots in crash backoff (each crashed repeatedly before becoming healthy)
 * @param recycled       workers replaced so far by recycling, by reason (every reason present)
 */
public record ClusterSnapshot(int masterPid, int desiredSize, Phase phase, List<WorkerView> workers,
                              String restartProgress, List<Integer> failingSlots, Map<RecycleReason, Long> recycled) {

    public ClusterSnapshot {
        recycled = Map.copyOf(recycled);
    }

    public ClusterSnapshot(int masterPid, int desiredSize, Phase phase, List<WorkerView> workers,
                           String restartProgress, List<Integer> failingSlots) {
        this(masterPid, desiredSize, phase, workers, restartProgress, failingSlots, Map.of());
    }

    /** Ready workers serving a slot; a warm spare is READY too but serves nothing yet. */
    public long readyCount() {
        return workers.stream().filter(w -> w.state() == WorkerState.READY && !w.spare()).count();
    }
}
