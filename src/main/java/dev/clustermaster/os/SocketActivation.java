package dev.clustermaster.os;

import dev.clustermaster.os.ListenSockets.Listener;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jnr.ffi.byref.IntByReference;

/**
 * systemd socket activation for the master (the sd_listen_fds protocol): when LISTEN_PID is our pid, the
 * LISTEN_FDS sockets at fds 3.. are ours, named by LISTEN_FDNAMES. They are marked FD_CLOEXEC like the sockets
 * {@link ListenSockets} binds, because they too reach workers only through the spawner's fd map.
 *
 * <p>The variables describe the master, not its workers: pass {@link #withoutActivationEnv} to a worker and
 * set LISTEN_FDS/LISTEN_FDNAMES afresh for the fds it really gets (LISTEN_PID must be the worker's own pid).
 */
public final class SocketActivation {

    public static final int FIRST_FD = 3;
    public static final String LISTEN_PID = "LISTEN_PID";
    public static final String LISTEN_FDS = "LISTEN_FDS";
    public static final String LISTEN_FDNAMES = "LISTEN_FDNAMES";
    private static final Set<String> VARIABLES = Set.of(LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES);

    /** One passed fd, before looking at the socket itself. */
    public record Passed(String name, int fd) {
    }

    private SocketActivation() {
    }

    /**
     * The fds systemd passed to process {@code pid}, from the environment alone: empty unless LISTEN_PID equals
     * {@code pid} and LISTEN_FDS is a positive number. Missing or mismatching names become "unknown", as in systemd.
     *
     * @throws IllegalArgumentException when LISTEN_FDS is not a number, or LISTEN_PID is garbage
     */
    public static List<Passed> passed(Map<String, String> env, long pid) {
        String listenPid = env.get(LISTEN_PID);
        String listenFds = env.get(LISTEN_FDS);
        if (listenPid == null || listenFds == null) {
            return List.of();
        }
        long forPid;
        int count;
        try {
            forPid = Long.parseLong(listenPid.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LISTEN_PID is not a pid: '" + listenPid + "'");
        }
        if (forPid != pid) {
            return List.of();
        }
        try {
            count = Integer.parseInt(listenFds.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LISTEN_FDS is not a number: '" + listenFds + "'");
        }
        if (count < 0 || count > 4096) {
            throw new IllegalArgumentException("LISTEN_FDS out of range: " + count);
        }
        String namesText = env.get(LISTEN_FDNAMES);
        String[] names = namesText == null || namesText.isEmpty() ? new String[0] : namesText.split(":", -1);
        boolean useNames = names.length == count;
        List<Passed> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String name = useNames && !names[i].isEmpty() ? names[i] : "unknown";
            out.add(new Passed(name, FIRST_FD + i));
        }
        return out;
    }

    /**
     * The listening sockets passed to this process, checked (each fd must be a listening stream socket) and
     * marked FD_CLOEXEC; {@link Listener#spec()} is what the socket is bound to, from getsockname.
     */
    public static List<Listener> inherit(Map<String, String> env, long pid) throws IOException {
        return adopt(passed(env, pid));
    }

    /** Checks each passed fd (a listening stream socket, else IOException), marks it FD_CLOEXEC and describes it. */
    public static List<Listener> adopt(List<Passed> passed) throws IOException {
        List<Listener> out = new ArrayList<>();
        for (Passed p : passed) {
            requireListening(p);
            if (!Libc.setCloexec(p.fd)) {
                throw new IOException("socket activation: cannot set FD_CLOEXEC on fd " + p.fd + " (" + p.name + ")");
            }
            out.add(new Listener(p.name, ListenSockets.describe(p.fd), p.fd));
        }
        return out;
    }

    /** A copy of {@code env} without LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES. */
    public static Map<String, String> withoutActivationEnv(Map<String, String> env) {
        Map<String, String> copy = new LinkedHashMap<>(env);
        copy.keySet().removeAll(VARIABLES);
        return copy;
    }

    private static void requireListening(Passed p) throws IOException {
        if (intOption(p, Libc.SO_TYPE) != Libc.SOCK_STREAM) {
            throw new IOException("socket activation: fd " + p.fd + " (" + p.name + ") is not a stream socket;"
                    + " only ListenStream= sockets can be shared with workers");
        }
        if (intOption(p, Libc.SO_ACCEPTCONN) == 0) {
            throw new IOException("socket activation: fd " + p.fd + " (" + p.name + ") is not listening"
                    + " (Accept=yes sockets are not supported)");
        }
    }

    private static int intOption(Passed p, int option) throws IOException {
        byte[] value = new byte[4];
        IntByReference length = new IntByReference(4);
        if (Libc.api().getsockopt(p.fd, Libc.SOL_SOCKET, option, value, length) != 0) {
            int e = Libc.errno();
            throw new IOException("socket activation: fd " + p.fd + " (" + p.name + ") is not a usable socket: "
                    + Libc.strerror(e));
        }
        return ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt();
    }

}
