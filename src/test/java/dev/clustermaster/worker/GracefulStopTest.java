package dev.clustermaster.worker;

import dev.clustermaster.os.Posix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ClusterWorker.onStop in a real JVM and a real SIGTERM: the drains run, then the exit status says how they went. */
class GracefulStopTest {
    private static final int TERM = 15;

    @TempDir
    Path dir;

    private int stop(String... extra) throws Exception {
        Path log = dir.resolve("out.log");
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", ChildJvm.classPath(), StopFixture.class.getName(),
                dir.resolve("drained").toString()));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.readString(log).contains("armed")) {
                assertTrue(System.nanoTime() < deadline && p.isAlive(), "fixture never armed: " + Files.readString(log));
                Thread.sleep(20);
            }
            assertEquals(0, Posix.get().kill((int) p.pid(), TERM));
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exited after SIGTERM");
            return p.exitValue();
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void sigtermRunsTheDrainsThenExitsZero() throws Exception {
        assertEquals(0, stop());
        assertEquals("drained stopping=true", Files.readString(dir.resolve("drained")));
    }

    @Test
    void aFailingDrainStillLetsTheOthersRunAndExitsOne() throws Exception {
        assertEquals(1, stop("throw"));
        assertEquals("drained stopping=true", Files.readString(dir.resolve("drained")));
    }
}
