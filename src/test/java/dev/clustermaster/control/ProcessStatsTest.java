package dev.clustermaster.control;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessStatsTest {

    @Test
    void samplesThisJvm() {
        ProcessSample s = new ProcessStats().sample((int) ProcessHandle.current().pid()).orElseThrow();
        assertTrue(s.rssBytes() > 1024 * 1024);
        assertTrue(s.cpuTicks() >= 0);
        assertTrue(s.cpuSeconds() >= 0);
    }

    @Test
    void aMissingProcessIsEmpty() {
        assertTrue(new ProcessStats().sample(0).isEmpty());
        assertTrue(new ProcessStats().sample(Integer.MAX_VALUE).isEmpty());
    }
}
