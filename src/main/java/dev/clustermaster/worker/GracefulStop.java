package dev.clustermaster.worker;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Behind {@link ClusterWorker#onStop}: on the master's SIGTERM (or a SIGINT) runs the registered drains in order
 * on a thread of their own, then exits with 0 (1 if a drain threw). Replaces the JVM's default for these signals,
 * which would exit 143 at once and cut requests in flight. Uses sun.misc.Signal (module jdk.unsupported) by
 * reflection; where it is missing the drains run as a shutdown hook instead (exit status 143).
 */
final class GracefulStop {

    static final int DRAIN_FAILED_STATUS = 1;
    private static final List<String> SIGNALS = List.of("TERM", "INT");

    private static final List<Runnable> DRAINS = new CopyOnWriteArrayList<>();
    private static final AtomicBoolean STOPPING = new AtomicBoolean();
    private static boolean installed;

    private GracefulStop() {
    }

    static synchronized void add(Runnable drain) {
        DRAINS.add(drain);
        if (!installed) {
            installed = true;
            if (!trapSignals()) {
                Runtime.getRuntime().addShutdownHook(new Thread(GracefulStop::runDrains, "cm-stop-hook"));
            }
        }
    }

    static boolean stopping() {
        return STOPPING.get();
    }

    private static void onSignal(String name) {
        if (!STOPPING.compareAndSet(false, true)) {
            return; // already draining: the master's stop timeout bounds it
        }
        Thread t = new Thread(() -> System.exit(runDrains()), "cm-stop");
        t.start();
    }

    /** @return the exit status: 0, or 1 if a drain failed */
    private static int runDrains() {
        STOPPING.set(true);
        int status = 0;
        for (Runnable drain : DRAINS) {
            try {
                drain.run();
            } catch (RuntimeException | Error e) {
                WorkerLog.warn("onStop handler failed", e);
                status = DRAIN_FAILED_STATUS;
            }
        }
        return status;
    }

    private static boolean trapSignals() {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            for (String name : SIGNALS) {
                InvocationHandler call = (proxy, method, args) -> switch (method.getName()) {
                    case "handle" -> {
                        onSignal(name);
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "cluster-master stop handler";
                };
                Object handler = Proxy.newProxyInstance(GracefulStop.class.getClassLoader(), new Class<?>[] {handlerType}, call);
                Object sig = signal.getConstructor(String.class).newInstance(name);
                signal.getMethod("handle", signal, handlerType).invoke(null, sig, handler);
            }
            return true;
        } catch (ReflectiveOperationException | LinkageError | IllegalArgumentException e) {
            WorkerLog.warn("cannot trap SIGTERM (" + e + "); onStop handlers run as a shutdown hook");
            return false;
        }
    }
}
