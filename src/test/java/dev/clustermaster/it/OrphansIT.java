package dev.clustermaster.it;

import dev.clustermaster.os.Posix;
import dev.clustermaster.os.ProcessGroups;
import dev.clustermaster.os.ProcStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12 item 5: outside systemd, a master killed with -9 leaves nothing behind. PR_SET_PDEATHSIG only gives the
 * direct child a SIGTERM; the orphan guard SIGKILLs every worker's process group.
 */
class OrphansIT {
    private static final int KILL = 9;
    /** Slot 1: the worker whose children outlive it; slot 2: a worker (and children) that ignore SIGTERM. */
    private static final String WORKER = "case $CM_CHILD_ID in "
            + "1) sleep 1000 & sleep 1000 ;; "
            + "*) trap '' TERM; sleep 1000 & while :; do sleep 1; done ;; esac";

    @TempDir
    Path dir;

    @Test
    void grandchildrenAndTermIgnoringWorkersDieWithinFiveSecondsOfTheMastersKill9() throws Exception {
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--exec", "sh", "--size", "2", "--ready-grace",
                "200ms", "--repl", "false", "--runtime-dir", dir.resolve("run").toString(), "--", "-c", WORKER)) {
            m.waitForOutput("all 2 workers ready", Duration.ofSeconds(60));
            List<Integer> workers = m.workers();
            assertEquals(2, workers.size(), m.output());
            try {
                checkNothingOutlivesTheMaster(m, workers);
            } finally {
                workers.forEach(w -> ProcessGroups.signalGroup(w, KILL));  // nothing left if the check failed
            }
        }
    }

    private static void checkNothingOutlivesTheMaster(MasterProcess m, List<Integer> workers) throws Exception {
        // each group: the worker shell and at least one child of it
        List<Integer> everything = Wait.value("each worker group with its children", Duration.ofSeconds(30), () -> {
            List<Integer> all = new ArrayList<>();
            for (int w : workers) {
                List<Integer> group = inGroup(w);
                if (group.size() < 2) {
                    return List.of();
                }
                all.addAll(group);
            }
            return all;
        }, l -> !l.isEmpty());

        long t0 = System.nanoTime();
        assertEquals(0, Posix.get().kill(m.pid(), KILL));
        m.waitForExit(Duration.ofSeconds(30));
        Wait.until("every process of the worker groups " + everything + " gone", Duration.ofSeconds(5),
                () -> everything.stream().noneMatch(Procs::alive));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        workers.forEach(w -> assertTrue(inGroup(w).isEmpty(), "group " + w + " is empty"));
        System.out.printf("OrphansIT: %d processes in 2 worker groups gone %d ms after kill -9 of the master%n",
                everything.size(), millis);
    }

    /** Live processes whose process group is pgid. */
    private static List<Integer> inGroup(int pgid) {
        List<Integer> out = new ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"))) {
            for (Path p : proc) {
                String name = p.getFileName().toString();
                if (name.chars().allMatch(Character::isDigit)) {
                    int pid = Integer.parseInt(name);
                    if (ProcStats.processGroupOf(pid).orElse(-1) == pgid && Procs.alive(pid)) {
                        out.add(pid);
                    }
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out;
    }
}
