package dev.clustermaster.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Client side of JSON mode: connects to the control socket, sends one request line, reads one answer line.
 * Used by {@code cluster-master ctl}; every wait is bounded by the given timeout.
 */
public final class ControlClient {

    /** The server could not be reached, or turned the connection away (access denied, too many connections). */
    public static class CannotConnectException extends IOException {
        public CannotConnectException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The master is there but turned this user away (socket file permissions or its peer check). */
    public static final class AccessDeniedException extends CannotConnectException {
        public AccessDeniedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The parsed answer and the raw JSON line it came from. */
    public record Response(Reply reply, String json) {
    }

    private static final int MAX_ANSWER_BYTES = 16 * 1024 * 1024;

    private ControlClient() {
    }

    public static Response request(Path socket, ParsedCommand command, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
             Selector selector = Selector.open()) {
            try {
                channel.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                if (String.valueOf(e.getMessage()).contains("Permission denied")) {
                    throw new AccessDeniedException("access denied to control socket " + socket
                            + " (not root, the master's user or in its group; see repl.group)", e);
                }
                throw new CannotConnectException("cannot connect to control socket " + socket + ": " + e.getMessage(), e);
            }
            channel.configureBlocking(false);
            ByteBuffer request = ByteBuffer.wrap((command.toJsonRequest() + "\n").getBytes(StandardCharsets.UTF_8));
            ByteBuffer in = ByteBuffer.allocate(8192);
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            SelectionKey key = channel.register(selector, SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            while (true) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new IOException("no answer from " + socket + " within " + timeout.toSeconds() + "s");
                }
                selector.selectedKeys().clear();
                selector.select(Math.max(1, remaining / 1_000_000));
                if (key.isWritable() && request.hasRemaining()) {
                    try {
                        channel.write(request);
                    } catch (IOException e) {
                        // the server may have refused us and closed; its reason is still readable
                    }
                    if (!request.hasRemaining()) {
                        key.interestOps(SelectionKey.OP_READ);
                    }
                }
                if (key.isReadable()) {
                    in.clear();
                    int n;
                    try {
                        n = channel.read(in);
                    } catch (IOException e) {
                        n = -1;
                    }
                    if (n < 0) {
                        throw refusal(socket, received.toString(StandardCharsets.UTF_8));
                    }
                    received.write(in.array(), 0, n);
                    if (received.size() > MAX_ANSWER_BYTES) {
                        throw new IOException("answer from " + socket + " is too large");
                    }
                    String text = received.toString(StandardCharsets.UTF_8);
                    int newline;
                    while ((newline = text.indexOf('\n')) >= 0) {
                        String line = text.substring(0, newline);
                        text = text.substring(newline + 1);
                        int brace = line.indexOf('{');
                        if (brace >= 0) {
                            String json = line.substring(brace);
                            try {
                                return new Response(Reply.fromJson(json), json);
                            } catch (Json.ParseException e) {
                                throw new IOException("unreadable answer from " + socket + ": " + e.getMessage());
                            }
                        }
                        if (!line.isBlank()) {
                            throw refusal(socket, line);
                        }
                    }
                    received.reset();
                    received.write(text.getBytes(StandardCharsets.UTF_8));
                }
            }
        }
    }

    private static CannotConnectException refusal(Path socket, String said) {
        String reason = said.strip();
        if (reason.startsWith("access denied")) {
            return new AccessDeniedException("control socket " + socket + " refused: " + reason, null);
        }
        return new CannotConnectException(reason.isEmpty() || reason.matches("\\S*>")
                ? "control socket " + socket + " closed the connection"
                : "control socket " + socket + " refused: " + reason, null);
    }
}
