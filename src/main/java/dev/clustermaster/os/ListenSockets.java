package dev.clustermaster.os;

import jnr.ffi.byref.IntByReference;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The listening sockets the master binds once and keeps for its whole life, so that workers come and go
 * (rolling restarts) while the kernel queues new connections on the same socket.
 *
 * <p>Specs: {@code tcp://127.0.0.1:8080}, {@code tcp://[::1]:8080}, {@code tcp://:8080} (every address, dual stack),
 * {@code tcp://localhost:8080} (first resolved address), {@code unix:/run/app/http.sock}, {@code unix:@name}
 * (abstract), each optionally prefixed with a name for LISTEN_FDNAMES: {@code http=tcp://:8080}.
 * Port 0 lets the kernel choose; the returned spec then names the real port.
 *
 * <p>Sockets are made with raw libc calls (socket, setsockopt SO_REUSEADDR, bind, listen with backlog 1024) so the
 * master owns a plain fd number to hand to every worker. They are blocking and FD_CLOEXEC: they reach a worker
 * only through the spawner's explicit fd map.
 *
 * <p>SO_REUSEPORT mode is the alternative where the master binds nothing: {@link #reusePortEnv} tells each worker
 * what to bind itself (with SO_REUSEPORT); the kernel then spreads connections over the workers' own sockets.
 */
public final class ListenSockets {

    /** A bound listening socket; {@code spec} is canonical ({@code tcp://ADDR:PORT} or {@code unix:PATH}). */
    public record Listener(String name, String spec, int fd) {
    }

    /**
     * A parsed spec. {@code host} is empty for every address; {@code path} is set for unix sockets only
     * ("@name" for the abstract namespace).
     */
    public record Spec(String name, String scheme, String host, int port, String path) {
        public boolean isTcp() {
            return scheme.equals("tcp");
        }

        /** The spec as written back, e.g. {@code tcp://[::1]:8080}; the name is not part of it. */
        public String address() {
            if (!isTcp()) {
                return "unix:" + path;
            }
            String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            return "tcp://" + h + ":" + port;
        }
    }

    public static final int BACKLOG = 1024;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,255}");
    private static final int SUN_PATH_MAX = 108;

    private ListenSockets() {
    }

    // ---- parsing ------------------------------------------------------------------------------------------------

    /** Parses one spec; IllegalArgumentException with the reason and the accepted forms. */
    public static Spec parse(String text) {
        String spec = text.trim();
        String name = "";
        int eq = spec.indexOf('=');
        int scheme = spec.indexOf(':');
        if (eq > 0 && (scheme < 0 || eq < scheme)) {
            name = spec.substring(0, eq);
            spec = spec.substring(eq + 1);
            if (!NAME.matcher(name).matches()) {
                throw bad(text, "a listener name may hold only letters, digits, '_', '.', '-'");
            }
        }
        String lower = spec.toLowerCase(Locale.ROOT);
        Spec parsed;
        if (lower.startsWith("tcp://")) {
            parsed = parseTcp(text, spec.substring("tcp://".length()));
        } else if (lower.startsWith("unix:")) {
            String path = spec.substring("unix:".length());
            if (path.startsWith("//")) {
                path = path.substring(2);
            }
            parsed = parseUnix(text, path);
        } else {
            throw bad(text, "expected tcp://HOST:PORT, tcp://[IPV6]:PORT, tcp://:PORT or unix:/PATH");
        }
        return new Spec(name.isEmpty() ? defaultName(parsed) : name, parsed.scheme, parsed.host, parsed.port, parsed.path);
    }

    private static Spec parseTcp(String text, String rest) {
        String host;
        String port;
        if (rest.startsWith("[")) {
            int close = rest.indexOf(']');
            if (close < 0 || close + 1 >= rest.length() || rest.charAt(close + 1) != ':') {
                throw bad(text, "an IPv6 address is written [ADDR]:PORT");
            }
            host = rest.substring(1, close);
            port = rest.substring(close + 2);
            if (host.isEmpty()) {
                throw bad(text, "empty IPv6 address");
            }
        } else {
            int colon = rest.lastIndexOf(':');
            if (colon < 0) {
                throw bad(text, "missing :PORT");
            }
            host = rest.substring(0, colon);
            port = rest.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw bad(text, "an IPv6 address needs brackets: tcp://[" + host + "]:" + port);
            }
            if (host.equals("*")) {
                host = "";
            }
        }
        if (host.indexOf('/') >= 0) {
            throw bad(text, "no path after the port");
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw bad(text, "port is not a number: '" + port + "'");
        }
        if (p < 0 || p > 65535) {
            throw bad(text, "port out of range 0-65535: " + p);
        }
        return new Spec("", "tcp", host, p, "");
    }

    private static Spec parseUnix(String text, String path) {
        boolean isAbstract = path.startsWith("@");
        int bytes = path.getBytes(StandardCharsets.UTF_8).length;
        if (path.isEmpty() || (isAbstract && bytes == 1)) {
            throw bad(text, "empty socket path");
        }
        if (bytes + (isAbstract ? 0 : 1) > SUN_PATH_MAX) {
            throw bad(text, "socket path longer than " + (SUN_PATH_MAX - 1) + " bytes");
        }
        return new Spec("", "unix", "", 0, path);
    }

    private static String defaultName(Spec s) {
        if (s.isTcp()) {
            return "tcp-" + s.port;
        }
        String file = s.path.startsWith("@") ? s.path.substring(1) : Path.of(s.path).getFileName().toString();
        String cleaned = file.replaceAll("[^A-Za-z0-9_.\\-]", "_");
        return "unix-" + (cleaned.length() > 200 ? cleaned.substring(0, 200) : cleaned);
    }

    private static IllegalArgumentException bad(String spec, String why) {
        return new IllegalArgumentException("bad listen address '" + spec + "': " + why);
    }

    // ---- binding ------------------------------------------------------------------------------------------------

    /**
     * Parses every spec first (a typo fails before anything is bound), then binds them in order.
     * On failure the ones already bound are closed again. Names are made unique with a "-2", "-3" suffix.
     */
    public static List<Listener> bind(List<String> specs) throws IOException {
        List<Spec> parsed = parseAll(specs);
        List<Listener> bound = new ArrayList<>();
        try {
            for (Spec spec : parsed) {
                bound.add(bind(spec));
            }
        } catch (IOException | RuntimeException e) {
            close(bound);
            throw e;
        }
        return bound;
    }

    /** Parses every spec (the first bad one throws) and makes the names unique with a "-2", "-3" suffix. */
    public static List<Spec> parseAll(List<String> specs) {
        List<Spec> parsed = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String s : specs) {
            Spec spec = parse(s);
            String name = spec.name;
            for (int i = 2; !names.add(name); i++) {
                name = spec.name + "-" + i;
            }
            parsed.add(new Spec(name, spec.scheme, spec.host, spec.port, spec.path));
        }
        return parsed;
    }

    /**
     * Whether a listening socket bound to {@code bound} (as {@link #describe} gives it) is what {@code spec} asks
     * for: the same unix path (whose file must still exist as a socket: without it nobody can connect), or the same
     * tcp address and port (port 0 takes any port; no host takes the wildcard address).
     */
    public static boolean matches(Spec spec, String bound) {
        Spec actual;
        try {
            actual = parse(bound);
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (!spec.scheme.equals(actual.scheme)) {
            return false;
        }
        if (!spec.isTcp()) {
            if (!spec.path.equals(actual.path)) {
                return false;
            }
            if (spec.path.startsWith("@")) {
                return true;
            }
            try {
                return Files.readAttributes(Path.of(spec.path), BasicFileAttributes.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther();
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }
        if (spec.port != 0 && spec.port != actual.port) {
            return false;
        }
        try {
            InetAddress got = InetAddress.getByName(actual.host);
            if (spec.host.isEmpty()) {
                return got.isAnyLocalAddress();
            }
            return InetAddress.getByName(spec.host).equals(got);
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Binds one parsed spec; the IOException message reads "cannot listen on SPEC: REASON". */
    public static Listener bind(Spec spec) throws IOException {
        return spec.isTcp() ? bindTcp(spec) : bindUnix(spec);
    }

    private static Listener bindTcp(Spec spec) throws IOException {
        byte[] address;
        int family;
        boolean dualStack = spec.host.isEmpty();
        InetAddress ip = null;
        if (!dualStack) {
            try {
                ip = InetAddress.getByName(spec.host);
            } catch (UnknownHostException e) {
                throw new IOException("cannot listen on " + spec.address() + ": unknown host " + spec.host, e);
            }
        }
        family = ip instanceof Inet4Address ? Libc.AF_INET : Libc.AF_INET6;
        int fd = Libc.api().socket(family, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0 && dualStack && Libc.errno() == Libc.EAFNOSUPPORT) {
            // IPv6 disabled in this kernel: every address means every IPv4 address.
            family = Libc.AF_INET;
            fd = Libc.api().socket(family, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        }
        if (fd < 0) {
            throw failure(spec, "socket");
        }
        try {
            setIntOption(spec, fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1);
            if (family == Libc.AF_INET6 && dualStack) {
                setIntOption(spec, fd, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, 0);
            }
            address = family == Libc.AF_INET ? sockaddrIn(ip, spec.port) : sockaddrIn6(ip, spec.port);
            if (Libc.api().bind(fd, address, address.length) != 0) {
                throw failure(spec, null);
            }
            if (Libc.api().listen(fd, BACKLOG) != 0) {
                throw failure(spec, "listen");
            }
            return new Listener(spec.name, describe(fd), fd);
        } catch (IOException | RuntimeException e) {
            Libc.api().close(fd);
            throw e;
        }
    }

    private static Listener bindUnix(Spec spec) throws IOException {
        if (!spec.path.startsWith("@")) {
            removeStaleSocket(spec);
        }
        int fd = Libc.api().socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw failure(spec, "socket");
        }
        try {
            byte[] address = sockaddrUn(spec.path);
            if (Libc.api().bind(fd, address, address.length) != 0) {
                throw failure(spec, null);
            }
            if (!spec.path.startsWith("@")) {
                allowGroup(spec);
            }
            if (Libc.api().listen(fd, BACKLOG) != 0) {
                throw failure(spec, "listen");
            }
            return new Listener(spec.name, spec.address(), fd);
        } catch (IOException | RuntimeException e) {
            Libc.api().close(fd);
            throw e;
        }
    }

    /**
     * Connecting needs write permission on the socket file, which bind(2) creates with the umask's mode (0755 by
     * hand, 0750 under the units' UMask=0027): only the master's user could connect, never a proxy in front.
     * 0660 lets in the master's group as well, as the control socket does.
     */
    private static void allowGroup(Spec spec) throws IOException {
        Path path = Path.of(spec.path);
        if (!Files.readAttributes(path, BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther()) {
            throw new IOException("cannot listen on " + spec.address() + ": the path was replaced while binding");
        }
        Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw----"));
    }

    /**
     * A socket file left by a master that died can be removed; one that still answers belongs to a live server,
     * so binding fails with "Address already in use" instead of stealing its path.
     */
    private static void removeStaleSocket(Spec spec) throws IOException {
        UnixSockets.Leftover leftover;
        try {
            leftover = UnixSockets.removeStale(Path.of(spec.path));
        } catch (IOException e) {
            return; // unreadable: bind reports it
        }
        switch (leftover) {
            case NOT_A_SOCKET -> throw new IOException("cannot listen on " + spec.address() + ": the path exists and is not a socket");
            case LIVE -> throw new IOException("cannot listen on " + spec.address() + ": Address already in use (a server answers there)");
            default -> { }
        }
    }

    /** Closes the fds and removes the socket files of unix listeners: for sockets this class bound. */
    public static void close(List<Listener> listeners) {
        close(listeners, true);
    }

    /**
     * Closes the fds; removes unix socket files only if {@code removeSocketFiles} (pass false for sockets that
     * systemd passed in: their files belong to the socket unit).
     */
    public static void close(List<Listener> listeners, boolean removeSocketFiles) {
        for (Listener l : listeners) {
            Libc.api().close(l.fd);
            if (removeSocketFiles && l.spec.startsWith("unix:") && !l.spec.startsWith("unix:@")) {
                try {
                    Files.deleteIfExists(Path.of(l.spec.substring("unix:".length())));
                } catch (IOException | RuntimeException e) {
                    // Best effort: a stale file is removed by the next bind anyway.
                }
            }
        }
    }

    /**
     * Canonical spec of a listening socket fd from getsockname: {@code tcp://127.0.0.1:8080}, {@code tcp://[::]:8080},
     * {@code unix:/run/x.sock}, {@code unix:@name}.
     */
    public static String describe(int fd) throws IOException {
        byte[] address = new byte[128];
        IntByReference length = new IntByReference(address.length);
        if (Libc.api().getsockname(fd, address, length) != 0) {
            int e = Libc.errno();
            throw new IOException("getsockname(fd " + fd + "): " + Libc.strerror(e));
        }
        ByteBuffer b = ByteBuffer.wrap(address, 0, Math.min(length.intValue(), address.length)).order(ByteOrder.nativeOrder());
        int family = b.getShort(0);
        int port = ((address[2] & 0xff) << 8) | (address[3] & 0xff);
        if (family == Libc.AF_INET) {
            byte[] ip = new byte[4];
            System.arraycopy(address, 4, ip, 0, 4);
            return "tcp://" + InetAddress.getByAddress(ip).getHostAddress() + ":" + port;
        }
        if (family == Libc.AF_INET6) {
            byte[] ip = new byte[16];
            System.arraycopy(address, 8, ip, 0, 16);
            return "tcp://[" + compressIpv6(ip) + "]:" + port;
        }
        if (family == Libc.AF_UNIX) {
            int pathBytes = length.intValue() - 2;
            if (pathBytes <= 0) {
                return "unix:";
            }
            if (address[2] == 0) {
                return "unix:@" + new String(address, 3, pathBytes - 1, StandardCharsets.UTF_8);
            }
            int end = 2;
            while (end < 2 + pathBytes && address[end] != 0) {
                end++;
            }
            return "unix:" + new String(address, 2, end - 2, StandardCharsets.UTF_8);
        }
        throw new IOException("fd " + fd + " is a socket of unsupported family " + family);
    }

    /**
     * Environment for SO_REUSEPORT mode, where each worker binds the address itself: {@code PORT}, {@code HOST}
     * (absent for every address), {@code CM_LISTEN} (the spec) and {@code CM_REUSEPORT=1}. Only one tcp spec.
     */
    public static Map<String, String> reusePortEnv(List<String> specs) {
        if (specs.size() != 1) {
            throw new IllegalArgumentException("SO_REUSEPORT mode takes exactly one tcp:// address, got " + specs.size());
        }
        Spec spec = parse(specs.get(0));
        if (!spec.isTcp()) {
            throw new IllegalArgumentException("SO_REUSEPORT works for tcp:// addresses only, not " + specs.get(0));
        }
        if (spec.port == 0) {
            throw new IllegalArgumentException("SO_REUSEPORT mode needs a fixed port, not 0");
        }
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PORT", Integer.toString(spec.port));
        if (!spec.host.isEmpty()) {
            env.put("HOST", spec.host);
        }
        env.put("CM_LISTEN", spec.address());
        env.put("CM_REUSEPORT", "1");
        return env;
    }

    /** RFC 5952 text of an IPv6 address: lower-case hex, the longest run of two or more zero groups as "::". */
    static String compressIpv6(byte[] ip) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((ip[2 * i] & 0xff) << 8) | (ip[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    // ---- native helpers -----------------------------------------------------------------------------------------

    private static void setIntOption(Spec spec, int fd, int level, int option, int value) throws IOException {
        byte[] v = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
        if (Libc.api().setsockopt(fd, level, option, v, 4) != 0) {
            throw failure(spec, "setsockopt");
        }
    }

    private static IOException failure(Spec spec, String call) {
        int e = Libc.errno();
        String reason = Libc.strerror(e);
        return new IOException("cannot listen on " + spec.address() + ": " + (call == null ? reason + bindFix(spec, e) : call + ": " + reason));
    }

    /** What to do about a failed bind(2), for the errors an operator causes. */
    static String bindFix(Spec spec, int errno) {
        if (errno == Libc.EADDRINUSE) {
            return spec.isTcp() ? "; another process listens there (ss -ltnp 'sport = :" + spec.port() + "'): stop it or change listen="
                    : "; another process holds that path: stop it or change listen=";
        }
        if (errno == Libc.ENOENT && !spec.isTcp()) {
            return "; its directory does not exist: create it or change listen=";
        }
        if (errno == Libc.EADDRNOTAVAIL) {
            return "; no interface of this host has that address: fix listen=";
        }
        if (errno == Libc.EACCES) {
            return spec.isTcp() ? "; ports below 1024 need root or CAP_NET_BIND_SERVICE: grant it or change listen="
                    : "; the master may not write that directory: fix its mode or change listen=";
        }
        return "";
    }

    private static byte[] sockaddrIn(InetAddress ip, int port) {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
        b.putShort(0, (short) Libc.AF_INET);
        b.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) port);
        byte[] out = b.array();
        if (ip != null) {
            System.arraycopy(ip.getAddress(), 0, out, 4, 4);
        }
        return out;
    }

    private static byte[] sockaddrIn6(InetAddress ip, int port) {
        ByteBuffer b = ByteBuffer.allocate(28).order(ByteOrder.nativeOrder());
        b.putShort(0, (short) Libc.AF_INET6);
        b.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) port);
        if (ip instanceof Inet6Address v6) {
            b.order(ByteOrder.nativeOrder()).putInt(24, v6.getScopeId());
            byte[] out = b.array();
            System.arraycopy(v6.getAddress(), 0, out, 8, 16);
            return out;
        }
        return b.array();
    }

    static byte[] sockaddrUn(String path) {
        boolean isAbstract = path.startsWith("@");
        byte[] name = (isAbstract ? path.substring(1) : path).getBytes(StandardCharsets.UTF_8);
        // Abstract names start with NUL and are exactly as long as the length says (no terminator).
        int pathBytes = isAbstract ? 1 + name.length : name.length + 1;
        byte[] out = new byte[2 + pathBytes];
        ByteBuffer.wrap(out).order(ByteOrder.nativeOrder()).putShort(0, (short) Libc.AF_UNIX);
        System.arraycopy(name, 0, out, 2 + (isAbstract ? 1 : 0), name.length);
        return out;
    }
}
