package dev.clustermaster.runtime;

import java.util.Map;

/**
 * systemd's watchdog: when WATCHDOG_USEC is set for us, says when the next WATCHDOG=1 is due (at half the
 * interval), so the event loop can sleep until then.
 */
final class Watchdog {
    private final long intervalMillis;
    private long lastPing;
    private boolean pinged;

    private Watchdog(long intervalMillis) {
        this.intervalMillis = intervalMillis;
    }

    static Watchdog fromEnvironment(Map<String, String> env, int pid) {
        String usec = env.get("WATCHDOG_USEC");
        String forPid = env.get("WATCHDOG_PID");
        if (usec == null || (forPid != null && !forPid.equals(Integer.toString(pid)))) {
            return new Watchdog(0);
        }
        try {
            long micros = Long.parseLong(usec.trim());
            // half the interval, at least 1 ms so a tiny WATCHDOG_USEC cannot make the loop spin
            return new Watchdog(micros > 0 ? Math.max(micros / 2_000, 1) : 0);
        } catch (NumberFormatException e) {
            return new Watchdog(0);
        }
    }

    boolean enabled() {
        return intervalMillis > 0;
    }

    /** Monotonic millis of the next ping; {@link EventLoop#NONE} when disabled. Due at once before the first. */
    long nextDueMillis() {
        if (!enabled()) {
            return EventLoop.NONE;
        }
        return pinged ? lastPing + intervalMillis : 0;
    }

    /** True (and restarts the interval) when a ping is due at monotonic time nowMillis. */
    boolean due(long nowMillis) {
        if (!enabled() || nowMillis < nextDueMillis()) {
            return false;
        }
        lastPing = nowMillis;
        pinged = true;
        return true;
    }
}
