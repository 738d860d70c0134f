package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ExitStatusTest {
    private final Kids kids = new Kids();

    @AfterEach
    void cleanup() {
        kids.close();
    }

    @Test
    void decodesRawStatuses() {
        assertEquals(new ExitStatus(0, 0), ExitStatus.fromWaitStatus(0));
        assertEquals(new ExitStatus(3, 0), ExitStatus.fromWaitStatus(3 << 8));
        assertEquals(new ExitStatus(255, 0), ExitStatus.fromWaitStatus(255 << 8));
        assertEquals(new ExitStatus(-1, 9), ExitStatus.fromWaitStatus(9));
        assertEquals(new ExitStatus(-1, 11), ExitStatus.fromWaitStatus(0x80 | 11));  // core dumped
        assertThrows(IllegalArgumentException.class, () -> ExitStatus.fromWaitStatus((19 << 8) | 0x7f));  // stopped
        assertThrows(IllegalArgumentException.class, () -> ExitStatus.fromWaitStatus(0xffff));  // continued
    }

    @Test
    void predicatesAndDescriptions() {
        ExitStatus ok = new ExitStatus(0, 0);
        assertTrue(ok.success());
        assertFalse(ok.signaled());
        assertEquals("exit 0", ok.describe());
        ExitStatus three = new ExitStatus(3, 0);
        assertFalse(three.success());
        assertEquals("exit 3", three.describe());
        ExitStatus killed = new ExitStatus(-1, 9);
        assertTrue(killed.signaled());
        assertFalse(killed.success());
        assertEquals("killed by SIGKILL", killed.describe());
        assertTrue(ExitStatus.UNKNOWN.unknown());
        assertFalse(ExitStatus.UNKNOWN.success());
        assertEquals("unknown status", ExitStatus.UNKNOWN.describe());
    }

    @Test
    void decodesRealChildren() throws Exception {
        assertEquals(new ExitStatus(42, 0), kids.awaitExit(kids.sh("exit 42", Map.of())));
        assertEquals(new ExitStatus(-1, Signals.SIGTERM), kids.awaitExit(kids.sh("kill -TERM $$", Map.of())));
        assertEquals("killed by SIGABRT", kids.awaitExit(kids.sh("ulimit -c 0; kill -ABRT $$", Map.of())).describe());
    }
}
