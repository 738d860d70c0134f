package dev.clustermaster.worker;

/**
 * Lines this package prints about itself. Plain stderr: the worker's logging framework is the user's choice,
 * and the master already sends a worker's stderr to the journal.
 */
final class WorkerLog {

    private WorkerLog() {
    }

    static void warn(String message) {
        System.err.println("cluster-master worker: " + message);
    }

    static void warn(String message, Throwable cause) {
        warn(message + ": " + cause);
    }
}
