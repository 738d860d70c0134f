package dev.clustermaster.os;

import java.io.Closeable;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A per-worker sd_notify endpoint: a bound AF_UNIX datagram socket whose messages are parsed and handed to a
 * callback on a daemon thread. Because each worker gets its own socket, the socket identifies the sender.
 */
public final class NotifyListener implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(NotifyListener.class);
    /** Datagrams above this are dropped (systemd accepts more, but our workers only send short states). */
    public static final int MAX_DATAGRAM = 4096;
    /** recv timeout: how quickly the thread notices close(). */
    private static final long POLL_MILLIS = 200;

    private final Path path;
    private final int fd;
    private final Thread thread;
    private volatile boolean closed;

    private NotifyListener(Path path, int fd, Consumer<Map<String, String>> onMessage) {
        this.path = path;
        this.fd = fd;
        this.thread = new Thread(() -> receiveLoop(onMessage), "notify-" + path.getFileName());
        this.thread.setDaemon(true);
    }

    /**
     * Binds at path (a stale socket file there is removed first) with mode 0600: the owner, i.e. workers running
     * as the master's user, may send.
     */
    public static NotifyListener bind(Path path, Consumer<Map<String, String>> onMessage) throws IOException {
        Path abs = path.toAbsolutePath();
        UnixAddress addr;
        try {
            addr = UnixAddress.of(abs.toString());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        Files.deleteIfExists(abs);
        int fd = Libc.api().socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("socket(AF_UNIX, SOCK_DGRAM): " + Libc.strerror(Libc.errno()));
        }
        try {
            if (Libc.api().bind(fd, addr.pointer, addr.length) != 0) {
                throw new IOException("bind " + abs + ": " + Libc.strerror(Libc.errno()));
            }
            Reference.reachabilityFence(addr);
            Files.setPosixFilePermissions(abs, PosixFilePermissions.fromString("rw-------"));
            Libc.setSocketTimeout(fd, Libc.SO_RCVTIMEO, POLL_MILLIS);
        } catch (IOException | RuntimeException e) {
            Libc.closeQuietly(fd);
            Files.deleteIfExists(abs);
            throw e;
        }
        NotifyListener l = new NotifyListener(abs, fd, onMessage);
        l.thread.start();
        return l;
    }

    public Path path() {
        return path;
    }

    private void receiveLoop(Consumer<Map<String, String>> onMessage) {
        byte[] buf = new byte[MAX_DATAGRAM + 1];  // one spare byte tells an oversized datagram apart
        try {
            while (!closed) {
                long n = Libc.api().recv(fd, buf, buf.length, 0);
                if (n < 0) {
                    int e = Libc.errno();
                    if (e == Libc.EAGAIN || e == Libc.EINTR) {
                        continue;  // timeout: re-check closed
                    }
                    if (!closed) {
                        log.warn("notify socket {}: recv: {}", path, Libc.strerror(e));
                    }
                    return;
                }
                if (n > MAX_DATAGRAM) {
                    log.warn("notify socket {}: dropped a datagram over {} bytes", path, MAX_DATAGRAM);
                    continue;
                }
                Map<String, String> msg = SdNotify.parse(new String(buf, 0, (int) n, StandardCharsets.UTF_8));
                if (msg.isEmpty()) {
                    continue;
                }
                try {
                    onMessage.accept(msg);
                } catch (RuntimeException e) {
                    log.error("notify socket {}: message consumer failed", path, e);
                }
            }
        } finally {
            Libc.closeQuietly(fd);  // only this thread closes fd, so recv never runs on a reused number
        }
    }

    /** Unlinks the path at once; the thread stops and closes the socket within ~200 ms. Idempotent, never blocks. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        // no join: the receiver sees the flag within one poll and closes the fd itself; the caller is the master's
        // event loop, which must not wait on every worker exit
        closed = true;
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("cannot unlink notify socket {}: {}", path, e.getMessage());
        }
    }
}
