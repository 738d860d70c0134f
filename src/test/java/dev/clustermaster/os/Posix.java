package dev.clustermaster.os;

import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/** For tests: a native jnr-posix instance (kill, chmod, dup, ... of test processes); the master binds its own Libc. */
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
