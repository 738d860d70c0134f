package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProcStatsTest {
    private final Kids kids = new Kids();
    private final int self = (int) ProcessHandle.current().pid();

    @AfterEach
    void cleanup() {
        kids.close();
    }

    @Test
    void samplesOurselfAndAChild() throws Exception {
        ProcStats.Sample me = ProcStats.sample(self).orElseThrow();
        assertEquals(self, me.pid());
        assertTrue(me.rssBytes() > 10L * 1024 * 1024, "a JVM has over 10 MiB resident: " + me.rssBytes());
        assertTrue(me.cpuTicks() > 0);
        assertTrue("RS".indexOf(me.state()) >= 0, "state " + me.state());

        int pid = kids.spawn("sleep", "100");
        Kids.await("sleep is sleeping", () -> ProcStats.sample(pid).map(s -> s.state() == 'S').orElse(false));
        ProcStats.Sample child = ProcStats.sample(pid).orElseThrow();
        assertTrue(child.startTimeTicks() >= me.startTimeTicks(), "child started after us");
        assertTrue(child.rssBytes() > 0);
    }

    @Test
    void goneProcessGivesEmpty() throws Exception {
        int pid = kids.spawn("true");
        kids.awaitExit(pid);
        assertTrue(ProcStats.sample(pid).isEmpty());
        assertTrue(ProcStats.processGroupOf(pid).isEmpty());
    }

    @Test
    void commWithSpacesAndParensDoesNotConfuseTheParser() throws Exception {
        // exec -a does not change comm in dash; a symlink named with ") x (" does.
        java.nio.file.Path link = java.nio.file.Files.createTempDirectory("cm").resolve("a) b (c");
        java.nio.file.Files.createSymbolicLink(link, java.nio.file.Path.of("/bin/sleep"));
        int pid = kids.spawn(link.toString(), "100");
        Kids.await("renamed sleep runs", () -> Kids.status0(pid).equals("a) b (c"));
        assertEquals(pid, ProcStats.processGroupOf(pid).getAsInt());
        assertEquals(self, ProcStats.parentOf(pid).getAsInt());
        assertEquals(pid, ProcStats.sample(pid).orElseThrow().pid());
    }

    @Test
    void findsOurZombiesUntilTheyAreReaped() throws Exception {
        int pid = kids.sh("exit 0", Map.of());
        Kids.await("zombie appears", () -> ProcStats.zombieChildrenOf(self).contains(pid));
        assertEquals('Z', ProcStats.sample(pid).orElseThrow().state());
        kids.awaitExit(pid);
        assertFalse(ProcStats.zombieChildrenOf(self).contains(pid));
    }

    @Test
    void clockTicks() {
        assertEquals(100, ProcStats.clockTicksPerSecond());  // fixed USER_HZ on Linux x86_64/aarch64
    }

    @Test
    void statFieldsAreCountedFromTheLastParenthesis() {
        String stat = "123 (my (odd) app) S 1 123 123 0 -1 4194304 500 0 0 0 70 30 0 0 20 0 4 0 9876 1000000 250";
        String[] f = ProcStats.fieldsAfterComm(stat).orElseThrow();
        assertEquals("S", f[0]);
        assertEquals("70", f[11]);
        assertEquals("9876", f[19]);
        assertTrue(ProcStats.fieldsAfterComm("garbage").isEmpty());
    }
}
