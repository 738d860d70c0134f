package dev.clustermaster.worker;

import java.io.IOException;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A warm spare's hold ({@code CM_SPARE=1}): {@link ClusterWorker#inheritedListener()} blocks here, after the app
 * did its start-up work, until the master promotes this JVM into a slot (a PROMOTE frame on the IPC channel). The
 * master counts the spare as warm from its HELD frame; promoted, the app goes on to accept within milliseconds.
 */
final class SpareHold {
    private static final CountDownLatch PROMOTED = new CountDownLatch(1);
    private static final AtomicBoolean ANNOUNCED = new AtomicBoolean();
    private static volatile boolean stopped;
    private static volatile int slot;
    private static volatile int restarts;

    private SpareHold() {
    }

    static boolean spare() {
        return "1".equals(System.getenv(WorkerEnv.SPARE));
    }

    /** True in a spare until it is promoted. */
    static boolean waiting() {
        return spare() && PROMOTED.getCount() > 0;
    }

    /**
     * Returns at once unless this is a spare not yet promoted; then announces the hold once and waits.
     *
     * @throws IOException when the master stopped this spare instead of promoting it
     */
    static void await(Runnable announceHeld) throws IOException {
        if (!spare() || PROMOTED.getCount() == 0) {
            throwIfStopped();
            return;
        }
        if (ANNOUNCED.compareAndSet(false, true)) {
            announceHeld.run();
        }
        boolean interrupted = false;
        while (true) {
            try {
                PROMOTED.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;  // the promotion is what ends the hold; the interrupt is kept for the caller
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        throwIfStopped();
    }

    private static void throwIfStopped() throws IOException {
        if (stopped) {
            throw new IOException("the master stopped this warm spare before promoting it: exit (the stop signal follows)");
        }
    }

    /** From the master (STOP): this spare will not be promoted; the hold ends with an exception. */
    static void stop() {
        if (PROMOTED.getCount() > 0) {
            stopped = true;
            PROMOTED.countDown();
        }
    }

    /** True once the master stopped this spare before promoting it. */
    static boolean stopped() {
        return stopped;
    }

    /** From the master: "SLOT RESTARTS". */
    static void promote(String payload) {
        if (stopped) {
            return;
        }
        String[] parts = payload.trim().split(" ");
        try {
            slot = Integer.parseInt(parts[0]);
            restarts = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
        } catch (NumberFormatException e) {
            WorkerLog.warn("master sent a malformed promotion '" + payload + "'");
        }
        PROMOTED.countDown();
    }

    /** The slot this spare was promoted into; empty before (and outside a spare). */
    static OptionalInt slot() {
        return PROMOTED.getCount() == 0 && !stopped && spare() ? OptionalInt.of(slot) : OptionalInt.empty();
    }

    static OptionalInt restarts() {
        return PROMOTED.getCount() == 0 && !stopped && spare() ? OptionalInt.of(restarts) : OptionalInt.empty();
    }
}
