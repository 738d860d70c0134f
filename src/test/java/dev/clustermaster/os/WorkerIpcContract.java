package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What every {@link WorkerIpc} does, with a real child on the child fds mapped from 3. */
abstract class WorkerIpcContract {
    final Kids kids = new Kids();
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final CountDownLatch eof = new CountDownLatch(1);

    abstract WorkerIpc open(long sendTimeoutMillis) throws IOException;

    /** The fd the worker writes: 3 on a socketpair, 4 on pipes (3 is the read end). */
    abstract int workerWriteFd();

    /** A line size that fills the channel's buffer within 200 sends. */
    abstract int bigLineBytes();

    WorkerIpc open() throws IOException {
        return open(WorkerChannel.DEFAULT_SEND_TIMEOUT_MILLIS);
    }

    @AfterEach
    void cleanup() {
        kids.close();
    }

    @Test
    void roundTripWithAChildAndEofWhenItExits() throws Exception {
        try (WorkerIpc ch = open()) {
            Map<Integer, Integer> fds = ch.childFds(3);
            assertEquals(workerWriteFd() - 2, fds.size());
            fds.values().forEach(fd -> assertTrue(Libc.isCloexec(fd), "child ends reach a child only through the fd map"));
            int out = workerWriteFd();
            int pid = kids.sh("read l <&3; echo \"got $l\" >&" + out + "; read m <&3; echo \"and $m\" >&" + out, fds);
            ch.closeChildEnd();
            ch.startReading("ipc-test", lines::add, eof::countDown);
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
        WorkerIpc ch = open();
        int pid = kids.sh("while read l <&3; do echo \"$l\" >&" + workerWriteFd() + "; done; exit 42", ch.childFds(3));
        ch.closeChildEnd();
        ch.startReading("ipc-close", lines::add, eof::countDown);
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
        try (WorkerIpc ch = open(200)) {
            kids.spawn(ch.childFds(3), "sleep", "100");
            ch.closeChildEnd();
            String big = "y".repeat(bigLineBytes());
            long start = System.nanoTime();
            boolean sent = true;
            for (int i = 0; i < 200 && sent; i++) {
                sent = ch.send(big);
            }
            assertFalse(sent, "send must eventually fail");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "bounded by the send timeout");
        }
    }

    @Test
    void aWorkerThatStopsReadingCostsOneSendTimeoutNotOnePerLine() throws Exception {
        try (WorkerIpc ch = open(1000)) {
            int workerReads = ch.childFds(3).get(3);
            String line = "z".repeat(99);   // + LF: 100 bytes, written whole or not at all
            long sent = 0;
            while (ch.send(line)) {
                sent += 100;
                assertTrue(sent < 100_000_000, "the buffer must fill");
            }
            long start = System.nanoTime();
            for (int i = 0; i < 20; i++) {
                assertFalse(ch.send(line), "the worker still reads nothing");
            }
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(tookMs < 5000, "20 sends to a stalled worker took " + tookMs + " ms (each waited the 1 s send timeout)");
            byte[] buf = new byte[8192];
            for (long left = sent; left > 0; ) {
                long n = Libc.api().read(workerReads, buf, (int) Math.min(buf.length, left));
                assertTrue(n > 0, "the worker end holds what was sent");
                left -= n;
            }
            assertTrue(ch.send(line), "a worker that reads again gets lines again");
        }
    }

    @Test
    void overlongLineFromTheWorkerClosesTheChannel() throws Exception {
        try (WorkerIpc ch = open()) {
            int pid = kids.sh("head -c 1100000 /dev/zero | tr '\\0' z >&" + workerWriteFd() + "; echo >&"
                    + workerWriteFd() + "; sleep 100", ch.childFds(3));
            ch.closeChildEnd();
            ch.startReading("ipc-long", lines::add, eof::countDown);
            assertTrue(eof.await(10, TimeUnit.SECONDS), "an overlong line ends the channel");
            assertEquals(List.of(), List.copyOf(lines));
            assertFalse(ch.send("x"));
            ProcessGroups.signalGroup(pid, Signals.SIGKILL);
        }
    }
}
