package dev.clustermaster.control;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessStatsTest {
    /** Written so the JIT cannot drop the busy loop. */
    private static volatile long blackhole;
    private final int self = (int) ProcessHandle.current().pid();

    @Test
    void samplesThisJvm() {
        ProcessSample s = new ProcessStats().sample(self).orElseThrow();
        assertEquals(self, s.pid());
        assertTrue(s.rssBytes() > 1024 * 1024, "a JVM has over 1 MiB resident: " + s.rssBytes());
        assertTrue("RS".indexOf(s.state()) >= 0, "state " + s.state());
        assertEquals(s.cpuTicks() / 100.0, s.cpuSeconds(), 1e-9);
    }

    @Test
    void cpuTimeGrowsWhileThisThreadComputes() {
        long before = new ProcessStats().sample(self).orElseThrow().cpuTicks();
        Await.until("CPU time above " + before + " ticks", () -> {
            long x = 0;
            for (int i = 0; i < 1_000_000; i++) {
                x += i ^ x;   // burn a little CPU between samples
            }
            blackhole = x;
            return new ProcessStats().sample(self).orElseThrow().cpuTicks() > before;
        }, java.time.Duration.ofSeconds(20));
    }

    @Test
    void aMissingProcessIsEmpty() {
        assertTrue(new ProcessStats().sample(0).isEmpty());
        assertTrue(new ProcessStats().sample(Integer.MAX_VALUE).isEmpty());
    }
}
