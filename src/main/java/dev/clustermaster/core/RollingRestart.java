package dev.clustermaster.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One pass of a rolling restart: which slots are still to replace, which are being replaced now. */
final class RollingRestart {
    final Deque<Integer> queue = new ArrayDeque<>();
    /** slot -> id of the new worker being started for it. */
    final Map<Integer, Long> inProgress = new LinkedHashMap<>();
    final List<Long> requestIds = new ArrayList<>();
    final int total;
    int done;

    RollingRestart(int size, List<Long> requestIds) {
        for (int slot = 1; slot <= size; slot++) {
            queue.add(slot);
        }
        this.total = size;
        this.requestIds.addAll(requestIds);
    }

    boolean finished() {
        return queue.isEmpty() && inProgress.isEmpty();
    }

    String progress() {
        return "restarting " + Math.min(done + inProgress.size(), total) + "/" + total;
    }
}
