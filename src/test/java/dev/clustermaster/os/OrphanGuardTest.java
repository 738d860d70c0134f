package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OrphanGuardTest {
    private final Kids kids = new Kids();

    @AfterEach
    void cleanup() {
        kids.close();
    }

    @Test
    void whenTheWriteEndClosesEveryListedGroupDiesAndOnlyThose() throws Exception {
        // each group ignores SIGTERM and has a child: only SIGKILL to the whole group ends it
        String script = "trap '' TERM; sleep 1000 & while :; do sleep 1; done";
        int a = kids.sh(script, Map.of());
        int b = kids.sh(script, Map.of());
        int c = kids.sh(script, Map.of());
        Kids.await("a child in group a", () -> !children(a).isEmpty());
        int grandchild = Integer.parseInt(children(a).split(" ")[0]);

        OrphanGuard guard = OrphanGuard.start(new ProcessSpawner());
        guard.add(a);
        guard.add(b);
        guard.add(c);
        guard.remove(b);  // removed from the middle of the list
        guard.close();    // what the kernel does when the master dies

        // SIGTERM is ignored, so the guard's SIGKILL comes after its grace: a generous deadline for a loaded machine
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!(Kids.dead(a) && Kids.dead(c) && Kids.dead(grandchild))) {
            assertTrue(System.nanoTime() < deadline, "groups a and c were not killed within 30 s");
            Thread.sleep(20);
        }
        assertFalse(Kids.dead(b), "a group removed from the guard is left alone");
        assertTrue(ProcessGroups.signalGroup(b, Signals.SIGKILL));
    }

    private static String children(int pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/task/" + pid + "/children")).trim();
        } catch (Exception e) {
            return "";
        }
    }
}
