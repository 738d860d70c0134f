package dev.clustermaster.it;

import dev.clustermaster.os.Posix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI master in its own JVM, driven by real signals. */
class MasterProcessIT {
    private static final Duration T = Duration.ofSeconds(30);
    private static final int HUP = 1, INT = 2, KILL = 9, TERM = 15, TTIN = 21, TTOU = 22;

    @TempDir
    Path dir;

    private MasterProcess start(int size) throws Exception {
        return start(size, List.of(), "sleep", "600");
    }

    private MasterProcess start(int size, List<String> options, String exec, String... workerArgs) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--exec", exec, "--size", Integer.toString(size),
                "--ready-grace", "200ms", "--stop-timeout", "3s", "--repl", "false", "--runtime-dir", dir.resolve("run").toString()));
        args.addAll(options);
        args.add("--");
        args.addAll(List.of(workerArgs));
        MasterProcess m = MasterProcess.start(dir, List.of(), args.toArray(String[]::new));
        m.waitForOutput("all " + size + " workers ready", T);
        return m;
    }

    private static void signal(MasterProcess m, int sig) {
        assertEquals(0, Posix.get().kill(m.pid(), sig));
    }

    /** A master killed with -9 cannot remove its workers-PID-* directory; the next master with that runtime dir does. */
    @Test
    void nextMasterRemovesTheWorkerDirectoryOfAKilledOne() throws Exception {
        Path run = dir.resolve("run");
        int killed;
        try (MasterProcess m = start(1)) {
            killed = m.pid();
            List<Integer> workers = m.workers();
            signal(m, KILL);
            m.waitForExit(T);
            workers.forEach(pid -> Posix.get().kill(pid, KILL)); // outlives a kill -9 outside systemd
        }
        assertEquals(1, workerDirs(run, killed), "left behind");
        try (MasterProcess m = start(1)) {
            assertEquals(0, workerDirs(run, killed), m.output());
            assertEquals(1, workerDirs(run, m.pid()), "its own is there");
            signal(m, TERM);
            assertEquals(0, m.waitForExit(T), m.output());
            assertEquals(0, workerDirs(run, m.pid()), "removed at a clean exit");
        }
    }

    private static long workerDirs(Path run, int masterPid) throws java.io.IOException {
        try (var s = java.nio.file.Files.list(run)) {
            return s.filter(p -> p.getFileName().toString().startsWith("workers-" + masterPid + "-")).count();
        }
    }

    @Test
    void termQuitsGracefullyWithExitZeroAndLeavesNoWorker() throws Exception {
        try (MasterProcess m = start(2)) {
            List<Integer> workers = m.workers();
            assertEquals(2, workers.size(), m.output());
            signal(m, TERM);
            assertEquals(0, m.waitForExit(T), m.output());
            workers.forEach(pid -> assertTrue(!Procs.alive(pid), "worker " + pid + " gone"));
        }
    }

    @Test
    void secondInterruptIsAHardQuitWithExitOne() throws Exception {
        try (MasterProcess m = start(2, List.of(), "sh", "-c", "trap '' TERM INT; while :; do sleep 0.1; done")) {
            List<Integer> workers = m.workers();
            signal(m, INT);
            m.waitForOutput("graceful quit", T);
            signal(m, INT);
            assertEquals(1, m.waitForExit(T), m.output());
            workers.forEach(pid -> assertTrue(!Procs.alive(pid)));
        }
    }

    @Test
    void ttinAndTtouResizeByOne() throws Exception {
        try (MasterProcess m = start(2)) {
            // one at a time: two pending TTINs would merge into one delivery (standard signals do not queue)
            signal(m, TTIN);
            Wait.until("3 workers", T, () -> m.workers().size() == 3);
            signal(m, TTIN);
            Wait.until("4 workers", T, () -> m.workers().size() == 4);
            signal(m, TTOU);
            Wait.until("3 workers", T, () -> m.workers().size() == 3);
        }
    }

    @Test
    void aStormOfFiftyHangupsEndsWithExactlyTheDesiredHealthyWorkers() throws Exception {
        try (MasterProcess m = start(3)) {
            Set<Integer> before = new HashSet<>(m.workers());
            long t0 = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                signal(m, HUP);
                Wait.pause(15);
            }
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(2).toNanos());
            m.waitForOutput("rolling restart done", T);
            // stable: the same 3 live workers for a while, none of them from before the storm
            List<Integer> settled = Wait.value("3 stable workers", Duration.ofSeconds(60), () -> {
                List<Integer> a = m.workers();
                Wait.pause(1_500);
                List<Integer> b = m.workers();
                return a.equals(b) ? b : List.of();
            }, l -> l.size() == 3);
            settled.forEach(pid -> assertTrue(!before.contains(pid), "worker " + pid + " was restarted"));
            assertTrue(m.process.isAlive());
        }
    }

    @Test
    void killingTheMasterWithSigkillLeavesNoWorkerRunning() throws Exception {
        try (MasterProcess m = start(3)) {
            List<Integer> workers = m.workers();
            assertEquals(3, workers.size());
            signal(m, KILL);
            m.waitForExit(T);
            workers.forEach(pid -> Wait.until("orphan worker " + pid + " exits", Duration.ofSeconds(5), () -> !Procs.alive(pid)));
        }
    }

    @Test
    void silentModeLogsWorkerOutputWithTheWorkerId() throws Exception {
        try (MasterProcess m = start(2, List.of("--silent"), "sh", "-c", "echo hello from $CM_CHILD_ID; echo oops >&2; exec sleep 600")) {
            m.waitForOutput("[1] hello from 1", T);
            m.waitForOutput("[2] hello from 2", T);
            m.waitForOutput("[2] oops", T);
        }
    }
}
