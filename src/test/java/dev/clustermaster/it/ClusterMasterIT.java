package dev.clustermaster.it;

import dev.clustermaster.config.Config;
import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.WorkerState;
import dev.clustermaster.core.WorkerView;
import dev.clustermaster.os.Posix;
import dev.clustermaster.runtime.ClusterMaster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The master through its library API, with real worker processes (sh scripts) and real signals. */
class ClusterMasterIT {
    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private ClusterMaster master;

    private Config.Builder shWorkers(String script, int size) {
        return InProcessMaster.shWorkers(dir, script, size).stopTimeoutMillis(2_000).backoff(200, 2_000)
                .env("OUT", dir.toString());
    }

    @AfterEach
    void tearDown() {
        InProcessMaster.stop(master, Duration.ofSeconds(10));
    }

    private ClusterSnapshot waitReady(int n) {
        return Wait.value(n + " ready workers", T, () -> master.snapshot(),
                s -> s.readyCount() == n && s.workers().size() == n);
    }

    private static List<Integer> pids(ClusterSnapshot s) {
        return s.workers().stream().map(WorkerView::pid).toList();
    }

    @Test
    void workersGetSlotRestartAndMasterPidInTheirOwnProcessGroups() throws Exception {
        master = ClusterMaster.start(shWorkers("exec sleep 600", 3).build());
        ClusterSnapshot s = waitReady(3);
        assertEquals(List.of(1, 2, 3), s.workers().stream().map(WorkerView::slot).toList());
        for (WorkerView w : s.workers()) {
            String env = Procs.environ(w.pid());
            assertTrue(env.contains("\nCM_CHILD_ID=" + w.slot() + "\n"), env);
            assertTrue(env.contains("\nCM_RESTART=0\n"), env);
            assertTrue(env.contains("\nCM_MASTER_PID=" + Posix.get().getpid() + "\n"), env);
            assertTrue(env.contains("\nNOTIFY_SOCKET="), env);
            assertEquals(w.pid(), Procs.pgid(w.pid()), "each worker leads its own process group");
        }
    }

    @Test
    void aCrashedWorkerIsRestartedInItsSlotWithTheRestartCount() throws Exception {
        master = ClusterMaster.start(shWorkers("exec sleep 600", 2).build());
        ClusterSnapshot before = waitReady(2);
        WorkerView victim = before.workers().get(1);
        Posix.get().kill(victim.pid(), 9);
        ClusterSnapshot after = Wait.value("slot 2 restarted", T, () -> master.snapshot(),
                s -> s.readyCount() == 2 && s.workers().stream().anyMatch(w -> w.slot() == 2 && w.pid() != victim.pid()));
        WorkerView fresh = after.workers().stream().filter(w -> w.slot() == 2).findFirst().orElseThrow();
        assertEquals(1, fresh.restarts());
        assertTrue(Procs.environ(fresh.pid()).contains("\nCM_RESTART=1\n"));
        assertEquals(before.workers().get(0).pid(), after.workers().get(0).pid(), "slot 1 untouched");
    }

    @Test
    void grandchildrenDieWithTheirWorker() throws Exception {
        master = ClusterMaster.start(shWorkers("sleep 600 & echo $! > \"$OUT/gc.$CM_CHILD_ID\"; wait", 1).build());
        WorkerView w = waitReady(1).workers().get(0);
        Path file = dir.resolve("gc.1");
        Wait.until("grandchild pid file", T, () -> Files.exists(file) && !readQuietly(file).isBlank());
        int grandchild = Integer.parseInt(readQuietly(file).trim());
        assertTrue(Procs.alive(grandchild));
        assertEquals(w.pid(), Procs.pgid(grandchild), "the grandchild is in the worker's group");
        Posix.get().kill(w.pid(), 9);        // only the leader is killed
        Wait.until("grandchild killed with its group", T, () -> !Procs.alive(grandchild));
    }

    @Test
    void gracefulQuitEscalatesToKillForWorkersIgnoringTerm() throws Exception {
        master = ClusterMaster.start(shWorkers("trap '' TERM; while :; do sleep 0.1; done", 2)
                .stopTimeoutMillis(500).build());
        List<Integer> pids = pids(waitReady(2));
        long t0 = System.nanoTime();
        assertTrue(master.quit().get(5, TimeUnit.SECONDS).startsWith("stopping 2 workers"));
        assertEquals(0, master.exitCode().get(10, TimeUnit.SECONDS));
        long tookMillis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMillis >= 450, "waited for the stop timeout, took " + tookMillis);
        for (int pid : pids) {
            assertFalse(Procs.alive(pid), "worker " + pid + " killed");
        }
        assertTrue(Procs.zombieChildren(Posix.get().getpid()).isEmpty());
    }

    @Test
    void hardQuitKillsEverythingAndExitsOne() throws Exception {
        master = ClusterMaster.start(shWorkers("trap '' TERM; while :; do sleep 0.1; done", 2).build());
        List<Integer> pids = pids(waitReady(2));
        master.quitHard();
        assertEquals(1, master.exitCode().get(5, TimeUnit.SECONDS));
        pids.forEach(pid -> assertFalse(Procs.alive(pid)));
    }

    @Test
    void rollingRestartKeepsEverySlotServingAndReplacesEveryPid() throws Exception {
        master = ClusterMaster.start(shWorkers("exec sleep 600", 3).readyGraceMillis(300).build());
        Set<Integer> old = new HashSet<>(pids(waitReady(3)));
        var done = master.restart();
        List<String> gaps = new ArrayList<>();
        while (!done.isDone()) {
            ClusterSnapshot s = master.snapshot();
            for (int slot = 1; slot <= 3; slot++) {
                int sl = slot;
                if (s.workers().stream().noneMatch(w -> w.slot() == sl && w.state() == WorkerState.READY)) {
                    gaps.add("slot " + slot + " had no ready worker: " + s.workers());
                }
            }
            Wait.pause(5);
        }
        assertEquals("restarted 3 workers", done.get(1, TimeUnit.SECONDS));
        assertTrue(gaps.isEmpty(), gaps.toString());
        ClusterSnapshot after = waitReady(3);
        for (WorkerView w : after.workers()) {
            assertFalse(old.contains(w.pid()), "pid " + w.pid() + " replaced");
            assertEquals(1, w.restarts());
        }
        old.forEach(pid -> Wait.until("old worker " + pid + " gone", T, () -> !Procs.alive(pid)));
    }

    @Test
    void aFailingRestartLeavesTheOldWorkersServing() throws Exception {
        Path flag = dir.resolve("broken");
        // a grace far above the reaping latency of a busy machine: the broken worker must be seen exiting, not ready
        master = ClusterMaster.start(shWorkers("if [ -e \"$OUT/broken\" ]; then exit 3; fi; exec sleep 600", 2)
                .readyGraceMillis(2_000).build());
        List<Integer> old = pids(waitReady(2));
        Files.writeString(flag, "new code is broken");
        CompletionException e = assertThrows(CompletionException.class, () -> master.restart().join());
        // with a surge of 2 both slots' new workers start together: either may be the first seen failing
        assertTrue(e.getCause().getMessage().matches("restart failed: new worker [12] .*"), e.getCause().getMessage());
        assertTrue(e.getCause().getMessage().contains("exit 3"), e.getCause().getMessage());
        // with a surge above 1 the other slot's new worker was starting too: the failure stops it, give it time to go
        ClusterSnapshot s = Wait.value("only the old workers", T, () -> master.snapshot(), snap -> pids(snap).equals(old));
        assertEquals(2, s.readyCount());
        old.forEach(pid -> assertTrue(Procs.alive(pid)));
    }

    @Test
    void resizeGrowsWithTheLowestFreeSlotsAndShrinksFromTheTop() throws Exception {
        master = ClusterMaster.start(shWorkers("exec sleep 600", 1).build());
        waitReady(1);
        assertEquals("resized to 4 (was 1)", master.resize(4).get(5, TimeUnit.SECONDS));
        assertEquals(List.of(1, 2, 3, 4), waitReady(4).workers().stream().map(WorkerView::slot).toList());
        master.resize(2).get(5, TimeUnit.SECONDS);
        assertEquals(List.of(1, 2), waitReady(2).workers().stream().map(WorkerView::slot).toList());
        CompletionException e = assertThrows(CompletionException.class, () -> master.resize(-1).join());
        assertTrue(e.getCause().getMessage().contains("size must be between 0"), e.getCause().getMessage());
    }

    @Test
    void fiveHundredCrashCyclesLeaveNoZombie() throws Exception {
        int self = Posix.get().getpid();
        master = ClusterMaster.start(shWorkers("exit 1", 4).backoff(0, 0).healthyUptimeMillis(0)
                .crashLoopFailures(0).build());              // never hand off: this test wants the loop
        int zombiesSeen = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
        int restarts = 0;
        while (restarts < 500) {
            assertTrue(System.nanoTime() < deadline, "500 crash cycles within 150 s, got " + restarts);
            ClusterSnapshot s = master.snapshot();
            restarts = Math.max(restarts, totalStarts(s));
            zombiesSeen = Math.max(zombiesSeen, Procs.zombieChildren(self).size());
            Wait.pause(10);
        }
        master.resize(0).get(30, TimeUnit.SECONDS);
        Wait.until("no workers", T, () -> master.snapshot().workers().isEmpty());
        Wait.until("no zombie children of the master", T, () -> Procs.zombieChildren(self).isEmpty());
        assertTrue(zombiesSeen <= 4, "at most the workers just exited are briefly unreaped, saw " + zombiesSeen);
    }

    /** Sum over slots of the highest restart count seen: how many crash cycles happened. */
    private static int totalStarts(ClusterSnapshot s) {
        Map<Integer, Integer> bySlot = new java.util.HashMap<>();
        s.workers().forEach(w -> bySlot.merge(w.slot(), w.restarts(), Math::max));
        return bySlot.values().stream().mapToInt(Integer::intValue).sum();
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
