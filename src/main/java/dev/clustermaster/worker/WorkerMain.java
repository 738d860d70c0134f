package dev.clustermaster.worker;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;

/**
 * Entry point of a Java worker: {@code java -cp ... dev.clustermaster.worker.WorkerMain main.Class [args...]}.
 * Connects to the master (IPC channel on a daemon thread, so a dead master ends this JVM), then runs
 * {@code main.Class.main(args)} on this thread. Exit status 2 when the class or its main method is missing.
 */
public final class WorkerMain {

    static final int USAGE_EXIT = 2;

    private WorkerMain() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 0) {
            System.err.println("usage: java -cp <classpath> " + WorkerMain.class.getName() + " <main class> [args...]");
            System.exit(USAGE_EXIT);
        }
        MethodHandle target = findMain(args[0]);
        if (target == null) {
            System.exit(USAGE_EXIT);
        }
        WorkerRuntime.get();
        try {
            target.invokeExact(Arrays.copyOfRange(args, 1, args.length));
        } catch (IOException e) {
            if (!SpareHold.stopped()) {
                throw e;
            }
            // a spare stopped before its promotion, held in main: no stack trace, the stop signal ends the JVM
        }
    }

    /** The public static void main(String[]) of the named class, or null after explaining why not. */
    private static MethodHandle findMain(String className) {
        Class<?> type;
        try {
            type = Class.forName(className, false, Thread.currentThread().getContextClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            System.err.println("cluster-master worker: main class " + className + " not found on the class path ("
                    + System.getProperty("java.class.path") + "): " + e);
            return null;
        }
        try {
            return MethodHandles.publicLookup().findStatic(type, "main", MethodType.methodType(void.class, String[].class));
        } catch (NoSuchMethodException | IllegalAccessException e) {
            System.err.println("cluster-master worker: " + className + " has no public static void main(String[]): " + e);
            return null;
        }
    }
}
