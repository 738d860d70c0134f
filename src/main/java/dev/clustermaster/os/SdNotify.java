package dev.clustermaster.os;

import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The sd_notify protocol: one datagram of "KEY=VALUE" lines to $NOTIFY_SOCKET. */
public final class SdNotify {
    private static final Logger log = LoggerFactory.getLogger(SdNotify.class);
    private static final SdNotify DISABLED = new SdNotify(null);

    private volatile String socket;
    /** Non-null only for a {@link #handover} notifier: fd-store messages to replay, and the last state sent. */
    private final List<Object[]> storeLog;
    private String lastState;

    private SdNotify(String socket) {
        this(socket, false);
    }

    private SdNotify(String socket, boolean recording) {
        this.socket = socket;
        this.storeLog = recording ? new ArrayList<>() : null;
    }

    /**
     * For a master started by an upgrade: it talks to the old master at {@code oldMaster} until {@link #redirect}
     * points it at systemd, which then gets the fd-store messages and the last state again.
     */
    public static SdNotify handover(String oldMaster) {
        return new SdNotify(oldMaster, true);
    }

    /**
     * Sends everything from now on to {@code newSocket} (null or empty: nowhere); a {@link #handover} notifier
     * first replays its FDSTORE/FDSTOREREMOVE messages and its last state there.
     */
    public synchronized void redirect(String newSocket) {
        socket = newSocket == null || newSocket.isEmpty() ? null : newSocket;
        if (storeLog != null) {
            List<Object[]> replay = List.copyOf(storeLog);
            storeLog.clear();
            for (Object[] m : replay) {
                sendWithFds((String) m[0], (int[]) m[1]);
            }
            if (lastState != null) {
                send(lastState);
            }
        }
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
        return sendWithFds(state, new int[0]);
    }

    /**
     * Sends {@code state} with {@code fds} attached (SCM_RIGHTS), as sd_pid_notify_with_fds does; the receiver gets
     * duplicates, ours stay open. Never throws; false when disabled or sending failed.
     */
    public synchronized boolean sendWithFds(String state, int[] fds) {
        String socket = this.socket;
        if (storeLog != null) {
            if (state.startsWith("FDSTORE")) {
                storeLog.add(new Object[] {state, fds.clone()});
            } else if (!state.startsWith("WATCHDOG")) {
                lastState = state;
            }
        }
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
            long n = fds.length == 0
                    ? Libc.api().sendto(fd, bytes, bytes.length, Libc.MSG_NOSIGNAL, addr.pointer, addr.length)
                    : ScmRights.send(fd, bytes, fds, addr);
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

    /**
     * Hands {@code fds} to systemd's file descriptor store under {@code name} (FDSTORE=1, FDNAME=); systemd keeps
     * them while the unit runs or restarts and passes them back in LISTEN_FDS. Needs FileDescriptorStoreMax= > 0.
     */
    public boolean storeFds(String name, int... fds) {
        return sendWithFds("FDSTORE=1\nFDNAME=" + requireFdName(name), fds);
    }

    /** Drops every fd stored under {@code name} from systemd's fd store (FDSTOREREMOVE=1). */
    public boolean removeStoredFds(String name) {
        return send("FDSTOREREMOVE=1\nFDNAME=" + requireFdName(name));
    }

    /** systemd's rule for FDNAME= (fdname_is_valid): 1-255 printable ASCII characters, no ':'. */
    public static boolean isValidFdName(String name) {
        return name != null && !name.isEmpty() && name.length() <= 255
                && name.chars().allMatch(c -> c >= ' ' && c < 127 && c != ':');
    }

    private static String requireFdName(String name) {
        if (!isValidFdName(name)) {
            throw new IllegalArgumentException("not a valid fd name (1-255 printable ASCII characters, no ':'): '" + name + "'");
        }
        return name;
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
