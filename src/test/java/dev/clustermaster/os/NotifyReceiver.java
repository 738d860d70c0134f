package dev.clustermaster.os;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Plays systemd's side of sd_notify in tests: a bound AF_UNIX datagram socket whose messages keep their fds. */
public final class NotifyReceiver implements AutoCloseable {
    /** One datagram: its KEY=VALUE fields and the fds that came with it (now open in this JVM). */
    public record Message(Map<String, String> fields, int[] fds) {
        public String get(String key) {
            return fields.get(key);
        }
    }

    private final Path path;
    private final int fd;
    private final List<Message> seen = new ArrayList<>();

    private NotifyReceiver(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    public static NotifyReceiver bind(Path path) throws IOException {
        int fd = Libc.api().socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        UnixAddress addr = UnixAddress.of(path.toAbsolutePath().toString());
        if (fd < 0 || Libc.api().bind(fd, addr.pointer, addr.length) != 0) {
            int e = Libc.errno();
            Libc.closeQuietly(fd);
            throw new IOException("bind " + path + ": " + Libc.strerror(e));
        }
        Reference.reachabilityFence(addr);
        Libc.setSocketTimeout(fd, Libc.SO_RCVTIMEO, 200);
        return new NotifyReceiver(path.toAbsolutePath(), fd);
    }

    public String path() {
        return path.toString();
    }

    /** Every message received so far, in order. */
    public List<Message> seen() {
        return List.copyOf(seen);
    }

    /** Receives until a message satisfying {@code wanted} arrives (earlier ones stay in {@link #seen}). */
    public Message await(String what, Duration timeout, Predicate<Message> wanted) throws IOException {
        for (Message m : seen) {
            if (wanted.test(m)) {
                return m;
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            ScmRights.Received r;
            try {
                r = ScmRights.receive(fd, 4096, 64);
            } catch (IOException e) {
                if (String.valueOf(e.getMessage()).contains("Resource temporarily unavailable")) {
                    continue;  // SO_RCVTIMEO
                }
                throw e;
            }
            Message m = new Message(SdNotify.parse(new String(r.data(), StandardCharsets.UTF_8)), r.fds());
            seen.add(m);
            if (wanted.test(m)) {
                return m;
            }
        }
        throw new AssertionError("no notify message " + what + " within " + timeout + "; got " + seen.stream()
                .map(m -> m.fields() + (m.fds().length > 0 ? " +" + m.fds().length + " fds" : "")).toList());
    }

    /** Closes the socket and every fd received. */
    @Override
    public void close() {
        for (Message m : seen) {
            for (int f : m.fds()) {
                Libc.closeQuietly(f);
            }
        }
        Libc.closeQuietly(fd);
        path.toFile().delete();
    }
}
