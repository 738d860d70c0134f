package dev.clustermaster.os;

import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads a child's output fd line by line on its own daemon thread. */
public final class LinePump {
    private static final Logger log = LoggerFactory.getLogger(LinePump.class);

    /** Longer lines are delivered in pieces so a runaway child cannot make us buffer without bound. */
    public static final int MAX_LINE = 64 * 1024;

    private LinePump() {}

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
        LineSplitter lines = new LineSplitter(MAX_LINE, line -> {
            try {
                onLine.accept(line);
            } catch (RuntimeException e) {
                log.error("{}: line consumer failed", name, e);
            }
        });
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
            lines.finish();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Libc.closeQuietly(fd);
            try {
                onEof.run();
            } catch (RuntimeException e) {
                log.error("{}: EOF callback failed", name, e);
            }
        }
    }
}
