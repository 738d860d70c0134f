package dev.clustermaster.runtime;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WatchdogTest {

    @Test
    void dueAtOnceThenEveryHalfInterval() {
        Watchdog w = Watchdog.fromEnvironment(Map.of("WATCHDOG_USEC", "400000", "WATCHDOG_PID", "42"), 42);
        assertTrue(w.enabled());
        assertEquals(0, w.nextDueMillis(), "the first ping is due at once");
        assertTrue(w.due(5_000));
        assertEquals(5_200, w.nextDueMillis());
        assertFalse(w.due(5_199));
        assertTrue(w.due(5_200));
    }

    @Test
    void disabledWithoutWatchdogUsecOrForAnotherPid() {
        assertEquals(EventLoop.NONE, Watchdog.fromEnvironment(Map.of(), 42).nextDueMillis());
        assertEquals(EventLoop.NONE, Watchdog.fromEnvironment(Map.of("WATCHDOG_USEC", "400000", "WATCHDOG_PID", "7"), 42).nextDueMillis());
        assertFalse(Watchdog.fromEnvironment(Map.of("WATCHDOG_USEC", "x"), 42).due(1_000));
    }
}
