package dev.clustermaster.os;

import java.io.Closeable;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The master's end of one worker's line-based IPC channel: a socketpair ({@link WorkerChannel}, for any
 * program) or a pipe pair ({@link WorkerPipes}, which a JVM opens with the JDK alone).
 */
public interface WorkerIpc extends Closeable {

    /** Worker fd number to the master's fd for it: put these in the spawn fd map, then call closeChildEnd(). */
    Map<Integer, Integer> childFds(int firstFd);

    /** Drops the master's copies of the worker's ends, so the worker exiting gives the reader EOF. */
    void closeChildEnd();

    /** Lines (without LF) go to onLine on the fd poller thread; onEof runs once at the end. Both must only hand off. */
    void startReading(String name, Consumer<String> onLine, Runnable onEof);

    /** Sends line + LF; false (logged) when the channel is closed or the worker does not read in time. */
    boolean send(String line);

    /** The worker sees EOF; a running reader ends and runs onEof. Idempotent. */
    @Override
    void close();
}
