package dev.clustermaster.runtime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventLoopTest {

    @Test
    void anIdleLoopSleepsUntilWorkArrives() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        AtomicInteger deadlines = new AtomicInteger();
        EventLoop loop = new EventLoop("idle-test-loop", () -> {
            asked.incrementAndGet();
            return EventLoop.NONE;
        }, deadlines::incrementAndGet, e -> { });
        loop.start();
        try {
            CountDownLatch ran = new CountDownLatch(1);
            loop.submit(ran::countDown);
            assertTrue(ran.await(10, TimeUnit.SECONDS));
            // after the task the loop asks for its deadline again, then blocks: sample only once it blocks
            Thread loopThread = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("idle-test-loop")).findFirst().orElseThrow();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (loopThread.getState() != Thread.State.WAITING && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertEquals(Thread.State.WAITING, loopThread.getState(), "the idle loop blocks in take()");
            int before = asked.get();
            Thread.sleep(500);  // a window in which a periodic tick (every 100 ms before) would have run
            assertEquals(before, asked.get(), "the loop woke without work or deadline");
            assertEquals(0, deadlines.get());
        } finally {
            loop.stop();
            loop.join(5_000);
        }
    }

    @Test
    void aDeadlineFiresOnTimeWithoutAnyTask() throws Exception {
        long due = EventLoop.nowMillis() + 300;
        AtomicLong deadline = new AtomicLong(due);
        CompletableFuture<Long> firedAt = new CompletableFuture<>();
        EventLoop loop = new EventLoop("test-loop", deadline::get, () -> {
            firedAt.complete(EventLoop.nowMillis());
            deadline.set(EventLoop.NONE);
        }, e -> { });
        loop.start();
        try {
            long at = firedAt.get(10, TimeUnit.SECONDS);
            assertTrue(at >= due, "fired " + (due - at) + " ms early");
        } finally {
            loop.stop();
            loop.join(5_000);
        }
    }

    @Test
    void aRuntimeExceptionIsLoggedAndTheLoopGoesOn() throws Exception {
        EventLoop loop = new EventLoop("test-loop", () -> EventLoop.NONE, () -> { }, e -> { });
        loop.start();
        try {
            loop.submit(() -> {
                throw new IllegalStateException("expected by the test");
            });
            CountDownLatch ran = new CountDownLatch(1);
            loop.submit(ran::countDown);
            assertTrue(ran.await(10, TimeUnit.SECONDS), "the next task still runs");
        } finally {
            loop.stop();
            loop.join(5_000);
        }
    }

    @Test
    void aStrayInterruptDoesNotEndTheLoop() throws Exception {
        EventLoop loop = new EventLoop("test-loop", () -> EventLoop.NONE, () -> { }, e -> { });
        loop.start();
        try {
            loop.submit(() -> Thread.currentThread().interrupt()); // the next take() throws InterruptedException
            CountDownLatch ran = new CountDownLatch(1);
            loop.submit(ran::countDown);
            assertTrue(ran.await(10, TimeUnit.SECONDS), "the loop goes on after an interrupt");
        } finally {
            loop.stop();
            loop.join(5_000);
        }
    }

    @Test
    void anErrorEndsTheLoopThroughOnFatal() throws Exception {
        CompletableFuture<Error> fatal = new CompletableFuture<>();
        EventLoop loop = new EventLoop("fatal-loop", () -> EventLoop.NONE, () -> { }, fatal::complete);
        loop.start();
        AtomicInteger after = new AtomicInteger();
        StackOverflowError boom = new StackOverflowError("expected by the test");
        loop.submit(() -> {
            throw boom;
        });
        assertEquals(boom, fatal.get(10, TimeUnit.SECONDS));
        loop.join(10_000);
        loop.submit(after::incrementAndGet);
        assertFalse(isAlive(loop), "the loop thread ended");
        assertEquals(0, after.get());
    }

    private static boolean isAlive(EventLoop loop) throws InterruptedException {
        loop.join(1);
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("fatal-loop") && t.isAlive());
    }
}
