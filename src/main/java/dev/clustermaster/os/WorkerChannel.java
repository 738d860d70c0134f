package dev.clustermaster.os;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Line-based master<->worker IPC over socketpair(AF_UNIX, SOCK_STREAM). Both ends are close-on-exec; the child end
 * reaches the worker only through the spawn fd map.
 */
public final class WorkerChannel implements WorkerIpc {
    private static final Logger log = LoggerFactory.getLogger(WorkerChannel.class);

    /** A worker sending a longer line is broken or hostile: the channel is closed. */
    public static final int MAX_LINE = 1024 * 1024;
    /** How long send() may block on a full socket buffer before giving up on the worker. */
    public static final long DEFAULT_SEND_TIMEOUT_MILLIS = 2000;

    // Lock order: sendLock, then lock. fd is only closed holding both, so a send never writes to a reused fd
    // number, and shutdown(2) (under lock alone) can still interrupt a send blocked on a full buffer.
    private final Object sendLock = new Object();
    private final Object lock = new Object();
    private final int fd;          // master end
    private int childFd;           // -1 once closed in the master
    private boolean stalled;       // guarded by sendLock: the last send timed out; until one succeeds, sends do not wait
    private boolean fdClosed;      // guarded by lock: the master end was closed (never close twice)
    private boolean shut;          // guarded by lock: close() called or send broke the stream
    private boolean reading;       // guarded by lock: the poller owns closing fd

    private WorkerChannel(int fd, int childFd) {
        this.fd = fd;
        this.childFd = childFd;
    }

    public static WorkerChannel open() throws IOException {
        return open(DEFAULT_SEND_TIMEOUT_MILLIS);
    }

    public static WorkerChannel open(long sendTimeoutMillis) throws IOException {
        int[] fds = new int[2];
        if (Libc.api().socketpair(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0, fds) != 0) {
            int e = Libc.errno();
            throw new IOException("socketpair: " + Libc.strerror(e));
        }
        try {
            // A blocking send with SO_SNDTIMEO returns EAGAIN instead of hanging on a worker that never reads.
            Libc.setSocketTimeout(fds[0], Libc.SO_SNDTIMEO, sendTimeoutMillis);
        } catch (IOException e) {
            Libc.closeQuietly(fds[0]);
            Libc.closeQuietly(fds[1]);
            throw e;
        }
        return new WorkerChannel(fds[0], fds[1]);
    }

    /** The worker's end: put it in the spawn fd map, then call closeChildEnd() right after spawning. */
    public int childFd() {
        synchronized (lock) {
            if (childFd < 0) {
                throw new IllegalStateException("child end already closed");
            }
            return childFd;
        }
    }

    @Override
    public Map<Integer, Integer> childFds(int firstFd) {
        return Map.of(firstFd, childFd());
    }

    /** Drops the master's copy of the worker's end, so the worker exiting gives the reader EOF. */
    public void closeChildEnd() {
        synchronized (lock) {
            Libc.closeQuietly(childFd);
            childFd = -1;
        }
    }

    /**
     * Delivers each line (without LF) to onLine on the process's {@link FdPoller} thread; onEof runs once when the
     * worker closed its end, sent an overlong line, or close() was called, and the master end is then closed.
     * Both callbacks must only hand off. The name labels log lines.
     */
    public void startReading(String name, Consumer<String> onLine, Runnable onEof) {
        startReading(name, FdPoller.shared(), onLine, onEof);
    }

    public void startReading(String name, FdPoller poller, Consumer<String> onLine, Runnable onEof) {
        synchronized (lock) {
            if (reading) {
                throw new IllegalStateException("already reading");
            }
            if (shut || fdClosed) {
                throw new IllegalStateException("channel closed");
            }
            reading = true;
        }
        poller.watch(fd, new Reader(name, onLine, onEof));
    }

    /** Reads without blocking when the poller says so; at the end closes the fd on the poller thread. */
    private final class Reader extends WorkerLineReader {
        Reader(String name, Consumer<String> onLine, Runnable onEof) {
            super(log, name, "recv", onLine, onEof);
        }

        @Override
        long read(byte[] buf) {
            return Libc.api().recv(fd, buf, buf.length, Libc.MSG_DONTWAIT);
        }

        @Override
        void release() {
            shutdownStream();
            closeFd();
        }
    }

    /**
     * Sends line + LF. Thread-safe. Returns false (and logs) if the channel is closed, the worker is gone, or the
     * worker did not drain its socket within the send timeout; a line cut by that timeout closes the channel,
     * because the stream would no longer be line-aligned.
     */
    public boolean send(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (sendLock) {
            synchronized (lock) {
                if (shut || fdClosed) {
                    log.debug("send on closed channel dropped");
                    return false;
                }
            }
            int off = 0;
            while (off < bytes.length) {
                byte[] chunk = off == 0 ? bytes : Arrays.copyOfRange(bytes, off, bytes.length);
                // A worker that stopped reading costs the caller (the event loop) one timeout, not one per line.
                long n = Libc.api().send(fd, chunk, chunk.length, Libc.MSG_NOSIGNAL | (stalled && off == 0 ? Libc.MSG_DONTWAIT : 0));
                if (n > 0) {
                    off += (int) n;
                    continue;
                }
                int e = Libc.errno();
                if (n < 0 && e == Libc.EINTR) {
                    continue;
                }
                if (n < 0 && e == Libc.EAGAIN && off == 0) {
                    if (!stalled) {
                        log.warn("worker channel: send timed out, the worker is not reading; lines are dropped until it does");
                    }
                    stalled = true;
                    return false;
                }
                if (n < 0 && e == Libc.EAGAIN) {
                    log.warn("worker channel: send timed out mid-line; closing the channel");
                } else {
                    log.debug("worker channel: send: {}", n < 0 ? Libc.strerror(e) : "no progress");
                }
                shutdownStream();
                return false;
            }
            stalled = false;
            return true;
        }
    }

    /**
     * The worker sees EOF; a running reader gets EOF too, runs onEof and closes the fd. Idempotent. May wait for
     * a send in progress to notice the shutdown (immediate, since shutdown wakes it).
     */
    @Override
    public void close() {
        boolean readerOwnsFd;
        synchronized (lock) {
            Libc.closeQuietly(childFd);
            childFd = -1;
            shutdownStream();
            readerOwnsFd = reading;
        }
        if (!readerOwnsFd) {
            closeFd();
        }
    }

    /** shutdown(SHUT_RDWR) once: wakes a reader blocked in recv and a sender blocked on a full buffer. */
    private void shutdownStream() {
        synchronized (lock) {
            if (!shut && !fdClosed) {
                Libc.api().shutdown(fd, Libc.SHUT_RDWR);
            }
            shut = true;
        }
    }

    private void closeFd() {
        synchronized (sendLock) {
            synchronized (lock) {
                if (!fdClosed) {
                    Libc.closeQuietly(fd);
                    fdClosed = true;
                }
            }
        }
    }
}
