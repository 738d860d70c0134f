package dev.clustermaster.worker;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Sends WATCHDOG=1 for the worker from a daemon thread, but only while the worker's own loop keeps calling
 * {@link #beat()}: a pinger that does not depend on the main loop would hide exactly the hang the watchdog is for.
 * Made by {@link ClusterWorker#startWatchdog()}.
 */
public final class Heartbeat {
    private final AtomicBoolean beaten = new AtomicBoolean(true);
    private volatile boolean stopped;

    private Heartbeat() {
    }

    static Heartbeat start(Optional<Duration> interval) {
        Heartbeat h = new Heartbeat();
        if (interval.isEmpty()) {
            h.stopped = true;
            return h;
        }
        long periodMillis = Math.max(1, interval.get().toMillis() / 3);
        Thread t = new Thread(() -> h.run(periodMillis), "cm-watchdog");
        t.setDaemon(true);
        t.start();
        return h;
    }

    /** The worker made progress; the next ping may go out. */
    public void beat() {
        beaten.set(true);
    }

    /** No more pings (the master stops watching only when the worker exits: stop only before exiting). */
    public void stop() {
        stopped = true;
    }

    private void run(long periodMillis) {
        while (!stopped) {
            if (beaten.getAndSet(false)) {
                ClusterWorker.watchdog();
            }
            try {
                Thread.sleep(periodMillis);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
