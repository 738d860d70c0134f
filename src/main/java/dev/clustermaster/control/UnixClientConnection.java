package dev.clustermaster.control;

import dev.clustermaster.os.UnixSockets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A unix-socket connection on a blocking channel. Timeouts are kernel socket options: SO_RCVTIMEO makes a
 * read return 0 so idleness can be checked, SO_SNDTIMEO makes a write to a peer that never reads return 0.
 */
final class UnixClientConnection implements ClientConnection {

    private static final Logger log = LoggerFactory.getLogger(UnixClientConnection.class);

    private final UnixSockets.Connection channel;
    private final String description;
    private final Duration writeTimeout;
    private final AtomicBoolean aborted = new AtomicBoolean();

    private int readTimeoutMillis;

    UnixClientConnection(UnixSockets.Connection channel, String description, Duration writeTimeout) {
        this.channel = channel;
        this.description = description;
        this.writeTimeout = writeTimeout;
        try {
            channel.sendTimeoutMillis(clampMillis(writeTimeout));
        } catch (IOException | RuntimeException e) {
            log.warn("could not set timeouts on control connection {}: {}", description, e.toString());
        }
    }

    private static int clampMillis(Duration d) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, d.toMillis()));
    }

    @Override
    public int read(byte[] buffer) throws IOException {
        if (aborted.get()) {
            return -1;
        }
        ByteBuffer dst = ByteBuffer.wrap(buffer);
        int n = channel.read(dst);
        return aborted.get() ? -1 : n;
    }

    @Override
    public void readTimeout(Duration timeout) throws IOException {
        int millis = timeout.isZero() ? 0 : clampMillis(timeout);
        if (millis != readTimeoutMillis) {
            channel.receiveTimeoutMillis(millis);
            readTimeoutMillis = millis;
        }
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        ByteBuffer src = ByteBuffer.wrap(bytes);
        while (src.hasRemaining()) {
            if (aborted.get()) {
                throw new IOException("connection closed");
            }
            // Returns 0 only when SO_SNDTIMEO expired without the peer taking a single byte.
            if (channel.write(src) == 0 && src.hasRemaining()) {
                throw new WriteTimeoutException("client accepted no data for " + writeTimeout.toMillis() + " ms");
            }
        }
    }

    @Override
    public void abort() {
        if (aborted.compareAndSet(false, true)) {
            channel.shutdown();
        }
    }

    @Override
    public void close() {
        aborted.set(true);
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("closing control connection {}", description, e);
        }
    }

    int fd() {
        return channel.fd();
    }

    @Override
    public String describe() {
        return description;
    }
}
