package dev.clustermaster.worker;

import java.util.Optional;

/** Loads {@link JnrTransport} once, by reflection, and remembers whether that worked. */
final class Transports {

    private static final String IMPL = "dev.clustermaster.worker.JnrTransport";

    private Transports() {
    }

    private static final class Holder {
        static final Optional<NativeTransport> INSTANCE = load();
    }

    /** Empty (after one log line) when jnr-unixsocket is not on the worker's class path or cannot load. */
    static Optional<NativeTransport> get() {
        return Holder.INSTANCE;
    }

    private static Optional<NativeTransport> load() {
        try {
            Class<?> type = Class.forName(IMPL, true, Transports.class.getClassLoader());
            return Optional.of((NativeTransport) type.getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException | LinkageError e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ? e.getCause() : e;
            WorkerLog.warn("jnr-unixsocket is not usable (" + cause + "); READY=1, status and master messages are disabled,"
                    + " the worker still runs. Put jnr-unixsocket on the worker class path, or run it with --main/--jar (pipes, no jnr).");
            return Optional.empty();
        }
    }
}
