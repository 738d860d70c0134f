package dev.clustermaster.os;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import jnr.unixsocket.Credentials;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import jnr.unixsocket.UnixSocketOptions;

/**
 * Blocking unix stream sockets with what the JDK's lack: the peer's pid, uid and gid (SO_PEERCRED) and kernel
 * send/receive timeouts. Every descriptor is close-on-exec, so no worker inherits a control connection.
 */
public final class UnixSockets {
    private UnixSockets() {
    }

    /** Who is at the other end, as the kernel saw it at connect time. */
    public record PeerCredentials(int pid, int uid, int gid) {
    }

    /** What was at a socket path before a bind; only {@link #STALE} is removed. */
    public enum Leftover { NONE, STALE, NOT_A_SOCKET, LIVE }

    /**
     * Clears the way for a bind: a socket file nobody answers on (its server died) is deleted; a file that is no
     * socket, or a socket a live server answers on, is left alone for the caller to refuse.
     */
    public static Leftover removeStale(Path path) throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Leftover.NONE;
        }
        if (!attributes.isOther()) {
            return Leftover.NOT_A_SOCKET;
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            return Leftover.LIVE;
        } catch (ConnectException e) {
            Files.deleteIfExists(path);
            return Leftover.STALE;
        }
    }

    /** A socket bound to {@code path} and listening; the file is created with the process umask. */
    public static Listener listen(Path path, int backlog) throws IOException {
        UnixServerSocketChannel channel = UnixServerSocketChannel.open();
        try {
            Fds.setCloseOnExec(channel.getFD());
            channel.socket().bind(new UnixSocketAddress(path.toFile()), backlog);
            return new Listener(channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public static final class Listener implements Closeable {
        private final UnixServerSocketChannel channel;

        private Listener(UnixServerSocketChannel channel) {
            this.channel = channel;
        }

        /** Blocks until a client connects; after {@link #shutdown} it fails with an IOException. */
        public Connection accept() throws IOException {
            UnixSocketChannel client;
            try {
                client = channel.accept();
            } catch (RuntimeException e) {   // jnr maps EINVAL after shutdown(2) to NotYetBoundException
                throw new IOException("accept failed: " + e, e);
            }
            if (client == null) {
                throw new IOException("accept returned no connection");
            }
            return new Connection(client);
        }

        /** Makes a blocked {@link #accept} fail at once: accept(2) does not return when another thread closes the fd. */
        public void shutdown() {
            Fds.shutdown(channel.getFD());
        }

        public int fd() {
            return channel.getFD();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** One accepted connection; reads and writes block, bounded by the timeouts set. */
    public static final class Connection implements ByteChannel {
        private final UnixSocketChannel channel;
        private final int fd;

        private Connection(UnixSocketChannel channel) {
            this.channel = channel;
            this.fd = channel.getFD();
            Fds.setCloseOnExec(fd);
        }

        public PeerCredentials peerCredentials() throws IOException {
            Credentials c = channel.getOption(UnixSocketOptions.SO_PEERCRED);
            if (c == null) {
                throw new IOException("no peer credentials");
            }
            return new PeerCredentials(c.getPid(), c.getUid(), c.getGid());
        }

        /** SO_RCVTIMEO: a read that gets no byte for this long returns 0; 0 waits forever. */
        public void receiveTimeoutMillis(int millis) throws IOException {
            channel.setOption(UnixSocketOptions.SO_RCVTIMEO, millis);
        }

        /** SO_SNDTIMEO: a write the peer takes no byte of for this long returns 0. */
        public void sendTimeoutMillis(int millis) throws IOException {
            channel.setOption(UnixSocketOptions.SO_SNDTIMEO, millis);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return channel.read(dst);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return channel.write(src);
        }

        /** shutdown(2), not close: wakes a thread blocked in read/write without freeing the fd number under it. */
        public void shutdown() {
            Fds.shutdown(fd);
        }

        public int fd() {
            return fd;
        }

        @Override
        public boolean isOpen() {
            return channel.isOpen();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
