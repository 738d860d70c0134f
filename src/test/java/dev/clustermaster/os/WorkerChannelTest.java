package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkerChannelTest {
    private final Kids kids = new Kids();
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final CountDownLatch eof = new CountDownLatch(1);

    @AfterEach
    void cleanup() {
        kids.close();
    }

    @Test
    void roundTripWithAChildAndEofWhenItExits() throws Exception {
        try (WorkerChannel ch = WorkerChannel.open()) {
            assertTrue(Libc.isCloexec(ch.childFd()));
            int pid = kids.sh("read l <&3; echo \"got $l\" >&3; read m <&3; echo \"and $m\" >&3",
                    Map.of(3, ch.childFd()));
            ch.closeChildEnd();
            ch.startReading("chan-test", lines::add, eof::countDown);
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
    void closeGivesTheWorkerEof() throws Exception {
        WorkerChannel ch = WorkerChannel.open();
        int pid = kids.sh("while read l <&3; do echo \"$l\" >&3; done; exit 42", Map.of(3, ch.childFd()));
        ch.closeChildEnd();
        ch.startReading("chan-close", lines::add, eof::countDown);
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
        try (WorkerChannel ch = WorkerChannel.open(200)) {
            kids.spawn(Map.of(3, ch.childFd()), "sleep", "100");
            ch.closeChildEnd();
            String big = "y".repeat(64 * 1024);
            long start = System.nanoTime();
            boolean sent = true;
            for (int i = 0; i < 200 && sent; i++) {   // socket buffers hold a few hundred KiB at most
                sent = ch.send(big);
            }
            assertFalse(sent, "send must eventually fail");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "bounded by the send timeout");
        }
    }

    @Test
    void overlongLineFromTheWorkerClosesTheChannel() throws Exception {
        try (WorkerChannel ch = WorkerChannel.open()) {
            int pid = kids.sh("head -c 1100000 /dev/zero | tr '\\0' z >&3; echo >&3; sleep 100",
                    Map.of(3, ch.childFd()));
            ch.closeChildEnd();
            ch.startReading("chan-long", lines::add, eof::countDown);
            assertTrue(eof.await(5, TimeUnit.SECONDS), "channel closed on the overlong line");
            assertEquals(List.of(), List.copyOf(lines));
            assertFalse(ch.send("x"));
            ProcessGroups.signalGroup(pid, Signals.SIGKILL);
        }
    }
}
