package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProcessGroupsTest {
    private final Kids kids = new Kids();

    @AfterEach
    void cleanup() {
        kids.close();
    }

    @Test
    void refusesPidsThatWouldHitOtherProcesses() {
        for (int bad : new int[] {0, 1, -1, -5}) {
            assertThrows(IllegalArgumentException.class, () -> ProcessGroups.signalGroup(bad, 0));
        }
        for (int bad : new int[] {0, -1, -5}) {
            assertThrows(IllegalArgumentException.class, () -> ProcessGroups.signalProcess(bad, 0));
        }
    }

    @Test
    void signalsLiveProcessesAndReportsGoneOnes() throws Exception {
        int pid = kids.spawn("sleep", "100");
        assertTrue(ProcessGroups.signalProcess(pid, 0));
        assertTrue(ProcessGroups.signalGroup(pid, 0));
        assertTrue(ProcessGroups.signalGroup(pid, Signals.SIGKILL));
        assertEquals(new ExitStatus(-1, Signals.SIGKILL), kids.awaitExit(pid));
        assertFalse(ProcessGroups.signalProcess(pid, 0), "reaped pid is gone");
        assertFalse(ProcessGroups.signalGroup(pid, Signals.SIGTERM), "empty group");
    }

    @Test
    void invalidSignalIsLoud() throws Exception {
        int pid = kids.spawn("sleep", "100");
        assertThrows(IllegalStateException.class, () -> ProcessGroups.signalProcess(pid, 999));
    }
}
