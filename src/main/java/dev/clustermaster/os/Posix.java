package dev.clustermaster.os;

import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * The process-wide native jnr-posix instance: how the master sends signals to workers and their process groups
 * ({@link ProcessGroups}). Loaded on the first signal, not at start: its libc interface costs ~100 ms of CPU and a
 * few MiB, and a master that only starts and supervises never needs it. Calls jnr-posix has no binding for
 * (posix_spawn with signal attributes, SCM_RIGHTS, prctl) are in {@link Libc}.
 */
public final class Posix {
    private Posix() {}

    private static final class Holder {
        static final POSIX INSTANCE = load();

        private static POSIX load() {
            POSIX p = POSIXFactory.getNativePOSIX();
            // The pure-Java fallback silently fakes kill/waitpid/spawn; a supervisor built on that would lie.
            if (p == null || !p.isNative()) {
                throw new IllegalStateException("native jnr-posix is not available (only the Java fallback loaded); "
                        + "cluster-master needs native libc access on Linux");
            }
            return p;
        }
    }

    /** The native POSIX singleton; throws IllegalStateException if native access cannot be loaded. */
    public static POSIX get() {
        return Holder.INSTANCE;
    }
}
