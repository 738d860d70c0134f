package dev.clustermaster.it;

import dev.clustermaster.os.Posix;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Warm spares with real JVM workers (the demo worker, which takes its listener from ClusterWorker.inheritedListener()):
 * a killed worker's slot is served by the held spare; a rolling restart stops the stale spare at once although the
 * demo handles SIGTERM itself (the STOP frame ends its hold; the stop timeout is far longer than the wait), replaces
 * every slot and then warms a fresh spare; a worker past worker.max-age is recycled into the warm spare without a
 * failed request. Deadlines are
 * generous; the timing itself is measured in docs/benchmarks.md, not asserted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SpareIT {
    private static final Duration T = Duration.ofSeconds(60);
    private static final Pattern LISTENING = Pattern.compile("listening on \\[tcp://127\\.0\\.0\\.1:(\\d+)]");
    private static final Pattern WARM = Pattern.compile("spare worker \\(pid (\\d+)\\) warm");
    private static final Pattern ANSWER = Pattern.compile("pid (\\d+) worker (\\d+)");

    @TempDir
    static Path dir;
    private MasterProcess master;
    private int port;

    @BeforeAll
    void start() throws Exception {
        master = MasterProcess.start(dir, List.of("CM_LOG_JOURNAL=off", "JOURNAL_STREAM="),
                "--main", "dev.clustermaster.demo.DemoHttpWorker", "--ready", "notify", "--size", "3", "--spare", "1",
                "--probation", "0", "--stop-timeout", "300s", "--listen", "tcp://127.0.0.1:0", "--runtime-dir", dir.resolve("run").toString());
        master.waitForOutput("all 3 workers ready", T);
        Matcher m = LISTENING.matcher(master.output());
        assertTrue(m.find(), master.output());
        port = Integer.parseInt(m.group(1));
    }

    @AfterAll
    void stop() {
        if (master != null) {
            master.close();
        }
    }

    @Test
    @Order(1)
    void aKilledWorkersSlotIsServedByTheHeldSpare() {
        int spare = warmSpares(1).get(0);
        Set<Integer> serving = servingPids(3);
        assertTrue(!serving.contains(spare), "a held spare accepts nothing: " + serving + ", spare " + spare);
        int victim = serving.iterator().next();
        String victimSlot = slotOf(victim);

        assertEquals(0, Posix.get().kill(victim, 9));
        String answer = Wait.value("an answer from the spare (pid " + spare + ")", T, () -> Http.tryGet(port, "/"),
                b -> b != null && b.startsWith("pid " + spare + " "));
        assertTrue(answer.contains("worker " + victimSlot + " "), "the spare took slot " + victimSlot + ": " + answer);
        // the promoted spare may answer before the loop has logged its promotion
        master.waitForOutput("spare (pid " + spare + ") promoted", T);
        warmSpares(2);  // and a new spare warms up
    }

    @Test
    @Order(2)
    void aRollingRestartStopsTheStaleSpareAndWarmsAFreshOneAfterIt() {
        List<Integer> before = warmSpares(2);
        int stale = before.get(before.size() - 1);
        Set<Integer> old = servingPids(3);
        int done = count("rolling restart done");
        assertEquals(0, Posix.get().kill(master.pid(), 1));  // HUP: reload, here the same config: a rolling restart
        Wait.until("the rolling restart to finish", T, () -> count("rolling restart done") > done);
        assertTrue(!master.output().contains("spare (pid " + stale + ") promoted"), "the stale spare was stopped, not promoted");
        // the demo handles SIGTERM itself: only the STOP frame ends its hold, long before the stop timeout's SIGKILL
        Wait.until("the stale spare to exit by itself", T, () -> master.output().contains("spare worker (pid " + stale + ") stopped: exit 0"));
        // "done" comes when the last old worker was told to stop: it may still take a queued connection while it stops
        Wait.until("every slot to serve from a new worker", T, () -> {
            Set<Integer> now = servingPids(3);
            now.retainAll(old);
            return now.isEmpty();
        });
        int fresh = warmSpares(3).get(2);  // a spare again after the restart
        assertTrue(!old.contains(fresh) && fresh != stale);
    }

    @Test
    @Order(3)
    void anOldWorkerIsRecycledIntoTheWarmSpareWithoutAFailedRequest() throws Exception {
        Path own = dir.resolve("recycle");
        try (MasterProcess m = MasterProcess.start(own, List.of("CM_LOG_JOURNAL=off", "JOURNAL_STREAM="),
                "--main", "dev.clustermaster.demo.DemoHttpWorker", "--ready", "notify", "--size", "1", "--spare", "1",
                "--probation", "0", "--max-age", "3s", "--listen", "tcp://127.0.0.1:0", "--runtime-dir", own.resolve("run").toString())) {
            m.waitForOutput("all 1 workers ready", T);
            Matcher lm = LISTENING.matcher(m.output());
            assertTrue(lm.find(), m.output());
            int p = Integer.parseInt(lm.group(1));
            Matcher wm = Wait.value("a warm spare", T, () -> WARM.matcher(m.output()), Matcher::find);
            int spare = Integer.parseInt(wm.group(1));
            String first = Http.get(p, "/");
            int old = Integer.parseInt(first.replaceAll("(?s)pid (\\d+) .*", "$1"));

            // one worker only: every request until the old worker has exited must be answered, by it or the spare
            int failed = 0;
            int requests = 0;
            long deadline = System.nanoTime() + T.toNanos();
            while (!m.output().contains("worker 1 (pid " + old + ") stopped: exit 0") && System.nanoTime() < deadline) {
                requests++;
                if (Http.tryGet(p, "/") == null) {
                    failed++;
                }
                Thread.sleep(5);  // pacing, not waiting: a few hundred requests across the recycle are enough
            }
            String out = m.output();
            assertTrue(out.contains("worker 1 (pid " + old + ") stopped: exit 0"), out);
            assertTrue(out.contains("a warm spare takes its slot"), out);
            assertTrue(out.contains("recycled worker 1 (pid " + old + ") (age)"), out);
            assertEquals(0, failed, failed + " of " + requests + " requests failed across the recycle; log: " + out);
            assertTrue(Http.get(p, "/").startsWith("pid " + spare + " worker 1 "), "the promoted spare serves slot 1");
        }
    }

    /** Pids of the spares that became warm so far, in order, once there are at least n. */
    private List<Integer> warmSpares(int n) {
        return Wait.value(n + " warm spares", T, () -> {
            List<Integer> pids = new ArrayList<>();
            Matcher m = WARM.matcher(master.output());
            while (m.find()) {
                pids.add(Integer.parseInt(m.group(1)));
            }
            return pids;
        }, pids -> pids.size() >= n);
    }

    /** The distinct pids answering GET /, once n of them did. */
    private Set<Integer> servingPids(int n) {
        Set<Integer> pids = new HashSet<>();
        Wait.until(n + " workers answering", T, () -> {
            String b = Http.tryGet(port, "/");
            Matcher m = b == null ? null : ANSWER.matcher(b);
            if (m != null && m.find()) {
                pids.add(Integer.parseInt(m.group(1)));
            }
            return pids.size() >= n;
        });
        return pids;
    }

    private String slotOf(int pid) {
        return Wait.value("an answer from pid " + pid, T, () -> Http.tryGet(port, "/"),
                b -> b != null && b.startsWith("pid " + pid + " ")).replaceAll("(?s).*worker (\\d+).*", "$1");
    }

    private int count(String text) {
        String out = master.output();
        int n = 0;
        for (int i = out.indexOf(text); i >= 0; i = out.indexOf(text, i + 1)) {
            n++;
        }
        return n;
    }
}
