package dev.clustermaster.it;

import dev.clustermaster.config.Config;
import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.RecycleReason;
import dev.clustermaster.core.WorkerView;
import dev.clustermaster.runtime.ClusterMaster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Probation, operator kills, crash-loop hand-off, hung workers, recycling, clean env: real processes and signals. */
class SupervisionIT {
    private static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private ClusterMaster master;

    @AfterEach
    void tearDown() {
        InProcessMaster.stop(master, Duration.ofSeconds(20));
    }

    private Config.Builder javaWorkers(int size) {
        return Config.builder()
                .mainClass(SupervisedWorker.class.getName())
                .requireNotify(true)      // ready at READY=1: probation counts from there, however slow the JVM starts
                .size(size).signals(false).repl(false)
                .stopTimeoutMillis(5_000)
                .runtimeDir(dir.resolve("run"))
                .env("OUT", dir.toString());
    }

    private Config.Builder shWorkers(String script, int size) {
        return InProcessMaster.shWorkers(dir, script, size).stopTimeoutMillis(2_000);
    }

    private ClusterSnapshot waitReady(int n) {
        return Wait.value(n + " ready workers", T, () -> master.snapshot(), s -> s.readyCount() == n && s.workers().size() == n);
    }

    private static List<Integer> pids(ClusterSnapshot s) {
        return s.workers().stream().map(WorkerView::pid).toList();
    }

    @Test
    void aNewBuildDyingInsideProbationFailsTheRestartAndTheOldWorkersKeepServing() throws Exception {
        // default probation: 5 s; one slot at a time, so slot 1's new worker is the one that fails the restart
        master = ClusterMaster.start(javaWorkers(2).surge(1).build());
        List<Integer> old = pids(waitReady(2));
        Files.writeString(dir.resolve("bad"), "the new build dies 1.5 s after READY");
        long t0 = System.nanoTime();
        CompletionException e = assertThrows(CompletionException.class, () -> master.restart().join());
        long tookMillis = (System.nanoTime() - t0) / 1_000_000;
        String reason = e.getCause().getMessage();
        assertTrue(reason.startsWith("restart failed: new worker 1"), reason);
        assertTrue(reason.contains("after READY, within its probation of 5000 ms: exit 1"), reason);
        ClusterSnapshot s = waitReady(2);
        assertEquals(old, pids(s), "both old workers still serve");
        old.forEach(pid -> assertTrue(Procs.alive(pid)));
        System.out.printf("SupervisionIT probation: restart failed after %d ms: %s; old pids %s serve%n", tookMillis, reason, old);
    }

    @Test
    void workersKilledByTheOperatorComeBackAtOnceWithoutBackoff() throws Exception {
        // a backoff far above a restart's cost: any crash accounting would show as a 10 s wait
        master = ClusterMaster.start(shWorkers("exec sleep 600", 2).backoff(10_000, 20_000).build());
        waitReady(2);
        for (int round = 0; round < 3; round++) {
            List<Integer> before = pids(master.snapshot());
            long t0 = System.nanoTime();
            assertEquals("sent SIGKILL to 2 workers", master.signal(null, "KILL").get(10, TimeUnit.SECONDS));
            ClusterSnapshot s = Wait.value("both slots replaced", T, () -> master.snapshot(),
                    x -> x.readyCount() == 2 && x.workers().size() == 2 && pids(x).stream().noneMatch(before::contains));
            long took = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(took < 10_000, "round " + round + ": back after " + took + " ms, i.e. without backoff");
            assertTrue(s.failingSlots().isEmpty(), s.toString());
        }
    }

    @Test
    void oneFlakySlotNeverBringsTheMasterDown() throws Exception {
        master = ClusterMaster.start(shWorkers("if [ \"$CM_CHILD_ID\" = 1 ]; then exit 1; fi; exec sleep 600", 2)
                .backoff(20, 100).crashLoopFailures(3).crashLoopWindowMillis(60_000).build());
        Wait.until("slot 1 failed 10 times", T, () -> master.snapshot().workers().stream()
                .anyMatch(w -> w.slot() == 1 && w.restarts() >= 10));
        assertFalse(master.exitCode().isDone(), "slot 2 serves: the master stays");
        assertTrue(master.snapshot().workers().stream().anyMatch(w -> w.slot() == 2 && w.state() == dev.clustermaster.core.WorkerState.READY));
    }

    @Test
    void aPermanentlyBrokenAppMakesTheMasterExitWith69() throws Exception {
        long t0 = System.nanoTime();
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--exec", "sh", "--size", "2", "--repl", "false",
                "--runtime-dir", dir.resolve("run").toString(), "--", "-c", "echo broken >&2; exit 1")) {
            int code = m.waitForExit(T);
            long took = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(69, code, m.output());
            assertTrue(m.output().contains("crash loop: every slot (1..2) failed 5 times in a row"), m.output());
            System.out.printf("SupervisionIT crash loop: default policy, master exited with %d %d ms after start%n", code, took);
        }
    }

    @Test
    void aHungWorkerIsDumpedStoppedAndReplacedWhileSilentOnesAreLeftAlone() throws Exception {
        try (MasterProcess m = MasterProcess.start(dir, List.of("OUT=" + dir, "PING=1"), "--main", SupervisedWorker.class.getName(),
                "--classpath", System.getProperty("java.class.path"), "--size", "2", "--silent", "--worker-watchdog", "2s",
                "--stop-timeout", "3s", "--repl", "false", "--runtime-dir", dir.resolve("run").toString())) {
            m.waitForOutput("all 2 workers ready", T);
            int hung = Wait.value("slot 1's pid", T, () -> workerPid(m, 1), p -> p > 0);
            int silent = workerPid(m, 2);
            assertTrue(Procs.environ(hung).contains("\nWATCHDOG_USEC=2000000\n"), Procs.environ(hung));
            int readyLines = count(m.output(), " ready");
            long t0 = System.nanoTime();
            Files.writeString(dir.resolve("hang." + hung), "stop the main loop");
            m.waitForOutput("worker 1 (pid " + hung + ") hung: no WATCHDOG=1 for", T);
            Wait.until("a replacement in slot 1 ready", T, () -> count(m.output(), " ready") > readyLines
                    && workerPid(m, 1) > 0 && workerPid(m, 1) != hung);
            long took = (System.nanoTime() - t0) / 1_000_000;
            Wait.until("the hung worker gone", T, () -> !Procs.alive(hung));
            String log = m.output();
            assertTrue(log.contains("Full thread dump") && log.contains("stuckInMainLoop"), "thread dump in the log:\n" + log);
            assertTrue(Procs.alive(silent), "slot 2 never sent WATCHDOG=1 and is not watched");
            assertEquals(silent, workerPid(m, 2));
            System.out.printf("SupervisionIT watchdog: hang to replacement ready in %d ms (watchdog 2 s)%n", took);
        }
    }

    @Test
    void workersAreRecycledOnRequestByAgeAndByRssAndCounted() throws Exception {
        master = ClusterMaster.start(javaWorkers(2).probationMillis(500).httpPort(0).build());
        List<Integer> old = pids(waitReady(2));
        Files.writeString(dir.resolve("recycle." + old.get(0)), "please");
        ClusterSnapshot s = Wait.value("slot 1 recycled", T, () -> master.snapshot(),
                x -> x.recycled().get(RecycleReason.REQUEST) == 1 && x.workers().size() == 2 && !pids(x).contains(old.get(0)));
        assertEquals(old.get(1), s.workers().get(1).pid(), "slot 2 untouched");
        Wait.until("the new worker's STATUS=", T, () -> master.snapshot().workers().get(0).status().equals("serving, restart 1"));
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + master.httpAddress().orElseThrow().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("cluster_master_recycled_total{reason=\"request\"} 1"), metrics);
        assertTrue(metrics.contains("status=\"serving, restart 1\"} 1"), metrics);
        master.quit();
        master.exitCode().get(30, TimeUnit.SECONDS);

        master = ClusterMaster.start(shWorkers("exec sleep 600", 2).probationMillis(0).maxAgeMillis(1_500).build());
        List<Integer> young = pids(waitReady(2));
        Wait.until("both recycled for age", T, () -> master.snapshot().recycled().get(RecycleReason.AGE) >= 2);
        Wait.until("every first worker gone", T, () -> young.stream().noneMatch(Procs::alive));
        master.quit();
        master.exitCode().get(30, TimeUnit.SECONDS);

        master = ClusterMaster.start(shWorkers("exec sleep 600", 1).probationMillis(0).maxRssBytes(1).build());
        Wait.until("recycled for rss", T, () -> master.snapshot().recycled().get(RecycleReason.RSS) >= 1);
    }

    @Test
    void workersGetACleanEnvironmentAndTheRuntimeLogLevel() throws Exception {
        Path socket = dir.resolve("run").resolve("cm.sock");
        try (MasterProcess m = MasterProcess.start(dir, List.of("CM_SIZE=2", "CM_READY_GRACE=200ms", "CM_STOP_SIGNAL=INT",
                        "MAX_CHILD_PROCESSES=8"),
                "--exec", "sh", "--repl", socket.toString(), "--runtime-dir", dir.resolve("run").toString(),
                "--env", "CM_MINE=kept", "--", "-c", "exec sleep 600")) {
            m.waitForOutput("all 2 workers ready", T);
            List<Integer> first = m.workers();
            int pid = first.get(0);
            String env = Procs.environ(pid);
            for (String leaked : List.of("CM_SIZE=", "CM_READY_GRACE=", "CM_STOP_SIGNAL=", "MAX_CHILD_PROCESSES=")) {
                assertFalse(env.contains("\n" + leaked), leaked + " leaked into " + env);
            }
            assertTrue(env.contains("\nCM_MINE=kept\n") && env.contains("\nCM_CHILD_ID="), env);
            assertFalse(env.contains("\nCM_LOG_LEVEL="), env);
            assertTrue(control(socket, "loglevel fatal").contains("error"), "fatal is accepted as error");
            assertTrue(control(socket, "signal all INT").contains("sent SIGINT"));
            int fresh = Wait.value("a new worker", T, () -> m.workers().stream().filter(p -> !first.contains(p)).findFirst().orElse(0),
                    p -> p > 0);
            Wait.until("the new worker's environment", T, () -> Procs.environ(fresh).contains("\nCM_CHILD_ID="));
            assertTrue(Procs.environ(fresh).contains("\nCM_LOG_LEVEL=ERROR\n"), Procs.environ(fresh));
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    /** The pid of a slot's worker as the master process logged it ("worker N (pid P) ready"), 0 if gone. */
    private static int workerPid(MasterProcess m, int slot) {
        String log = m.output();
        String prefix = "worker " + slot + " (pid ";
        int at = log.lastIndexOf(prefix);
        while (at >= 0) {
            int end = log.indexOf(')', at);
            String rest = log.substring(end, Math.min(log.length(), end + 8));
            if (rest.startsWith(") ready")) {
                int pid = Integer.parseInt(log.substring(at + prefix.length(), end));
                return Procs.alive(pid) ? pid : 0;
            }
            at = log.lastIndexOf(prefix, at - 1);
        }
        return 0;
    }

    private static int count(String text, String fragment) {
        int n = 0;
        for (int at = text.indexOf(fragment); at >= 0; at = text.indexOf(fragment, at + 1)) {
            n++;
        }
        return n;
    }

    /** One control command over the REPL socket, then .exit: everything the master answered (closed after 20 s at most). */
    private static String control(Path socket, String line) throws IOException {
        Wait.until("control socket " + socket, T, () -> Files.exists(socket));
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            // a blocking read has no timeout of its own: closing the channel at the deadline ends it
            Thread guard = new Thread(() -> {
                try {
                    Thread.sleep(20_000);
                    ch.close();
                } catch (InterruptedException | IOException e) {
                    // answered in time
                }
            }, "control-deadline");
            guard.setDaemon(true);
            guard.start();
            ch.write(ByteBuffer.wrap((line + "\n.exit\n").getBytes(StandardCharsets.UTF_8)));
            StringBuilder text = new StringBuilder();
            ByteBuffer buf = ByteBuffer.allocate(4096);
            try {
                for (int n = ch.read(buf); n >= 0; n = ch.read(buf)) {
                    text.append(new String(buf.array(), 0, n, StandardCharsets.UTF_8));
                    buf.clear();
                }
            } catch (IOException e) {
                // closed by the guard: return what came
            }
            guard.interrupt();
            return text.toString();
        }
    }
}
