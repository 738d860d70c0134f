package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ReaperTest {
    private final Kids kids = new Kids();

    @AfterEach
    void cleanup() {
        kids.close();
    }

    @Test
    void reportsOnlyTheChildrenThatEnded() throws Exception {
        int running = kids.spawn("sleep", "100");
        int done = kids.sh("exit 5", Map.of());
        Kids.await("zombie", () -> ProcStats.zombieChildrenOf((int) ProcessHandle.current().pid()).contains(done));
        Map<Integer, ExitStatus> reaped = kids.reaper.reap(List.of(running, done));
        kids.forget(done);
        assertEquals(Map.of(done, new ExitStatus(5, 0)), reaped);
        assertTrue(kids.reaper.reap(List.of(running)).isEmpty());
    }

    @Test
    void aPidThatIsNotOurChildCountsAsExitedWithUnknownStatus() {
        // pid 1 always exists and is never our child: waitpid says ECHILD.
        assertEquals(Map.of(1, ExitStatus.UNKNOWN), kids.reaper.reap(List.of(1)));
    }

    @Test
    void refusesWildcardPids() {
        assertThrows(IllegalArgumentException.class, () -> kids.reaper.reap(List.of(-1)));
        assertThrows(IllegalArgumentException.class, () -> kids.reaper.reap(List.of(0)));
    }
}
