package dev.clustermaster.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The master's threads do not grow with its workers: one poller serves every worker socket and output pipe. */
class ThreadCountIT {
    private static final int WORKERS = 64;
    /** The JVM's own (GC, JIT, signal, reference handler...) plus the loop, poller, control server. */
    private static final int BOUND = 40;

    @TempDir
    Path dir;

    @Test
    void sixtyFourSilentWorkersAddNoThreads() throws Exception {
        // --silent: each worker's stdout and stderr are pipes the master reads too
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--exec", "sleep", "--size", Integer.toString(WORKERS),
                "--max-children", Integer.toString(WORKERS), "--silent", "--ready-grace", "0",
                "--repl", dir.resolve("ctl.sock").toString(), "--", "600")) {
            m.waitForOutput("all " + WORKERS + " workers ready", Duration.ofSeconds(120));
            assertEquals(WORKERS, m.workers().size(), m.output());
            int threads = threads(m.pid());
            assertTrue(threads < BOUND, "the master runs " + threads + " threads for " + WORKERS + " workers");
            m.process.destroy();  // SIGTERM: graceful quit
            assertEquals(0, m.waitForExit(Duration.ofSeconds(60)), m.output());
        }
    }

    private static int threads(int pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Threads:")) {
                return Integer.parseInt(line.substring(8).strip());
            }
        }
        throw new AssertionError("no Threads: line for " + pid);
    }
}
