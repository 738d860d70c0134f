package dev.clustermaster.runtime;

import dev.clustermaster.os.NotifyListener;
import dev.clustermaster.os.WorkerChannel;

/** What the runtime holds for one live worker process: its pid and its two private sockets. */
final class WorkerHandle {
    final long workerId;
    final int slot;
    final int pid;
    final WorkerChannel channel;
    final NotifyListener notify;
    /** Readiness probe and PORT reservation, if any: released with the handle. */
    private final Runnable onClose;

    WorkerHandle(long workerId, int slot, int pid, WorkerChannel channel, NotifyListener notify) {
        this(workerId, slot, pid, channel, notify, () -> { });
    }

    WorkerHandle(long workerId, int slot, int pid, WorkerChannel channel, NotifyListener notify, Runnable onClose) {
        this.workerId = workerId;
        this.slot = slot;
        this.pid = pid;
        this.channel = channel;
        this.notify = notify;
        this.onClose = onClose;
    }

    void close() {
        channel.close();
        notify.close();
        onClose.run();
    }
}
