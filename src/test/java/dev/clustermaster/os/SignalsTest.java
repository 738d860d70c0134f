package dev.clustermaster.os;

import dev.clustermaster.core.Signal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SignalsTest {
    @Test
    void namesInAllSpellingsMapToLinuxNumbers() {
        for (String s : new String[] {"TERM", "SIGTERM", "term", "sigterm", " 15 ", "15"}) {
            assertEquals(15, Signals.number(s), s);
        }
        assertEquals(1, Signals.number("HUP"));
        assertEquals(2, Signals.number("int"));
        assertEquals(9, Signals.number("KILL"));
        assertEquals(10, Signals.number("USR1"));
        assertEquals(12, Signals.number("USR2"));
        assertEquals(17, Signals.number("CHLD"));
        assertEquals(17, Signals.number("CLD"));
        assertEquals(21, Signals.number("TTIN"));
        assertEquals(22, Signals.number("TTOU"));
        assertEquals(28, Signals.number("WINCH"));
        assertEquals(0, Signals.number("0"));
        assertEquals(34, Signals.number("RTMIN"));
        assertEquals(36, Signals.number("SIGRTMIN+2"));
        assertEquals(63, Signals.number("RTMAX-1"));
    }

    @Test
    void unknownNamesAreRejected() {
        for (String s : new String[] {"FOO", "SIGFOO", "", "65", "-1", "999999999999", "RTMIN+40", "RTMIN+x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Signals.number(s), s);
            assertEquals("unknown signal: " + s, e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Signals.number((String) null));
    }

    @Test
    void numbersMapBackToNames() {
        assertEquals("SIGTERM", Signals.name(15));
        assertEquals("SIGKILL", Signals.name(9));
        assertEquals("SIGCHLD", Signals.name(17));
        assertEquals("SIGSYS", Signals.name(31));
        assertEquals("SIGRTMIN", Signals.name(34));
        assertEquals("SIGRTMIN+3", Signals.name(37));
        assertEquals("SIG99", Signals.name(99));
        assertEquals("HUP", Signals.shortName("sighup"));
        for (int n = 1; n <= 31; n++) {
            assertEquals(n, Signals.number(Signals.name(n)));
        }
    }

    @Test
    void theCoresNamesMapToLinuxNumbersBothWays() {
        assertEquals(Signal.HUP, Signals.signal(1));
        assertEquals(Signal.KILL, Signals.signal(9));
        assertEquals(Signal.TERM, Signals.signal(15));
        assertEquals(Signal.CHLD, Signals.signal(17));
        assertEquals(Signal.TTIN, Signals.signal(21));
        assertEquals(Signal.SYS, Signals.signal(31));
        assertEquals(Signal.SIG32, Signals.signal(32));
        assertEquals(Signal.RTMIN, Signals.signal(34));
        assertEquals(Signal.RTMIN_PLUS_30, Signals.signal(64));
        assertEquals(Signal.USR2, Signals.signal("sigusr2"));
        assertEquals(Signal.RTMIN_PLUS_2, Signals.signal("RTMIN+2"));
        assertEquals(Signal.RTMIN_PLUS_29, Signals.signal("RTMAX-1"));
        for (int n = 1; n <= 64; n++) {
            assertEquals(n, Signals.number(Signals.signal(n)));
            assertEquals(n, Signals.number(Signals.signal(n).label()), Signals.signal(n).label());
        }
        for (int bad : new int[] {0, -1, 65}) {
            assertEquals("unknown signal: " + bad, assertThrows(IllegalArgumentException.class, () -> Signals.signal(bad)).getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Signals.signal("0"), "0 is no signal to send");
    }
}
