package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkerPipesTest {
    private final Kids kids = new Kids();
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final CountDownLatch eof = new CountDownLatch(1);

    @AfterEach
    void cleanup() {
        kids.close();
    }

    @Test
    void roundTripWithAChildAndEofWhenItExits() throws Exception {
        try (WorkerPipes ch = WorkerPipes.open()) {
            Map<Integer, Integer> fds = ch.childFds(3);
            assertEquals(2, fds.size());
            fds.values().forEach(fd -> assertTrue(Libc.isCloexec(fd), "child ends reach a child only through the fd map"));
            int pid = kids.sh("read l <&3; echo \"got $l\" >&4; read m <&3; echo \"and $m\" >&4", fds);
            ch.closeChildEnd();
            ch.startReading("pipes-test", lines::add, eof::countDown);
            assertTrue(ch.send("hello"));
            assertEquals("got hello", lines.poll(5, TimeUnit.SECONDS));
            assertTrue(ch.send("more words"));
            assertEquals("and more words", lines.poll(5, TimeUnit.SECONDS));
            assertTrue(eof.await(5, TimeUnit.SECONDS), "EOF after the worker exited");
            assertTrue(kids.awaitExit(pid).success());
            assertFalse(ch.send("late"), "send after EOF");
        }
    }

    @Test
    void theWorkerCanReopenItsEndsThroughProc() throws Exception {
        try (WorkerPipes ch = WorkerPipes.open()) {
            // what a JVM worker does: open /proc/self/fd/N rather than use the number
            int pid = kids.sh("exec 5</proc/self/fd/3 6>/proc/self/fd/4; read l <&5; echo \"re $l\" >&6", ch.childFds(3));
            ch.closeChildEnd();
            ch.startReading("pipes-proc", lines::add, eof::countDown);
            assertTrue(ch.send("opened"));
            assertEquals("re opened", lines.poll(5, TimeUnit.SECONDS));
            assertTrue(kids.awaitExit(pid).success());
            assertTrue(eof.await(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void closeGivesTheWorkerEof() throws Exception {
        WorkerPipes ch = WorkerPipes.open();
        int pid = kids.sh("while read l <&3; do echo \"$l\" >&4; done; exit 42", ch.childFds(3));
        ch.closeChildEnd();
        ch.startReading("pipes-close", lines::add, eof::countDown);
        assertTrue(ch.send("one"));
        assertEquals("one", lines.poll(5, TimeUnit.SECONDS));
        ch.close();
        assertEquals(new ExitStatus(42, 0), kids.awaitExit(pid));
        assertTrue(eof.await(5, TimeUnit.SECONDS), "our reader ends too");
        assertFalse(ch.send("after close"));
        ch.close();
    }

    @Test
    void sendGivesUpOnAWorkerThatNeverReads() throws Exception {
        try (WorkerPipes ch = WorkerPipes.open(200)) {
            kids.spawn(ch.childFds(3), "sleep", "100");
            ch.closeChildEnd();
            String big = "y".repeat(16 * 1024);
            long start = System.nanoTime();
            boolean sent = true;
            for (int i = 0; i < 100 && sent; i++) {   // a pipe holds 64 KiB by default, 1 MiB at most
                sent = ch.send(big);
            }
            assertFalse(sent, "send must eventually fail");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "bounded by the send timeout");
        }
    }

    @Test
    void overlongLineFromTheWorkerClosesTheChannel() throws Exception {
        try (WorkerPipes ch = WorkerPipes.open()) {
            kids.sh("head -c 1100000 /dev/zero | tr '\\0' z >&4; echo >&4; sleep 100", ch.childFds(3));
            ch.closeChildEnd();
            ch.startReading("pipes-long", lines::add, eof::countDown);
            assertTrue(eof.await(10, TimeUnit.SECONDS), "an overlong line ends the channel");
            assertTrue(lines.isEmpty());
        }
    }
}
