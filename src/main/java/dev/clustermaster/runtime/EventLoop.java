package dev.clustermaster.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The master's one decision thread. Signal handlers, socket threads and API callers only {@link #submit} work;
 * everything that touches master state runs here, one task at a time. Between tasks the thread sleeps until the
 * next deadline the loop is given ({@code nextDeadline}, monotonic millis, {@link #NONE} for none): no periodic
 * tick, so an idle master does not wake at all.
 */
final class EventLoop {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    static final long NONE = Long.MAX_VALUE;
    /** A far deadline is re-read after this long; it only bounds the arithmetic. */
    private static final long MAX_WAIT_MILLIS = 86_400_000;

    private final BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final LongSupplier nextDeadline;
    private final Runnable onDeadline;
    private final Consumer<Error> onFatal;
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param nextDeadline read on the loop thread after every task and deadline run
     * @param onDeadline   runs when the clock reaches nextDeadline
     * @param onFatal      runs (on the loop thread, which then ends) when a task throws an Error: the master's
     *                     state is unknown, so it must exit rather than carry on
     */
    EventLoop(String name, LongSupplier nextDeadline, Runnable onDeadline, Consumer<Error> onFatal) {
        this.nextDeadline = nextDeadline;
        this.onDeadline = onDeadline;
        this.onFatal = onFatal;
        this.thread = new Thread(this::run, name);
        // not a daemon: the loop keeps the master alive until it decides to exit
        this.thread.setDaemon(false);
    }

    void start() {
        thread.start();
    }

    void submit(Runnable task) {
        if (running) {
            queue.add(task);
        }
    }

    boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Ends the loop after the current task; queued tasks are dropped. */
    void stop() {
        running = false;
        queue.add(() -> { });
    }

    void join(long millis) throws InterruptedException {
        thread.join(millis);
    }

    static long nowMillis() {
        return System.nanoTime() / 1_000_000;
    }

    private void run() {
        while (running) {
            try {
                long deadline = nextDeadline.getAsLong();
                Runnable task;
                if (deadline == NONE) {
                    task = queue.take();
                } else {
                    long now = nowMillis();
                    // an overdue deadline still takes one queued task first: deadlines that cost more than their
                    // interval (a crash loop spawning many workers) must not starve commands and reaping.
                    // Whole millis from the current millisecond: wakes at most 1 ms late, never early.
                    task = deadline <= now ? queue.poll()
                            : queue.poll(Math.min(deadline - now, MAX_WAIT_MILLIS), TimeUnit.MILLISECONDS);
                }
                if (task != null && running) {
                    task.run();
                }
                if (running && nextDeadline.getAsLong() <= nowMillis()) {
                    onDeadline.run();
                }
            } catch (InterruptedException e) {
                // nothing interrupts the loop on purpose (stop() is how it ends): a stray interrupt must not end
                // supervision silently, leaving the master's main thread waiting for an exit code forever
                log.warn("event loop interrupted; going on");
            } catch (RuntimeException e) {
                // one bad task must not take supervision down with it
                log.error("event loop task failed", e);
            } catch (Error e) {
                running = false;
                fatal(e);
                return;
            }
        }
    }

    private void fatal(Error e) {
        try {
            log.error("event loop: fatal {}; the master exits with code 1", e, e);
        } catch (Throwable ignored) {
            // logging itself may be what failed (out of memory): still exit
        }
        try {
            onFatal.accept(e);
        } catch (Throwable t) {
            e.addSuppressed(t);
        }
    }
}
