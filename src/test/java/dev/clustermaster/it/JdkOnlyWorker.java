package dev.clustermaster.it;

import dev.clustermaster.worker.ClusterWorker;
import dev.clustermaster.worker.Heartbeat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Test worker using the API that must work without jnr: READY, STATUS, a watchdog heartbeat, log level changes
 * (written to $OUT/level.PID) and a graceful drain on stop (writes $OUT/drained.PID).
 */
public final class JdkOnlyWorker {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(System.getenv("OUT"));
        long pid = ProcessHandle.current().pid();
        ClusterWorker.onLogLevel(level -> write(out.resolve("level." + pid), level));
        ClusterWorker.onStop(() -> write(out.resolve("drained." + pid), "drained"));
        Heartbeat heartbeat = ClusterWorker.startWatchdog();
        ClusterWorker.status("jdk only");
        ClusterWorker.ready();
        while (!ClusterWorker.stopping()) {
            heartbeat.beat();
            Thread.sleep(50);
        }
        Thread.sleep(600_000); // the drain exits the JVM
    }

    private static void write(Path target, String text) {
        try {
            Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
