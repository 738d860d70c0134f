package dev.clustermaster.control;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessStatsTest {

    @Test
    void parsesStatWithAwkwardCommandName() {
        String stat = "123 (my (odd) app) S 1 123 123 0 -1 4194304 500 0 0 0 70 30 0 0 20 0 4 0 9876 1000000 250 "
                + "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0";
        ProcessSample s = ProcessStats.parseStat(123, stat, 4096);
        assertEquals('S', s.state());
        assertEquals(100, s.cpuTicks());
        assertEquals(9876, s.startTimeTicks());
        assertEquals(1.0, s.cpuSeconds());
        assertEquals(4096, s.rssBytes());
    }

    @Test
    void readsFakeProcTree(@TempDir Path proc) throws Exception {
        Path dir = Files.createDirectories(proc.resolve("77"));
        Files.writeString(dir.resolve("stat"), "77 (w) R 1 77 77 0 -1 0 0 0 0 0 5 5 0 0 20 0 1 0 42 0 0 0");
        Files.writeString(dir.resolve("status"), "Name:\tw\nVmRSS:\t  2048 kB\n");
        ProcessSample s = new ProcessStats(proc).sample(77).orElseThrow();
        assertEquals(2048 * 1024, s.rssBytes());
        assertEquals(10, s.cpuTicks());
        assertTrue(new ProcessStats(proc).sample(78).isEmpty(), "gone process");
    }

    @Test
    void samplesThisJvm() {
        ProcessSample s = new ProcessStats().sample((int) ProcessHandle.current().pid()).orElseThrow();
        assertTrue(s.rssBytes() > 1024 * 1024);
        assertTrue(s.cpuTicks() >= 0);
    }
}
