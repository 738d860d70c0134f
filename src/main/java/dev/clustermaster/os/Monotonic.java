package dev.clustermaster.os;

/** CLOCK_MONOTONIC in microseconds, the clock sd_notify's MONOTONIC_USEC (RELOADING=1) expects. */
public final class Monotonic {
    private Monotonic() {}

    /**
     * HotSpot on Linux implements System.nanoTime() with clock_gettime(CLOCK_MONOTONIC), so it shares its origin
     * (boot) with systemd's clock; MonotonicTest checks it against a direct clock_gettime call.
     */
    public static long nowMicros() {
        return System.nanoTime() / 1000;
    }

    /** clock_gettime(CLOCK_MONOTONIC) straight from libc, in microseconds. */
    static long nativeMicros() {
        jnr.ffi.Pointer ts = Libc.alloc(16);
        if (Libc.api().clock_gettime(Libc.CLOCK_MONOTONIC, ts) != 0) {
            throw new IllegalStateException("clock_gettime: " + Libc.strerror(Libc.errno()));
        }
        return ts.getLong(0) * 1_000_000L + ts.getLong(8) / 1000;
    }
}
