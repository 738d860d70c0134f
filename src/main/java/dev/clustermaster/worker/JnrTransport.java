package dev.clustermaster.worker;

import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;

/**
 * {@link NativeTransport} on jnr-unixsocket. The only class of this package that names a non-JDK type:
 * it is instantiated by reflection, so a missing jnr shows up as a LinkageError there and nowhere else.
 */
final class JnrTransport implements NativeTransport {

    private final Object sendLock = new Object();
    private final UnixDatagramChannel datagrams;

    /** Opens the datagram socket now: that loads jnr (about half a second), so a missing jnr fails here. */
    JnrTransport() throws IOException {
        datagrams = UnixDatagramChannel.open();
    }

    @Override
    public ByteChannel openStream(int fd) throws IOException {
        UnixSocketChannel channel = UnixSocketChannel.fromFD(fd);
        // The channel believes it is blocking without asking the kernel; flip it twice so fcntl really clears
        // O_NONBLOCK in case the master created the socketpair non-blocking (a non-blocking read would spin).
        channel.configureBlocking(false);
        channel.configureBlocking(true);
        return channel;
    }

    @Override
    public void sendDatagram(String path, byte[] payload) throws IOException {
        // jnr takes a leading NUL as the abstract namespace; sd_notify's convention writes it as '@'.
        String address = path.startsWith("@") ? '\0' + path.substring(1) : path;
        synchronized (sendLock) {
            int sent = datagrams.send(ByteBuffer.wrap(payload), new UnixSocketAddress(address));
            if (sent != payload.length) {
                throw new IOException("short datagram to " + path + ": " + sent + " of " + payload.length + " bytes");
            }
        }
    }
}
