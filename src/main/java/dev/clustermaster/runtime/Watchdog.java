package dev.clustermaster.runtime;

import java.util.Map;

/** systemd's watchdog: when WATCHDOG_USEC is set for us, says when the next WATCHDOG=1 is due (at half the interval). */
final class Watchdog {
    private final long intervalNanos;
    private long lastPing;

    private Watchdog(long intervalNanos) {
        this.intervalNanos = intervalNanos;
    }

    static Watchdog fromEnvironment(Map<String, String> env, int pid) {
        String usec = env.get("WATCHDOG_USEC");
        String forPid = env.get("WATCHDOG_PID");
        if (usec == null || (forPid != null && !forPid.equals(Integer.toString(pid)))) {
            return new Watchdog(0);
        }
        try {
            long micros = Long.parseLong(usec.trim());
            return new Watchdog(micros > 0 ? micros * 1_000 / 2 : 0);
        } catch (NumberFormatException e) {
            return new Watchdog(0);
        }
    }

    boolean enabled() {
        return intervalNanos > 0;
    }

    /** True (and restarts the interval) when a ping is due at monotonic time nowNanos. */
    boolean due(long nowNanos) {
        if (intervalNanos <= 0 || nowNanos - lastPing < intervalNanos) {
            return false;
        }
        lastPing = nowNanos;
        return true;
    }
}
