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
 * callback on the process's {@link FdPoller} thread. Because each worker gets its own socket, the socket
 * identifies the sender.
 */
public final class NotifyListener implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(NotifyListener.class);
    /** Datagrams above this are dropped (systemd accepts more, but our workers only send short states). */
    public static final int MAX_DATAGRAM = 4096;
    /** Datagrams read per wake-up before others get their turn. */
    private static final int BATCH = 32;

    private final Path path;
    private final int fd;
    private final FdPoller poller;
    private Receiver receiver;
    private volatile boolean closed;

    private NotifyListener(Path path, int fd, FdPoller poller) {
        this.path = path;
        this.fd = fd;
        this.poller = poller;
    }

    /**
     * Binds at path (a stale socket file there is removed first) with mode 0600: the owner, i.e. workers running
     * as the master's user, may send. onMessage gets every key=value of a message (READY, STATUS, WATCHDOG, ...)
     * on the poller thread: it must only hand off.
     */
    public static NotifyListener bind(Path path, Consumer<Map<String, String>> onMessage) throws IOException {
        return bind(path, FdPoller.shared(), onMessage);
    }

    public static NotifyListener bind(Path path, FdPoller poller, Consumer<Map<String, String>> onMessage) throws IOException {
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
        } catch (IOException | RuntimeException e) {
            Libc.closeQuietly(fd);
            Files.deleteIfExists(abs);
            throw e;
        }
        NotifyListener l = new NotifyListener(abs, fd, poller);
        l.receiver = l.new Receiver(onMessage);
        poller.watch(fd, l.receiver);
        return l;
    }

    public Path path() {
        return path;
    }

    /** Reads what is queued on the socket without blocking; only the poller closes fd, so recv never sees a reused number. */
    private final class Receiver implements FdPoller.Reader {
        private final Consumer<Map<String, String>> onMessage;

        Receiver(Consumer<Map<String, String>> onMessage) {
            this.onMessage = onMessage;
        }

        @Override
        public boolean onReadable(byte[] buf) {
            for (int i = 0; i < BATCH && !closed; i++) {
                // one spare byte tells an oversized datagram apart
                long n = Libc.api().recv(fd, buf, MAX_DATAGRAM + 1, Libc.MSG_DONTWAIT);
                if (n < 0) {
                    int e = Libc.errno();
                    if (e == Libc.EAGAIN || e == Libc.EINTR) {
                        return true;
                    }
                    log.warn("notify socket {}: recv: {}", path, Libc.strerror(e));
                    return false;
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
            return true;  // only unwatch (close) or an error ends watching
        }

        @Override
        public void onClose() {
            Libc.closeQuietly(fd);
        }
    }

    /** Unlinks the path at once; the poller closes the socket. Idempotent, never blocks. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        poller.unwatch(fd, receiver);
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("cannot unlink notify socket {}: {}", path, e.getMessage());
        }
    }
}
