package dev.clustermaster.os;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread waiting in poll(2) on every worker socket and pipe of the process (notify datagrams, IPC streams,
 * captured output), instead of a blocking thread per fd: the thread count stays flat as workers grow, and an
 * idle master has no thread waking on a timeout. Readers run on this thread and must only parse and hand off.
 */
public final class FdPoller {
    private static final Logger log = LoggerFactory.getLogger(FdPoller.class);
    private static final int POLLFD_SIZE = 8;  // struct pollfd { int fd; short events; short revents; }
    private static final int BUFFER_SIZE = 64 * 1024;

    /** What the poller calls for a watched fd; both run on the poller thread. */
    public interface Reader {
        /** The fd is readable, hung up or in error. Read without blocking; false = done: stop watching it. */
        boolean onReadable(byte[] buffer);

        /** Runs once when watching ends (the reader said done, the fd broke, or {@link #unwatch}); may close the fd. */
        void onClose();
    }

    private static final class Shared {
        static final FdPoller INSTANCE = new FdPoller("cm-poller");
    }

    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** A wake-up byte is in the pipe and not yet drained: a burst of execute() (a mass spawn) writes it once. */
    private final AtomicBoolean wakePending = new AtomicBoolean();
    /** Poller thread only. */
    private final Map<Integer, Reader> readers = new LinkedHashMap<>();
    private final byte[] buffer = new byte[BUFFER_SIZE];
    private final byte[] one = new byte[1];
    private final int wakeRead;
    private final int wakeWrite;
    private final Thread thread;

    private FdPoller(String name) {
        int[] p = new int[2];
        if (Libc.api().pipe2(p, Libc.O_CLOEXEC | Libc.O_NONBLOCK) != 0) {
            throw new IllegalStateException("pipe2 for the fd poller: " + Libc.strerror(Libc.errno()));
        }
        wakeRead = p[0];
        wakeWrite = p[1];
        thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** The process's poller: one daemon thread, started on first use. */
    public static FdPoller shared() {
        return Shared.INSTANCE;
    }

    /** Starts watching fd; the reader owns it from now on (closes it in onClose). */
    public void watch(int fd, Reader reader) {
        execute(() -> {
            Reader old = readers.put(fd, reader);
            if (old != null) {
                // fd numbers are only reused after close, which happens here: a stale entry is a caller bug
                log.warn("fd {} was watched twice; dropping the old reader", fd);
                closeQuietly(old);
            }
        });
    }

    /**
     * Stops watching fd if reader still watches it, and runs reader's onClose, on the poller thread. Naming the
     * reader matters: if it had already stopped and closed fd, the number may belong to a new reader by now.
     */
    public void unwatch(int fd, Reader reader) {
        execute(() -> {
            if (readers.remove(fd, reader)) {
                closeQuietly(reader);
            }
        });
    }

    /** Runs task on the poller thread, in submission order. */
    public void execute(Runnable task) {
        tasks.add(task);
        if (Thread.currentThread() != thread && wakePending.compareAndSet(false, true)) {
            // a full pipe already holds a pending wake-up: EAGAIN is fine
            Libc.api().write(wakeWrite, one, 1);
        }
    }

    private void run() {
        Pointer fds = null;
        int capacity = 0;
        List<Integer> order = new ArrayList<>();
        while (true) {
            runTasks();
            order.clear();
            order.addAll(readers.keySet());
            int n = order.size() + 1;
            if (n > capacity) {
                capacity = Math.max(n, capacity * 2);
                fds = Libc.alloc(capacity * POLLFD_SIZE);
            }
            put(fds, 0, wakeRead);
            for (int i = 0; i < order.size(); i++) {
                put(fds, i + 1, order.get(i));
            }
            int rc = Libc.api().poll(fds, n, -1);
            if (rc < 0) {
                int e = Libc.errno();
                if (e != Libc.EINTR) {
                    log.error("poll: {}", Libc.strerror(e));
                }
                continue;
            }
            if (fds.getShort(6) != 0) {
                drainWakeups();
            }
            for (int i = 0; i < order.size(); i++) {
                if (fds.getShort((long) (i + 1) * POLLFD_SIZE + 6) != 0) {
                    dispatch(order.get(i));
                }
            }
        }
    }

    private static void put(Pointer fds, int index, int fd) {
        long off = (long) index * POLLFD_SIZE;
        fds.putInt(off, fd);
        fds.putShort(off + 4, Libc.POLLIN);
        fds.putShort(off + 6, (short) 0);
    }

    private void dispatch(int fd) {
        Reader r = readers.get(fd);
        if (r == null) {
            return;
        }
        boolean more;
        try {
            more = r.onReadable(buffer);
        } catch (RuntimeException e) {
            log.error("fd {}: reader failed; no longer watched", fd, e);
            more = false;
        }
        if (!more) {
            readers.remove(fd);
            closeQuietly(r);
        }
    }

    private void drainWakeups() {
        byte[] sink = new byte[256];
        while (Libc.api().read(wakeRead, sink, sink.length) > 0) {
            // the tasks themselves are in the queue
        }
        // cleared only once the pipe is empty, before the tasks run: a task added before this is run next, one
        // added after writes a fresh byte (cleared first, a byte written meanwhile would be read with no flag left)
        wakePending.set(false);
    }

    private void runTasks() {
        Runnable t;
        while ((t = tasks.poll()) != null) {
            try {
                t.run();
            } catch (RuntimeException e) {
                log.error("fd poller task failed", e);
            }
        }
    }

    private static void closeQuietly(Reader r) {
        try {
            r.onClose();
        } catch (RuntimeException e) {
            log.error("fd reader close failed", e);
        }
    }
}
