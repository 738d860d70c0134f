package dev.clustermaster.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/** Test client for the REPL: non-blocking socket, every wait bounded, failures say what was received. */
final class ReplTestClient implements AutoCloseable {

    static final String PROMPT = "cm> ";
    static final Duration WAIT = Duration.ofSeconds(5);

    private final SocketChannel channel;
    private final Selector selector;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private boolean eof;

    private ReplTestClient(SocketChannel channel) throws IOException {
        this.channel = channel;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    static ReplTestClient connect(Path socket) throws IOException {
        return connect(UnixDomainSocketAddress.of(socket), StandardProtocolFamily.UNIX);
    }

    static ReplTestClient connect(SocketAddress address, StandardProtocolFamily family) throws IOException {
        SocketChannel ch = SocketChannel.open(family);
        ch.connect(address);
        return new ReplTestClient(ch);
    }

    /** Connects and waits for the first prompt. */
    static ReplTestClient open(Path socket) throws IOException {
        ReplTestClient c = connect(socket);
        c.readUntil(PROMPT);
        return c;
    }

    /** Sends a line and returns the answer without the trailing prompt. */
    String command(String line) throws IOException {
        send(line + "\n");
        String out = readUntil(PROMPT);
        return out.substring(0, out.length() - PROMPT.length()).stripTrailing();
    }

    /** Writes everything within the wait bound; false if the peer stopped taking bytes or closed. */
    boolean send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.UTF_8), WAIT);
    }

    boolean send(byte[] bytes, Duration limit) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        long deadline = System.nanoTime() + limit.toNanos();
        try (Selector writeSelector = Selector.open()) {
            SocketChannel dup = channel;
            // Separate selector so OP_WRITE waiting does not disturb the read selector's keys.
            dup.register(writeSelector, SelectionKey.OP_WRITE);
            while (buf.hasRemaining()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                writeSelector.select(Math.max(1, left / 1_000_000));
                channel.write(buf);
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Reads until the received text contains marker; returns and consumes the text up to and including it. */
    String readUntil(String marker) throws IOException {
        return readUntil(marker, WAIT);
    }

    String readUntil(String marker, Duration limit) throws IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            String text = received.toString(StandardCharsets.UTF_8);
            int at = text.indexOf(marker);
            if (at >= 0) {
                String out = text.substring(0, at + marker.length());
                received.reset();
                received.write(text.substring(at + marker.length()).getBytes(StandardCharsets.UTF_8));
                return out;
            }
            if (eof) {
                throw new AssertionError("connection closed before '" + marker + "'; received: " + text);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no '" + marker + "' within " + limit.toMillis() + " ms; received: " + text);
            }
            fill(left);
        }
    }

    /** Reads until the server closes; returns everything received, or throws if still open at the bound. */
    String readToEnd(Duration limit) throws IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!eof) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("connection still open after " + limit.toMillis() + " ms; received: " + pending());
            }
            fill(left);
        }
        return pending();
    }

    String pending() {
        return received.toString(StandardCharsets.UTF_8);
    }

    private void fill(long leftNanos) throws IOException {
        selector.selectedKeys().clear();
        selector.select(Math.max(1, leftNanos / 1_000_000));
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        int n;
        try {
            n = channel.read(buf);
        } catch (IOException e) {
            n = -1; // reset by peer counts as closed
        }
        if (n < 0) {
            eof = true;
        } else if (n > 0) {
            received.write(buf.array(), 0, n);
            if (received.size() > 8 * 1024 * 1024) {
                throw new AssertionError("test client received more than 8 MiB");
            }
        }
    }

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }
}
