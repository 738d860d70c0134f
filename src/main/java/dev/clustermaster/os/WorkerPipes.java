package dev.clustermaster.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Line-based master<->worker IPC over two pipes, for JVM workers: the JDK cannot use a socket given by fd number,
 * but it can reopen an inherited pipe as {@code /proc/self/fd/N}. The worker reads its first fd (master to worker)
 * and writes the second (worker to master). The master's ends are close-on-exec and non-blocking: the poller reads
 * one, and a send waits for room in the other at most the send timeout.
 */
public final class WorkerPipes implements WorkerIpc {
    private static final Logger log = LoggerFactory.getLogger(WorkerPipes.class);
    private static final short POLLOUT = 0x4;
    /** A send waiting for room rechecks this often whether close() was called. */
    private static final int WAIT_SLICE_MILLIS = 50;

    // Lock order: sendLock, then lock. writeFd is only closed holding both, so a send never writes to a reused number.
    private final Object sendLock = new Object();
    private final Object lock = new Object();
    private final long sendTimeoutMillis;
    private final int readFd;       // worker -> master, master end
    private final int writeFd;      // master -> worker, master end
    private int childReadFd;        // -1 once closed in the master
    private int childWriteFd;
    private boolean stalled;        // guarded by sendLock: the last send timed out; until one succeeds, sends do not wait
    private boolean shut;           // guarded by lock: close() called or a send broke the stream
    private boolean writeClosed;    // guarded by lock
    private boolean closed;         // guarded by lock: close() ran
    private FdPoller poller;        // guarded by lock: set while the poller owns readFd
    private Reader reader;          // guarded by lock

    private WorkerPipes(long sendTimeoutMillis, int readFd, int writeFd, int childReadFd, int childWriteFd) {
        this.sendTimeoutMillis = sendTimeoutMillis;
        this.readFd = readFd;
        this.writeFd = writeFd;
        this.childReadFd = childReadFd;
        this.childWriteFd = childWriteFd;
    }

    public static WorkerPipes open() throws IOException {
        return open(WorkerChannel.DEFAULT_SEND_TIMEOUT_MILLIS);
    }

    public static WorkerPipes open(long sendTimeoutMillis) throws IOException {
        int[] up = pipe();
        int[] down;
        try {
            down = pipe();
        } catch (IOException e) {
            Libc.closeQuietly(up[0]);
            Libc.closeQuietly(up[1]);
            throw e;
        }
        try {
            nonBlocking(up[0]);
            nonBlocking(down[1]);
        } catch (IOException e) {
            for (int fd : new int[] {up[0], up[1], down[0], down[1]}) {
                Libc.closeQuietly(fd);
            }
            throw e;
        }
        return new WorkerPipes(sendTimeoutMillis, up[0], down[1], down[0], up[1]);
    }

    private static int[] pipe() throws IOException {
        int[] fds = new int[2];
        if (Libc.api().pipe2(fds, Libc.O_CLOEXEC) != 0) {
            throw new IOException("pipe2: " + Libc.strerror(Libc.errno()));
        }
        return fds;
    }

    /** O_NONBLOCK is per open file: the master's end only, the worker's end of the same pipe stays blocking. */
    private static void nonBlocking(int fd) throws IOException {
        int flags = Libc.api().fcntl(fd, Libc.F_GETFL, 0);
        if (flags < 0 || Libc.api().fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK) != 0) {
            throw new IOException("fcntl(O_NONBLOCK): " + Libc.strerror(Libc.errno()));
        }
    }

    /** {firstFd: the worker reads it, firstFd + 1: the worker writes it}. */
    @Override
    public Map<Integer, Integer> childFds(int firstFd) {
        synchronized (lock) {
            if (childReadFd < 0) {
                throw new IllegalStateException("child ends already closed");
            }
            Map<Integer, Integer> fds = new LinkedHashMap<>();
            fds.put(firstFd, childReadFd);
            fds.put(firstFd + 1, childWriteFd);
            return fds;
        }
    }

    @Override
    public void closeChildEnd() {
        synchronized (lock) {
            Libc.closeQuietly(childReadFd);
            Libc.closeQuietly(childWriteFd);
            childReadFd = -1;
            childWriteFd = -1;
        }
    }

    @Override
    public void startReading(String name, Consumer<String> onLine, Runnable onEof) {
        startReading(name, FdPoller.shared(), onLine, onEof);
    }

    public void startReading(String name, FdPoller poller, Consumer<String> onLine, Runnable onEof) {
        Reader r = new Reader(name, onLine, onEof);
        synchronized (lock) {
            if (reader != null) {
                throw new IllegalStateException("already reading");
            }
            if (shut || closed) {
                throw new IllegalStateException("channel closed");
            }
            this.poller = poller;
            this.reader = r;
        }
        poller.watch(readFd, r);
    }

    private final class Reader extends WorkerLineReader {
        Reader(String name, Consumer<String> onLine, Runnable onEof) {
            super(log, name, "read", onLine, onEof);
        }

        @Override
        long read(byte[] buf) {
            return Libc.api().read(readFd, buf, buf.length);
        }

        @Override
        void release() {
            Libc.closeQuietly(readFd);
            closeWriteEnd();
        }
    }

    @Override
    public boolean send(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (sendLock) {
            if (isShut()) {
                log.debug("send on closed channel dropped");
                return false;
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(sendTimeoutMillis);
            int off = 0;
            while (off < bytes.length) {
                byte[] chunk = off == 0 ? bytes : Arrays.copyOfRange(bytes, off, bytes.length);
                long n = Libc.api().write(writeFd, chunk, chunk.length);
                if (n > 0) {
                    off += (int) n;
                    continue;
                }
                int e = Libc.errno();
                if (n < 0 && e == Libc.EINTR) {
                    continue;
                }
                if (n < 0 && e == Libc.EAGAIN && off == 0 && stalled) {
                    // A worker that stopped reading costs the caller (the event loop) one timeout, not one per line.
                    log.debug("worker pipes: the worker is still not reading; line dropped");
                    return false;
                }
                if (n < 0 && e == Libc.EAGAIN && !isShut()) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left > 0) {
                        awaitRoom((int) Math.min(left, WAIT_SLICE_MILLIS));
                        continue;
                    }
                    if (off == 0) {
                        log.warn("worker pipes: send timed out, the worker is not reading; lines are dropped until it does");
                        stalled = true;
                        return false;
                    }
                    log.warn("worker pipes: send timed out mid-line; closing the channel");
                } else {
                    log.debug("worker pipes: write: {}", n < 0 ? Libc.strerror(e) : "no progress");
                }
                close();  // a cut line would misalign the stream; the worker sees EOF
                return false;
            }
            stalled = false;
            return true;
        }
    }

    private void awaitRoom(int millis) {
        Pointer pfd = Libc.alloc(8);
        pfd.putInt(0, writeFd);
        pfd.putShort(4, POLLOUT);
        Libc.api().poll(pfd, 1, millis);
        java.lang.ref.Reference.reachabilityFence(pfd);
    }

    private boolean isShut() {
        synchronized (lock) {
            return shut || writeClosed;
        }
    }

    /** The worker reads EOF; the reader ends (running onEof) now, or the fd is closed if nobody reads. */
    @Override
    public void close() {
        FdPoller p;
        Reader r;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            shut = true;
            Libc.closeQuietly(childReadFd);
            Libc.closeQuietly(childWriteFd);
            childReadFd = -1;
            childWriteFd = -1;
            p = poller;
            r = reader;
        }
        closeWriteEnd();
        if (r != null) {
            p.unwatch(readFd, r);
        } else {
            Libc.closeQuietly(readFd);
        }
    }

    /** Waits for a send in progress (at most one wait slice once shut is set). */
    private void closeWriteEnd() {
        synchronized (lock) {
            shut = true;
        }
        synchronized (sendLock) {
            synchronized (lock) {
                if (!writeClosed) {
                    Libc.closeQuietly(writeFd);
                    writeClosed = true;
                }
            }
        }
    }
}
