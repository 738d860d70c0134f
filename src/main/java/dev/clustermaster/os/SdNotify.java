package dev.clustermaster.os;

import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The sd_notify protocol: one datagram of "KEY=VALUE" lines to $NOTIFY_SOCKET. */
public final class SdNotify {
    private static final Logger log = LoggerFactory.getLogger(SdNotify.class);
    private static final SdNotify DISABLED = new SdNotify(null);

    private final String socket;

    private SdNotify(String socket) {
        this.socket = socket;
    }

    /**
     * From $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace); disabled when unset or empty.
     * The variable stays set in our environment: pass workers their own NOTIFY_SOCKET (or drop it) explicitly.
     */
    public static SdNotify fromEnvironment() {
        return to(System.getenv("NOTIFY_SOCKET"));
    }

    /** For tests and for callers that know the socket; null or empty gives a disabled notifier. */
    public static SdNotify to(String socket) {
        return socket == null || socket.isEmpty() ? DISABLED : new SdNotify(socket);
    }

    public boolean enabled() {
        return socket != null;
    }

    /** Sends e.g. "READY=1\nSTATUS=4/4 ready"; never throws; false when disabled or sending failed. */
    public boolean send(String state) {
        if (socket == null) {
            return false;
        }
        int fd = -1;
        try {
            UnixAddress addr = UnixAddress.of(socket);
            fd = Libc.api().socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                log.debug("sd_notify: socket: {}", Libc.strerror(Libc.errno()));
                return false;
            }
            byte[] bytes = state.getBytes(StandardCharsets.UTF_8);
            long n = Libc.api().sendto(fd, bytes, bytes.length, Libc.MSG_NOSIGNAL, addr.pointer, addr.length);
            int err = Libc.errno();
            Reference.reachabilityFence(addr);
            if (n != bytes.length) {
                log.debug("sd_notify to {} failed: {}", socket, n < 0 ? Libc.strerror(err) : "short send");
                return false;
            }
            return true;
        } catch (RuntimeException | LinkageError e) {
            log.debug("sd_notify to {} failed", socket, e);
            return false;
        } finally {
            Libc.closeQuietly(fd);
        }
    }

    /** "READY=1\nSTATUS=x" -> {READY=1, STATUS=x}; lines without '=' or with an empty key are skipped. */
    public static Map<String, String> parse(String datagram) {
        Map<String, String> out = new LinkedHashMap<>();
        if (datagram == null) {
            return out;
        }
        for (String line : datagram.split("\n")) {
            int eq = line.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            out.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return Collections.unmodifiableMap(out);
    }

    @Override
    public String toString() {
        return socket == null ? "SdNotify(disabled)" : "SdNotify(" + socket + ")";
    }
}
