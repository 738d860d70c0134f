package dev.clustermaster.runtime;

import dev.clustermaster.os.NotifyListener;
import dev.clustermaster.os.WorkerIpc;

import java.util.function.IntConsumer;

/** What the runtime holds for one live worker process: its pid and its two private sockets. */
final class WorkerHandle {
    final long workerId;
    final int slot;
    final int pid;
    final WorkerIpc channel;
    final NotifyListener notify;
    /** A warm spare was promoted into this slot (loop thread): its captured output is tagged with it from now on. */
    volatile IntConsumer onPromoted = slot -> { };
    /** Readiness probe and PORT reservation, if any: released with the handle. */
    private final Runnable onClose;

    WorkerHandle(long workerId, int slot, int pid, WorkerIpc channel, NotifyListener notify) {
        this(workerId, slot, pid, channel, notify, () -> { });
    }

    WorkerHandle(long workerId, int slot, int pid, WorkerIpc channel, NotifyListener notify, Runnable onClose) {
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
