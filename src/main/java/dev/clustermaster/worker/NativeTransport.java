package dev.clustermaster.worker;

import java.io.IOException;
import java.nio.channels.ByteChannel;

/**
 * The two socket operations a JVM the master runs as a plain command ({@code --exec java ...}) needs and the JDK
 * cannot do: use an inherited AF_UNIX stream socket given by fd number, and send an AF_UNIX datagram. Workers
 * started with {@code --main}/{@code --jar} get pipes instead ({@link PipePair}) and never load this.
 *
 * <p>Why not pure JDK (17): {@code System.inheritedChannel()} only looks at fd 0 (taken by the first listener);
 * opening {@code /proc/self/fd/N} of a socket fails with ENXIO; wrapping a raw fd in a {@code FileDescriptor}
 * needs {@code --add-opens java.base/java.io}; and {@code DatagramChannel} has no AF_UNIX support before JDK 22.
 * So the one implementation, {@link JnrTransport}, uses jnr-unixsocket, loaded lazily by {@link Transports}
 * so that a worker without jnr on its class path still runs (degraded).
 */
interface NativeTransport {

    /** A blocking channel over the connected stream socket at {@code fd}; closing it closes the fd. */
    ByteChannel openStream(int fd) throws IOException;

    /** Sends one datagram to the AF_UNIX socket at {@code path} ("@name" is the abstract namespace). */
    void sendDatagram(String path, byte[] payload) throws IOException;
}
