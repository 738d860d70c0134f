package dev.clustermaster.control;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * One REPL connection: reads lines, runs them through the {@link CommandTree}, writes answers. Interactive
 * sessions get a prompt; a session whose first request is a JSON line becomes a JSON session (one JSON answer
 * per line, no prompt, no broadcasts) so scripts can parse every line they read.
 */
final class ReplSession implements Runnable, CommandContext {

    private static final Logger log = LoggerFactory.getLogger(ReplSession.class);
    /** Garbage rarely contains many valid lines; after this many bad lines in a row the client is dropped. */
    static final int MAX_CONSECUTIVE_BAD_LINES = 10;
    /**
     * An HTTP request line or Host/Origin header: a web page can POST any body to a loopback TCP port
     * (fetch with mode no-cors), whose lines would otherwise run as commands after the header lines' errors.
     */
    private static final Pattern HTTP_LINE = Pattern.compile(
            "(?is)[a-z]+ \\S+ HTTP/\\d(\\.\\d)?\\s*|(host|origin):.*");

    /** What the session needs from its server. */
    interface Host {
        CommandTree commands();

        ControlApi api();

        int connectionCount();

        void broadcast(ReplSession from, String message);

        void ended(ReplSession session);
    }

    private final ClientConnection connection;
    private final Host host;
    private final String prompt;
    private final int maxLineBytes;
    private final Duration idleTimeout;
    private final Duration lineTimeout;
    private final String peerKey;
    private final long connectedAt = System.nanoTime();
    /** When the unfinished line began (System.nanoTime), or 0: the server drops the slowest first when full. */
    private volatile long lineStartedAt;
    private volatile boolean ranCommand;
    private long lastCommandAt = connectedAt;
    private final Object writeLock = new Object();
    private volatile boolean jsonSession;
    private volatile boolean busy;
    private int badLines;

    /**
     * @param idleTimeout  closes a session with no command for this long (bytes that do not complete a command
     *                     do not count, so trickling cannot keep it open); zero disables
     * @param lineTimeout  closes a session whose line is not complete this long after its first byte
     * @param peerKey      whose connection this is ("uid 1000", "tcp"), for per-peer limits
     */
    ReplSession(ClientConnection connection, Host host, String prompt, int maxLineBytes, Duration idleTimeout,
                Duration lineTimeout, String peerKey) {
        this.connection = connection;
        this.host = host;
        this.prompt = prompt;
        this.maxLineBytes = maxLineBytes;
        this.idleTimeout = idleTimeout;
        this.lineTimeout = lineTimeout;
        this.peerKey = peerKey;
    }

    String peerKey() {
        return peerKey;
    }

    long connectedAt() {
        return connectedAt;
    }

    long lineStartedAt() {
        return lineStartedAt;
    }

    boolean ranCommand() {
        return ranCommand;
    }

    String describe() {
        return connection.describe();
    }

    ClientConnection connection() {
        return connection;
    }

    boolean isInteractive() {
        return !jsonSession;
    }

    @Override
    public int connectionCount() {
        return host.connectionCount();
    }

    @Override
    public void broadcast(String message) {
        host.broadcast(this, message);
    }

    /** Wakes the session so it ends (server shutdown, broadcast failure). */
    void abort() {
        connection.abort();
    }

    @Override
    public void run() {
        log.debug("control connection from {}", describe());
        try {
            send(prompt);
            serve();
        } catch (ClientConnection.WriteTimeoutException e) {
            log.warn("dropped control client {}: {}", describe(), e.getMessage());
        } catch (IOException e) {
            log.debug("control connection {} ended: {}", describe(), e.toString());
        } catch (RuntimeException e) {
            log.error("control connection {} failed", describe(), e);
        } finally {
            connection.abort();
            connection.close();
            host.ended(this);
            log.debug("control connection from {} closed", describe());
        }
    }

    private void serve() throws IOException {
        LineAccumulator lines = new LineAccumulator(maxLineBytes);
        byte[] buffer = new byte[8192];
        while (true) {
            long now = System.nanoTime();
            long lineStart = lineStartedAt;
            long lineLeft = lineStart == 0 ? Long.MAX_VALUE : lineStart + lineTimeout.toNanos() - now;
            long idleLeft = idleTimeout.isZero() ? Long.MAX_VALUE : lastCommandAt + idleTimeout.toNanos() - now;
            if (lineLeft <= 0) {
                sendQuietly(reply(Reply.usage("", "line not finished within " + lineTimeout.toMillis() + " ms, closing"), jsonSession));
                log.info("closed control connection {}: line not finished within {} ms", describe(), lineTimeout.toMillis());
                return;
            }
            if (idleLeft <= 0) {
                sendQuietly("idle for " + idleTimeout.toSeconds() + "s, closing\n");
                log.info("closed idle control connection {}", describe());
                return;
            }
            long wait = Math.min(lineLeft, idleLeft);
            connection.readTimeout(wait == Long.MAX_VALUE ? Duration.ZERO : Duration.ofNanos(wait).plusMillis(1));
            int n = connection.read(buffer);
            if (n < 0) {
                return;
            }
            if (n == 0) {
                continue;
            }
            java.util.List<byte[]> complete;
            try {
                complete = lines.feed(buffer, n);
            } catch (LineAccumulator.LineTooLongException e) {
                log.warn("dropped control client {}: {}", describe(), e.getMessage());
                sendQuietly(reply(Reply.usage("", e.getMessage() + ", closing"), jsonSession));
                return;
            }
            if (lines.pendingBytes() == 0) {
                lineStartedAt = 0;
            } else if (lineStart == 0 || !complete.isEmpty()) {
                lineStartedAt = now; // a new line began in these bytes
            }
            for (byte[] line : complete) {
                if (!handle(line)) {
                    return;
                }
            }
        }
    }

    /** Runs one line; false when the session should end. */
    private boolean handle(byte[] raw) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            text = "\uFFFD"; // the parser reports it as malformed input
        }
        if (HTTP_LINE.matcher(text).matches()) {
            log.warn("dropped control client {}: it sent HTTP (a web page in a browser?), the REPL runs none of it",
                    describe());
            return false;
        }
        ParsedCommand parsed;
        Reply reply;
        boolean json;
        try {
            parsed = CommandLineParser.parse(text);
            json = parsed.jsonOutput();
            if (parsed.isBlank()) {
                send(jsonSession ? "" : prompt);
                return true;
            }
            if (text.strip().startsWith("{")) {
                jsonSession = true;
            }
            setBusy(true);
            ranCommand = true;
            lastCommandAt = System.nanoTime();
            reply = host.commands().execute(parsed, host.api(), this);
        } catch (CommandSyntaxException e) {
            json = e.jsonOutput() || jsonSession;
            reply = Reply.usage("", e.getMessage());
        }
        badLines = reply.status() == Reply.Status.USAGE_ERROR && reply.command().isEmpty() ? badLines + 1 : 0;
        if (badLines >= MAX_CONSECUTIVE_BAD_LINES) {
            send(reply(Reply.usage("", "too many malformed lines, closing"), json || jsonSession));
            log.warn("dropped control client {}: {} malformed lines in a row", describe(), badLines);
            return false;
        }
        String answer = reply(reply, json || jsonSession);
        boolean keepOpen = !reply.closeSession();
        try {
            send(keepOpen && !jsonSession ? answer + prompt : answer);
        } finally {
            setBusy(false);
        }
        return keepOpen;
    }

    private void setBusy(boolean value) {
        synchronized (writeLock) {
            busy = value;
            writeLock.notifyAll();
        }
    }

    /**
     * Waits until a command being run has its answer written, so a shutdown that the command itself caused
     * (stop, quit) does not cut the answer off; bounded by the deadline.
     */
    void awaitAnswered(long deadlineNanos) throws InterruptedException {
        synchronized (writeLock) {
            long left;
            while (busy && (left = deadlineNanos - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(writeLock, left);
            }
        }
    }

    private static String reply(Reply reply, boolean json) {
        return (json ? reply.toJson() : reply.humanText()) + "\n";
    }

    /** A message from another session (debug); written between answers, re-showing the prompt when idle. */
    void sendUnsolicited(String message) {
        try {
            send("\n" + message + "\n" + (busy ? "" : prompt));
        } catch (ClientConnection.WriteTimeoutException e) {
            log.warn("dropped control client {}: {}", describe(), e.getMessage());
            abort();
        } catch (IOException e) {
            abort();
        }
    }

    private void send(String text) throws IOException {
        if (text.isEmpty()) {
            return;
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        synchronized (writeLock) {
            connection.write(bytes);
        }
    }

    private void sendQuietly(String text) {
        try {
            send(text);
        } catch (IOException e) {
            log.debug("could not send last words to {}", describe(), e);
        }
    }
}
