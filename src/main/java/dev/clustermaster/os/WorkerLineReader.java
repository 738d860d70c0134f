package dev.clustermaster.os;

import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * The poller side of a worker IPC channel, shared by {@link WorkerChannel} and {@link WorkerPipes}: reads without
 * blocking, splits lines (at most {@link WorkerChannel#MAX_LINE} bytes), and at the end releases the channel's fds
 * and runs onEof once. Subclasses say how to read and what to release.
 */
abstract class WorkerLineReader implements FdPoller.Reader {
    private final Logger log;
    private final String name;
    private final String readCall;
    private final Runnable onEof;
    private final LineSplitter lines;

    WorkerLineReader(Logger log, String name, String readCall, Consumer<String> onLine, Runnable onEof) {
        this.log = log;
        this.name = name;
        this.readCall = readCall;
        this.onEof = onEof;
        this.lines = new LineSplitter(WorkerChannel.MAX_LINE, line -> {
            try {
                onLine.accept(line);
            } catch (RuntimeException e) {
                log.error("{}: line consumer failed", name, e);
            }
        });
    }

    /** One non-blocking read into buf: bytes read, 0 at EOF, or -1 with errno set. */
    abstract long read(byte[] buf);

    /** Closes what the reader owns; runs on the poller thread before onEof. */
    abstract void release();

    @Override
    public final boolean onReadable(byte[] buf) {
        while (true) {
            long n = read(buf);
            if (n > 0) {
                if (!lines.feed(buf, 0, (int) n, false)) {
                    log.warn("{}: worker sent a line over {} bytes; closing the channel", name, WorkerChannel.MAX_LINE);
                    return false;
                }
                if (n < buf.length) {
                    return true;  // drained; more wakes the poller again
                }
            } else if (n == 0) {
                return false;
            } else {
                int e = Libc.errno();
                if (e == Libc.EAGAIN) {
                    return true;
                }
                if (e != Libc.EINTR) {
                    log.debug("{}: {}: {}", name, readCall, Libc.strerror(e));
                    return false;
                }
            }
        }
    }

    @Override
    public final void onClose() {
        release();
        try {
            onEof.run();
        } catch (RuntimeException e) {
            log.error("{}: EOF callback failed", name, e);
        }
    }
}
