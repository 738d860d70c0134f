package dev.clustermaster.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class WorkerExitTest {
    @Test
    void describesEachWayOfEnding() {
        assertEquals("exit 0", new WorkerExit.Code(0).describe());
        assertEquals("exit 3", new WorkerExit.Code(3).describe());
        assertEquals("killed by SIGKILL", new WorkerExit.Killed(Signal.KILL, false).describe());
        assertEquals("killed by SIGSEGV (core dumped)", new WorkerExit.Killed(Signal.SEGV, true).describe());
        assertEquals("killed by SIGRTMIN+2", new WorkerExit.Killed(Signal.RTMIN_PLUS_2, false).describe());
        assertEquals("unknown status", WorkerExit.UNKNOWN.describe());
    }

    @Test
    void rejectsWhatNoProcessCanReport() {
        assertThrows(IllegalArgumentException.class, () -> new WorkerExit.Code(256));
        assertThrows(IllegalArgumentException.class, () -> new WorkerExit.Code(-1));
        assertThrows(IllegalArgumentException.class, () -> new WorkerExit.Killed(null, false));
    }

    @Test
    void signalsAreNamedAsPeopleWriteThem() {
        assertEquals("SIGTERM", Signal.TERM.label());
        assertEquals("TERM", Signal.TERM.shortName());
        assertEquals("SIGRTMIN", Signal.RTMIN.label());
        assertEquals("SIGRTMIN+30", Signal.RTMIN_PLUS_30.label());
        assertEquals("SIG32", Signal.SIG32.label());
        assertEquals(64, Signal.values().length, "every Linux signal 1..64 has a name");
    }
}
