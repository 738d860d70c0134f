package dev.clustermaster.os;

import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads a child's output fd line by line: on the process's {@link FdPoller} thread, or on a thread of its own. */
public final class LinePump {
    private static final Logger log = LoggerFactory.getLogger(LinePump.class);

    /** Longer lines are delivered in pieces so a runaway child cannot make us buffer without bound. */
    public static final int MAX_LINE = 64 * 1024;

    private LinePump() {}

    /**
     * Reads fd on the poller thread until EOF, calling onLine per line (without LF; overlong lines cut into 64 KiB
     * pieces; invalid UTF-8 replaced), then onEof, then closes fd. The poller owns fd from now on (and makes it
     * non-blocking); onLine runs on the poller thread, so it must be quick.
     */
    public static void watch(int fd, String name, Consumer<String> onLine, Runnable onEof) {
        int flags = Libc.api().fcntl(fd, Libc.F_GETFL, 0);
        if (flags < 0 || Libc.api().fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK) != 0) {
            log.warn("{}: cannot make fd {} non-blocking ({}); reading it on a thread of its own", name, fd,
                    Libc.strerror(Libc.errno()));
            start(fd, name, onLine, onEof);
            return;
        }
        LineSplitter lines = splitter(name, onLine);
        FdPoller.shared().watch(fd, new FdPoller.Reader() {
            @Override
            public boolean onReadable(byte[] buf) {
                long n = Libc.api().read(fd, buf, buf.length);
                if (n > 0) {
                    lines.feed(buf, 0, (int) n, true);
                    return true;
                }
                int e = n < 0 ? Libc.errno() : 0;
                if (n < 0 && (e == Libc.EAGAIN || e == Libc.EINTR)) {
                    return true;
                }
                if (n < 0) {
                    log.warn("{}: read(fd {}): {}", name, fd, Libc.strerror(e));
                }
                return false;
            }

            @Override
            public void onClose() {
                end(lines, fd, name, onEof);
            }
        });
    }

    /** The last unterminated line, then the fd closed, then onEof: whatever the line consumer threw. */
    private static void end(LineSplitter lines, int fd, String name, Runnable onEof) {
        try {
            lines.finish();
        } finally {
            Libc.closeQuietly(fd);
            try {
                onEof.run();
            } catch (RuntimeException e) {
                log.error("{}: EOF callback failed", name, e);
            }
        }
    }

    private static LineSplitter splitter(String name, Consumer<String> onLine) {
        return new LineSplitter(MAX_LINE, line -> {
            try {
                onLine.accept(line);
            } catch (RuntimeException e) {
                log.error("{}: line consumer failed", name, e);
            }
        });
    }

    /**
     * Starts a daemon thread that reads fd until EOF, calling onLine per line (without LF; overlong lines cut into
     * 64 KiB pieces; invalid UTF-8 replaced), then onEof, then closes fd. The thread owns fd from now on.
     */
    public static Thread start(int fd, String threadName, Consumer<String> onLine, Runnable onEof) {
        Thread t = new Thread(() -> pump(fd, threadName, onLine, onEof), threadName);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void pump(int fd, String name, Consumer<String> onLine, Runnable onEof) {
        LineSplitter lines = splitter(name, onLine);
        byte[] buf = new byte[16 * 1024];
        try {
            while (true) {
                long n = Libc.api().read(fd, buf, buf.length);
                if (n > 0) {
                    lines.feed(buf, 0, (int) n, true);
                } else if (n == 0) {
                    break;
                } else {
                    int e = Libc.errno();
                    if (e == Libc.EINTR) {
                        continue;
                    }
                    if (e == Libc.EAGAIN) {  // someone handed us a non-blocking fd: poll gently
                        Thread.sleep(10);
                        continue;
                    }
                    log.warn("{}: read(fd {}): {}", name, fd, Libc.strerror(e));
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            end(lines, fd, name, onEof);
        }
    }
}
