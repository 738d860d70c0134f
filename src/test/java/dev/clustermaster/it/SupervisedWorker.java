package dev.clustermaster.it;

import dev.clustermaster.worker.ClusterWorker;
import dev.clustermaster.worker.Heartbeat;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test worker driven by files in $OUT: "bad" at start = a new build that dies 1.5 s after READY;
 * "hang.PID" = its main loop stops (the watchdog heartbeat stops with it); "recycle.PID" = asks to be recycled.
 * Slots listed in $PING (e.g. "1") feed the watchdog through a heartbeat beaten by the main loop.
 */
public final class SupervisedWorker {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(System.getenv("OUT"));
        long pid = ProcessHandle.current().pid();
        if (Files.exists(out.resolve("bad"))) {
            ClusterWorker.ready();
            Thread.sleep(1_500);
            System.exit(1);
        }
        // only the slots listed in $PING keep the watchdog alive; the others never send WATCHDOG=1
        Heartbeat heartbeat = System.getenv().getOrDefault("PING", "").contains(Integer.toString(ClusterWorker.id()))
                ? ClusterWorker.startWatchdog() : null;
        ClusterWorker.ready();
        ClusterWorker.status("serving, restart " + ClusterWorker.restartCount());
        boolean askedRecycle = false;
        while (true) {
            if (Files.exists(out.resolve("hang." + pid))) {
                stuckInMainLoop();
            }
            if (!askedRecycle && Files.exists(out.resolve("recycle." + pid))) {
                askedRecycle = ClusterWorker.recycle();
            }
            if (heartbeat != null) {
                heartbeat.beat();
            }
            Thread.sleep(50);
        }
    }

    /** A named frame, so the thread dump shows where the worker hangs. */
    private static void stuckInMainLoop() throws InterruptedException {
        Object lock = new Object();
        synchronized (lock) {
            lock.wait();
        }
    }
}
