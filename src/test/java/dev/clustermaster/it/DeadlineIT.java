package dev.clustermaster.it;

import dev.clustermaster.config.Config;
import dev.clustermaster.core.WorkerView;
import dev.clustermaster.runtime.ClusterMaster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The event loop has no periodic tick: it sleeps until the core's next deadline, and deadlines still fire. */
class DeadlineIT {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private ClusterMaster master;

    private Config.Builder shWorkers(String script, int size) {
        return InProcessMaster.shWorkers(dir, script, size).stopTimeoutMillis(1_500).backoff(300, 600);
    }

    @AfterEach
    void tearDown() {
        InProcessMaster.stop(master, Duration.ofSeconds(10));
    }

    @Test
    void anIdleMasterLoopDoesNotWakeUp() throws Exception {
        master = ClusterMaster.start(shWorkers("exec sleep 600", 2).build());
        Wait.value("2 ready workers", T, () -> master.snapshot(), s -> s.readyCount() == 2);
        long before = loopWakeups();
        Thread.sleep(2_000);  // a 100 ms tick would wake it ~20 times in this window
        long woke = loopWakeups() - before;
        assertTrue(woke <= 2, "the idle event loop woke " + woke + " times in 2 s");
    }

    @Test
    void theStopTimeoutStillEndsInSigkill() throws Exception {
        master = ClusterMaster.start(shWorkers("trap '' TERM; while :; do sleep 1; done", 1).build());
        Wait.value("a ready worker", T, () -> master.snapshot(), s -> s.readyCount() == 1);
        long t0 = System.nanoTime();
        master.quit();
        assertEquals(0, master.exitCode().get(30, TimeUnit.SECONDS));
        long tookMillis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMillis >= 1_400, "SIGKILL came before the stop timeout: " + tookMillis + " ms");
    }

    @Test
    void aCrashBackoffStillEndsInARestart() throws Exception {
        // from the second crash in a row each restart waits out a backoff: only a deadline can end it
        master = ClusterMaster.start(shWorkers("sleep 0.1; exit 3", 1).build());
        Wait.value("4 restarts of slot 1", T, () -> master.snapshot(),
                snap -> snap.workers().stream().mapToInt(WorkerView::restarts).max().orElse(0) >= 4);
    }

    /** Context switches of this JVM's master loop threads: each wake from a sleep is one. */
    private static long loopWakeups() throws IOException {
        long total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    if (!Files.readString(task.resolve("comm")).strip().equals("cm-loop")) {
                        continue;
                    }
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            total += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
                        }
                    }
                } catch (IOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return total;
    }
}
