package dev.clustermaster.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The master's one decision thread. Signal handlers, socket threads and API callers only {@link #submit} work;
 * everything that touches master state runs here, one task at a time. A tick runs at least every
 * {@code tickMillis} so deadlines fire even when nothing else happens.
 */
final class EventLoop {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);

    private final BlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final long tickMillis;
    private final Runnable onTick;
    private final Thread thread;
    private volatile boolean running = true;
    private long lastTick;

    EventLoop(String name, long tickMillis, Runnable onTick) {
        this.tickMillis = tickMillis;
        this.onTick = onTick;
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

    private void run() {
        lastTick = System.nanoTime();
        while (running) {
            try {
                long wait = tickMillis - (System.nanoTime() - lastTick) / 1_000_000;
                // even with a tick overdue take one queued task: ticks slower than the interval (a crash loop
                // spawning many workers) must not starve commands and reaping
                Runnable task = queue.poll(Math.max(wait, 0), TimeUnit.MILLISECONDS);
                if (task != null && running) {
                    task.run();
                }
                if (running && (System.nanoTime() - lastTick) / 1_000_000 >= tickMillis) {
                    lastTick = System.nanoTime();
                    onTick.run();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | Error e) {
                // one bad task must not take supervision down with it
                log.error("event loop task failed", e);
            }
        }
    }
}
