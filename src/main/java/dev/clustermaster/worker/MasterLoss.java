package dev.clustermaster.worker;

import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ends a worker whose master is gone, so that no orphan keeps serving (or holding a port) unsupervised.
 * The app's stop and the shutdown hooks get {@link #HOOK_GRACE_MILLIS} in all; then the JVM is halted whatever they
 * are doing.
 */
final class MasterLoss {

    static final long HOOK_GRACE_MILLIS = 2000;
    /**
     * The master's death also brings SIGTERM (PR_SET_PDEATHSIG), at the same moment as the IPC channel's EOF: the
     * app's own stop (ClusterWorker.onStop, or a handler of its own) gets this long to drain what is in flight
     * before an exit would cut it. An exit at once raced that drain and closed connections unanswered.
     */
    static final long STOP_SIGNAL_GRACE_MILLIS = 500;
    /** Exit status of a worker that ended because its master vanished. */
    static final int EXIT_STATUS = 1;

    private static final AtomicBoolean EXITING = new AtomicBoolean();

    private MasterLoss() {
    }

    static void exit(String reason) {
        if (!EXITING.compareAndSet(false, true)) {
            return;
        }
        WorkerLog.warn("exiting: " + reason);
        Thread halter = new Thread(() -> {
            try {
                Thread.sleep(HOOK_GRACE_MILLIS);
            } catch (InterruptedException e) {
                // Halt now then.
            }
            Runtime.getRuntime().halt(EXIT_STATUS);
        }, "cm-master-loss-halt");
        halter.setDaemon(true);
        halter.start();
        // System.exit blocks while hooks run (forever if one hangs); keep the caller free.
        Thread exiter = new Thread(() -> {
            try {
                Thread.sleep(STOP_SIGNAL_GRACE_MILLIS);
            } catch (InterruptedException e) {
                // Exit now then.
            }
            if (!GracefulStop.stopping()) {  // draining after the stop signal: its own exit comes, or the halt
                System.exit(EXIT_STATUS);
            }
        }, "cm-master-loss-exit");
        exiter.setDaemon(true);
        exiter.start();
    }

    /**
     * Fallback when there is no IPC channel to hit EOF: poll whether the master is still our parent.
     * Armed only if it is our parent now (a master that started us through a wrapper is not watched).
     */
    static void watchParent(long masterPid) {
        if (masterPid <= 0 || parentPid().orElse(-1L) != masterPid) {
            return;
        }
        Thread watcher = new Thread(() -> {
            while (parentPid().orElse(-1L) == masterPid) {
                try {
                    TimeUnit.MILLISECONDS.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
            exit("master " + masterPid + " is no longer the parent process");
        }, "cm-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static Optional<Long> parentPid() {
        return ProcessHandle.current().parent().map(ProcessHandle::pid);
    }
}
