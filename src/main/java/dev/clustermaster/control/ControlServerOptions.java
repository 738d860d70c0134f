package dev.clustermaster.control;

import dev.clustermaster.os.Users;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How the control REPL listens and whom it lets in. Build with {@link #builder()}; every setting has a
 * safe default, so {@code builder().socketPath(p).build()} is a working configuration.
 */
public final class ControlServerOptions {

    private static final int DEFAULT_FILE_MODE = 0660;

    private final Path socketPath;
    private final int fileMode;
    private final String group;
    private final boolean ownGroupAdmitted;
    private final Set<Integer> allowedUids;
    private final InetSocketAddress tcpAddress;
    private final int maxConnections;
    private final int maxConnectionsPerPeer;
    private final Duration lineTimeout;
    private final int maxLineBytes;
    private final Duration idleTimeout;
    private final Duration writeTimeout;
    private final CommandTree.Timeouts commandTimeouts;
    private final String prompt;
    private final ProcessStatsSource processStats;

    private ControlServerOptions(Builder b) {
        this.socketPath = b.socketPath;
        this.fileMode = b.fileMode;
        this.group = b.group;
        this.ownGroupAdmitted = b.ownGroupAdmitted;
        this.allowedUids = b.allowedUids == null ? Set.copyOf(java.util.List.of(0, Users.ownUid())) : Set.copyOf(b.allowedUids);
        this.tcpAddress = b.tcpAddress;
        this.maxConnections = b.maxConnections;
        this.maxConnectionsPerPeer = Math.min(b.maxConnectionsPerPeer, b.maxConnections);
        this.lineTimeout = b.lineTimeout;
        this.maxLineBytes = b.maxLineBytes;
        this.idleTimeout = b.idleTimeout;
        this.writeTimeout = b.writeTimeout;
        this.commandTimeouts = b.commandTimeouts;
        this.prompt = b.prompt;
        this.processStats = b.processStats;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Optional<Path> socketPath() {
        return Optional.ofNullable(socketPath);
    }

    public int fileMode() {
        return fileMode;
    }

    public Optional<String> group() {
        return Optional.ofNullable(group);
    }

    /** Without a group: whether the master's own group is let in (default true, as the socket's file group). */
    public boolean ownGroupAdmitted() {
        return ownGroupAdmitted;
    }

    public Set<Integer> allowedUids() {
        return allowedUids;
    }

    public Optional<InetSocketAddress> tcpAddress() {
        return Optional.ofNullable(tcpAddress);
    }

    public int maxConnections() {
        return maxConnections;
    }

    public int maxLineBytes() {
        return maxLineBytes;
    }

    /** Sessions one uid (or all of TCP together) may hold. */
    public int maxConnectionsPerPeer() {
        return maxConnectionsPerPeer;
    }

    public Duration lineTimeout() {
        return lineTimeout;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    public Duration writeTimeout() {
        return writeTimeout;
    }

    public CommandTree.Timeouts commandTimeouts() {
        return commandTimeouts;
    }

    public String prompt() {
        return prompt;
    }

    public ProcessStatsSource processStats() {
        return processStats;
    }

    public static final class Builder {
        private Path socketPath;
        private int fileMode = DEFAULT_FILE_MODE;
        private String group;
        private boolean ownGroupAdmitted = true;
        private Set<Integer> allowedUids;
        private InetSocketAddress tcpAddress;
        private int maxConnections = 64;
        private int maxConnectionsPerPeer = 16;
        private Duration lineTimeout = Duration.ofSeconds(10);
        private int maxLineBytes = 64 * 1024;
        private Duration idleTimeout = Duration.ofMinutes(30);
        private Duration writeTimeout = Duration.ofSeconds(10);
        private CommandTree.Timeouts commandTimeouts = CommandTree.Timeouts.DEFAULT;
        private String prompt = "cm> ";
        private ProcessStatsSource processStats = new ProcessStats();

        private Builder() {
        }

        public Builder socketPath(Path path) {
            this.socketPath = path;
            return this;
        }

        /** Permission bits of the socket file; connecting needs write permission. Default 0660. */
        public Builder fileMode(int mode) {
            if ((mode & ~0777) != 0) {
                throw new IllegalArgumentException("file mode must be within 0777: " + Integer.toOctalString(mode));
            }
            this.fileMode = mode;
            return this;
        }

        /** Group that owns the socket and whose members may connect; null for none. */
        public Builder group(String groupName) {
            this.group = groupName == null || groupName.isBlank() ? null : groupName.strip();
            return this;
        }

        /** false: without {@link #group}, only the allowed uids get in, not the master's own group. */
        public Builder ownGroupAdmitted(boolean admitted) {
            this.ownGroupAdmitted = admitted;
            return this;
        }

        /** Uids always let in; default root and the master's own uid. */
        public Builder allowedUids(Set<Integer> uids) {
            this.allowedUids = Set.copyOf(uids);
            return this;
        }

        /** Also (or only) listen on TCP. Has no peer check, so prefer loopback; a warning is logged. */
        public Builder tcp(String address, int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("TCP port out of range: " + port);
            }
            this.tcpAddress = new InetSocketAddress(address == null || address.isBlank() ? "127.0.0.1" : address, port);
            return this;
        }

        public Builder maxConnections(int max) {
            this.maxConnections = positive(max, "maxConnections");
            return this;
        }

        /** Sessions one uid (or all TCP clients together) may hold; default 16. */
        public Builder maxConnectionsPerPeer(int max) {
            this.maxConnectionsPerPeer = positive(max, "maxConnectionsPerPeer");
            return this;
        }

        /** A line must be complete this long after its first byte, or the session is closed; default 10 s. */
        public Builder lineTimeout(Duration timeout) {
            if (timeout.isZero() || timeout.isNegative()) {
                throw new IllegalArgumentException("lineTimeout must be positive");
            }
            this.lineTimeout = timeout;
            return this;
        }

        public Builder maxLineBytes(int max) {
            this.maxLineBytes = positive(max, "maxLineBytes");
            return this;
        }

        /** Connections that run no command for this long are closed (bytes alone do not count); zero disables. */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** A client that accepts no bytes for this long is dropped. */
        public Builder writeTimeout(Duration timeout) {
            if (timeout.isZero() || timeout.isNegative()) {
                throw new IllegalArgumentException("writeTimeout must be positive");
            }
            this.writeTimeout = timeout;
            return this;
        }

        public Builder commandTimeouts(CommandTree.Timeouts timeouts) {
            this.commandTimeouts = Objects.requireNonNull(timeouts);
            return this;
        }

        public Builder prompt(String prompt) {
            this.prompt = Objects.requireNonNull(prompt);
            return this;
        }

        public Builder processStats(ProcessStatsSource source) {
            this.processStats = Objects.requireNonNull(source);
            return this;
        }

        public ControlServerOptions build() {
            if (socketPath == null && tcpAddress == null) {
                throw new IllegalStateException("control server needs a socket path or a TCP address");
            }
            return new ControlServerOptions(this);
        }

        private static int positive(int value, String name) {
            if (value <= 0) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return value;
        }
    }
}
