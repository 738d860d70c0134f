package dev.clustermaster.os;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * An anonymous pipe, both ends close-on-exec so they only reach a child through the spawn fd map.
 * Typical use: map child fd 1 and 2 to writeFd(), spawn, closeWriteEnd(), LinePump.start(detachReadFd(), ...).
 */
public final class Pipe implements Closeable {
    private int readFd;
    private int writeFd;

    private Pipe(int readFd, int writeFd) {
        this.readFd = readFd;
        this.writeFd = writeFd;
    }

    public static Pipe open() throws IOException {
        int[] fds = new int[2];
        if (Libc.api().pipe2(fds, Libc.O_CLOEXEC) != 0) {
            int e = Libc.errno();
            throw new IOException("pipe2: " + Libc.strerror(e));
        }
        return new Pipe(fds[0], fds[1]);
    }

    public synchronized int readFd() {
        if (readFd < 0) {
            throw new IllegalStateException("read end closed or detached");
        }
        return readFd;
    }

    public synchronized int writeFd() {
        if (writeFd < 0) {
            throw new IllegalStateException("write end closed");
        }
        return writeFd;
    }

    /**
     * Hands the read end over (e.g. to LinePump, which closes it at EOF); close() will then leave it alone,
     * so it is never closed twice (a second close could hit an unrelated, reused fd number).
     */
    public synchronized int detachReadFd() {
        int fd = readFd();
        readFd = -1;
        return fd;
    }

    /** Close the master's copy of the write end right after spawning, or the reader never sees EOF. */
    public synchronized void closeWriteEnd() {
        Libc.closeQuietly(writeFd);
        writeFd = -1;
    }

    /** Closes our copy of the read end once a child got it. */
    public synchronized void closeReadEnd() {
        Libc.closeQuietly(readFd);
        readFd = -1;
    }

    /** Blocks until the pipe whose read end is {@code fd} reaches EOF (every writer closed it), then closes fd. */
    public static void awaitEof(int fd) {
        readToEof(fd, 0);
    }

    /**
     * Blocks until EOF on the read end {@code fd} (every writer closed it), then closes fd.
     * @return what was read, up to {@code max} bytes as UTF-8 (the rest is read and dropped)
     */
    public static String readToEof(int fd, int max) {
        byte[] buf = new byte[64];
        java.io.ByteArrayOutputStream kept = new java.io.ByteArrayOutputStream();
        try {
            while (true) {
                long n = Libc.api().read(fd, buf, buf.length);
                if (n == 0 || (n < 0 && Libc.errno() != Libc.EINTR)) {
                    return kept.toString(StandardCharsets.UTF_8);
                }
                if (n > 0) {
                    kept.write(buf, 0, (int) Math.min(n, Math.max(0, max - kept.size())));
                }
            }
        } finally {
            Libc.closeQuietly(fd);
        }
    }

    /** Closes whatever ends are still owned; idempotent. */
    @Override
    public synchronized void close() {
        closeWriteEnd();
        Libc.closeQuietly(readFd);
        readFd = -1;
    }
}
