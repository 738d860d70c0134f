package dev.clustermaster.os;

import dev.clustermaster.core.Signal;
import dev.clustermaster.core.WorkerExit;

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
        assertEquals(new ExitStatus(-1, 11, true), ExitStatus.fromWaitStatus(0x80 | 11));
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
        assertEquals("killed by SIGSEGV (core dumped)", ExitStatus.fromWaitStatus(0x80 | 11).describe());
    }

    @Test
    void theCoreGetsTheStatusTyped() {
        assertEquals(new WorkerExit.Code(3), ExitStatus.fromWaitStatus(3 << 8).toWorkerExit());
        assertEquals(new WorkerExit.Killed(Signal.KILL, false), ExitStatus.fromWaitStatus(9).toWorkerExit());
        assertEquals(new WorkerExit.Killed(Signal.SEGV, true), ExitStatus.fromWaitStatus(0x80 | 11).toWorkerExit());
        assertEquals(new WorkerExit.Killed(Signal.RTMIN_PLUS_2, false), ExitStatus.fromWaitStatus(36).toWorkerExit());
        assertEquals(WorkerExit.UNKNOWN, ExitStatus.UNKNOWN.toWorkerExit());
    }

    @Test
    void decodesRealChildren() throws Exception {
        assertEquals(new ExitStatus(42, 0), kids.awaitExit(kids.sh("exit 42", Map.of())));
        assertEquals(new ExitStatus(-1, Signals.SIGTERM), kids.awaitExit(kids.sh("kill -TERM $$", Map.of())));
        assertEquals("killed by SIGABRT", kids.awaitExit(kids.sh("ulimit -c 0; kill -ABRT $$", Map.of())).describe());
    }
}
