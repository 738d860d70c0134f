package dev.clustermaster.it;

import dev.clustermaster.os.Posix;
import dev.clustermaster.os.ProcStats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 3's proof: a demo cluster of 4 HTTP workers on one shared listening socket keeps answering through rolling
 * restarts (SIGHUP, control socket) with zero failed requests, and heals a {@code kill -9}ed worker at once.
 * One master serves the three scenarios in order; each starts from 4 ready workers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ZeroDowntimeIT {
    private static final Duration T = Duration.ofSeconds(60);
    private static final int SIZE = 4;
    private static final int CLIENT_THREADS = 4;
    private static final int HUP = 1, KILL = 9;
    /** The master's message naming the port the OS chose for tcp://127.0.0.1:0 (the message, not the layout). */
    private static final Pattern LISTENING = Pattern.compile("listening on \\[tcp://127\\.0\\.0\\.1:(\\d+)]");

    @TempDir
    static Path dir;
    private MasterProcess master;
    private int port;

    @BeforeAll
    void startCluster() throws Exception {
        // port 0: the master binds and names the port, so no other process can take it in between
        master = MasterProcess.start(dir, List.of("CM_LOG_JOURNAL=off", "JOURNAL_STREAM="),
                "--main", "dev.clustermaster.demo.DemoHttpWorker", "--ready", "notify", "--size", Integer.toString(SIZE),
                "--listen", "tcp://127.0.0.1:0", "--runtime-dir", dir.resolve("run").toString(),
                "--stop-timeout", "20s");
        master.waitForOutput("all " + SIZE + " workers ready", T);
        Matcher m = LISTENING.matcher(master.output());
        assertTrue(m.find(), "the master names its port:\n" + master.output());
        port = Integer.parseInt(m.group(1));
    }

    @AfterAll
    void stopCluster() {
        if (master != null) {
            master.close();
        }
    }

    @Test
    @Order(1)
    void rollingRestartBySighupUnderLoadFailsNoRequest() throws Exception {
        Set<Integer> old = settledWorkers(Set.of());
        int doneBefore = count(master.output(), "rolling restart done");
        try (HttpLoad load = new HttpLoad(port, CLIENT_THREADS)) {
            waitForAnswers(load, 50);
            assertEquals(0, Posix.get().kill(master.pid(), HUP));
            Wait.until("the SIGHUP rolling restart to finish", T,
                    () -> count(master.output(), "rolling restart done") > doneBefore);
            // the last old worker drains after "done": keep the load on until every old one is gone
            old.forEach(pid -> Wait.until("old worker " + pid + " exits", T, () -> !Procs.alive(pid)));
            Set<Integer> fresh = settledWorkers(old);
            waitForAnswers(load, load.ok() + 50);
            load.close();
            assertEquals(0, load.failed(), "requests failed during the SIGHUP rolling restart: " + load.failureReport());
            assertEquals(SIZE, fresh.size());
            System.out.printf("ZeroDowntimeIT sighup: %s; replaced %s by %s%n", load.failureReport(), old, fresh);
        }
    }

    @Test
    @Order(2)
    void rollingRestartThroughTheControlSocketUnderLoadFailsNoRequest() throws Exception {
        Set<Integer> old = settledWorkers(Set.of());
        try (HttpLoad load = new HttpLoad(port, CLIENT_THREADS)) {
            waitForAnswers(load, 50);
            String answer = controlCommand(dir.resolve("run").resolve("cluster-master.sock"), "restart", "restarted");
            assertTrue(answer.contains("restarted " + SIZE + " workers"), answer);
            old.forEach(pid -> Wait.until("old worker " + pid + " exits", T, () -> !Procs.alive(pid)));
            Set<Integer> fresh = settledWorkers(old);
            waitForAnswers(load, load.ok() + 50);
            load.close();
            assertEquals(0, load.failed(), "requests failed during the control-socket restart: " + load.failureReport());
            assertEquals(SIZE, fresh.size());
            System.out.printf("ZeroDowntimeIT ctl restart: %s%n", load.failureReport());
        }
    }

    @Test
    @Order(3)
    void aKilledWorkerCostsOnlyItsInFlightRequestsAndItsSlotServesAgainAtOnce() throws Exception {
        Set<Integer> before = settledWorkers(Set.of());
        int victim = before.iterator().next();
        int slot = slotOf(victim);
        try (HttpLoad load = new HttpLoad(port, CLIENT_THREADS)) {
            waitForAnswers(load, 50);
            long killedAt = System.nanoTime();
            long killedAtTicks = uptimeTicks();
            assertEquals(0, Posix.get().kill(victim, KILL));
            HttpLoad.Served replacement = Wait.value("a new pid answering for slot " + slot, T,
                    () -> load.allServed().values().stream()
                            .filter(s -> s.slot() == slot && !before.contains(s.pid())).findFirst().orElse(null),
                    s -> s != null);
            long crashToServingMillis = (replacement.firstSeenNanos() - killedAt) / 1_000_000;
            waitForAnswers(load, load.ok() + 50);
            load.close();

            // The master's part is noticing the death and spawning the replacement; what follows (the JVM start and
            // the demo's setup) is the worker's own startup, whatever this machine's load makes of it. Both ends
            // are the kernel's clock (ticks since boot: /proc/uptime, the new process's start time), not the log.
            long spawnedAtTicks = ProcStats.sample(replacement.pid()).orElseThrow().startTimeTicks();
            long killToSpawnMillis = (spawnedAtTicks - killedAtTicks) * 10;
            System.out.printf("ZeroDowntimeIT kill -9: %s; slot %d: kill -> new pid %d spawned %d ms, answering %d ms%n",
                    load.failureReport(), slot, replacement.pid(), killToSpawnMillis, crashToServingMillis);
            assertTrue(load.failed() <= load.threads(),
                    "at most one request per client thread (those in flight on the killed worker) may fail: "
                            + load.failureReport());
            // 38-120 ms measured at load average 20 on 2 cores; a first crash has no backoff
            assertTrue(killToSpawnMillis <= 300,
                    "slot " + slot + " was respawned " + killToSpawnMillis + " ms after kill -9; allowed 300 ms");
            settledWorkers(Set.of(victim));
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    /** Waits for exactly SIZE live workers, none of them in {@code gone}, and returns their pids. */
    private Set<Integer> settledWorkers(Set<Integer> gone) {
        List<Integer> pids = Wait.value(SIZE + " workers, none of " + gone, T, master::workers,
                l -> l.size() == SIZE && l.stream().noneMatch(gone::contains));
        return new HashSet<>(pids);
    }

    private static void waitForAnswers(HttpLoad load, long atLeast) {
        Wait.until(atLeast + " answers (" + load.failureReport() + ")", T, () -> load.ok() >= atLeast);
    }

    private static int slotOf(int pid) {
        Matcher m = Pattern.compile("\nCM_CHILD_ID=(\\d+)\n").matcher(Procs.environ(pid));
        assertTrue(m.find(), "CM_CHILD_ID of " + pid);
        return Integer.parseInt(m.group(1));
    }

    /** Now in the clock of /proc/pid/stat's start time: USER_HZ (100/s) ticks since boot. */
    private static long uptimeTicks() throws IOException {
        String uptime = Files.readString(Path.of("/proc/uptime"));
        return Math.round(Double.parseDouble(uptime.substring(0, uptime.indexOf(' '))) * 100);
    }

    /** Sends one line to the control socket and reads until the answer contains {@code until}. */
    private static String controlCommand(Path socket, String line, String until) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            // a blocking read has no timeout of its own: closing the channel at the deadline ends it
            Thread guard = new Thread(() -> {
                try {
                    Thread.sleep(T.toMillis());
                    ch.close();
                } catch (InterruptedException | IOException e) {
                    // answered in time
                }
            }, "control-deadline");
            guard.setDaemon(true);
            guard.start();
            ch.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            StringBuilder text = new StringBuilder();
            ByteBuffer buf = ByteBuffer.allocate(4096);
            // the restart answers once every slot was replaced
            while (!text.toString().contains(until) && !text.toString().contains("failed")) {
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    break;
                }
                text.append(new String(buf.array(), 0, n, StandardCharsets.UTF_8));
            }
            guard.interrupt();
            return text.toString();
        }
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
            n++;
        }
        return n;
    }

}
