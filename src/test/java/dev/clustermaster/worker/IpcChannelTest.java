package dev.clustermaster.worker;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The channel over a JDK AF_UNIX stream pair, the test playing the master. */
class IpcChannelTest {

    private static final long WAIT = 5;

    @TempDir
    Path dir;

    private SocketChannel masterEnd;
    private BufferedReader fromWorker;
    private IpcChannel channel;
    private final BlockingQueue<String> logLevels = new LinkedBlockingQueue<>();
    private final CompletableFuture<String> closed = new CompletableFuture<>();

    @BeforeEach
    void connect() throws IOException {
        Path path = dir.resolve("ipc.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            SocketChannel workerEnd = SocketChannel.open(UnixDomainSocketAddress.of(path));
            masterEnd = server.accept();
            channel = new IpcChannel(workerEnd, new IpcChannel.Peer() {
                @Override
                public String onMessage(String text) {
                    if (text.equals("boom")) {
                        throw new IllegalStateException("exploded");
                    }
                    return text.equals("null") ? null : "re: " + text;
                }

                @Override
                public void onLogLevel(String level) {
                    logLevels.add(level);
                }

                @Override
                public void onClosed(String reason) {
                    closed.complete(reason);
                }
            });
        }
        channel.start();
        fromWorker = new BufferedReader(new InputStreamReader(Channels.newInputStream(masterEnd), StandardCharsets.UTF_8));
    }

    @AfterEach
    void close() throws IOException {
        channel.close();
        masterEnd.close();
    }

    @Test
    void workerMessageGetsTheMastersReply() throws Exception {
        CompletableFuture<String> reply = channel.send("how\nare you ✓");
        IpcFrame msg = IpcFrame.decode(readLine());
        assertEquals(IpcFrame.Kind.MSG, msg.kind());
        assertEquals("how\nare you ✓", msg.payload());
        assertTrue(msg.id() != 0, "a message expecting a reply has an id");
        masterWrite(new IpcFrame(IpcFrame.Kind.REPLY, msg.id(), "fine\\thanks"));
        assertEquals("fine\\thanks", reply.get(WAIT, TimeUnit.SECONDS));
    }

    @Test
    void masterMessagesAreAnsweredByTheHandler() throws Exception {
        masterWrite(new IpcFrame(IpcFrame.Kind.MSG, 9, "ping"));
        assertEquals(new IpcFrame(IpcFrame.Kind.REPLY, 9, "re: ping"), IpcFrame.decode(readLine()));
        masterWrite(new IpcFrame(IpcFrame.Kind.MSG, 10, "null"));
        assertEquals(new IpcFrame(IpcFrame.Kind.REPLY, 10, ""), IpcFrame.decode(readLine()));
        masterWrite(new IpcFrame(IpcFrame.Kind.MSG, 11, "boom"));
        IpcFrame error = IpcFrame.decode(readLine());
        assertEquals(11, error.id());
        assertTrue(error.payload().startsWith(IpcChannel.ERROR_PREFIX) && error.payload().contains("exploded"), error.payload());
    }

    @Test
    void unknownVerbsAndMalformedLinesAreSkipped() throws Exception {
        masterWrite("HELLO 1 from the future\nnot a frame\n");
        masterWrite(new IpcFrame(IpcFrame.Kind.LOGLEVEL, 0, "DEBUG"));
        assertEquals("DEBUG", logLevels.poll(WAIT, TimeUnit.SECONDS));
        assertTrue(channel.isOpen());
    }

    @Test
    void endOfStreamClosesAndFailsPendingReplies() throws Exception {
        CompletableFuture<String> reply = channel.send("anyone?");
        assertNotNull(readLine());
        masterEnd.close();
        assertTrue(closed.get(WAIT, TimeUnit.SECONDS).contains("end of stream"));
        ExecutionException failure = assertThrows(ExecutionException.class, () -> reply.get(WAIT, TimeUnit.SECONDS));
        assertInstanceOf(IOException.class, failure.getCause());
        assertThrows(ExecutionException.class, () -> channel.send("late").get(WAIT, TimeUnit.SECONDS));
    }

    @Test
    void overlongLineIsAProtocolError() throws Exception {
        byte[] chunk = new byte[64 * 1024];
        java.util.Arrays.fill(chunk, (byte) 'x');
        masterWrite("MSG 1 ");
        try {
            for (long sent = 0; sent <= IpcFrame.MAX_LINE_CHARS * 4L + chunk.length && !closed.isDone(); sent += chunk.length) {
                masterEnd.write(ByteBuffer.wrap(chunk));
            }
        } catch (IOException e) {
            // The worker closed its end first: fine.
        }
        assertTrue(closed.get(WAIT, TimeUnit.SECONDS).contains("longer than"));
    }

    private String readLine() throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return fromWorker.readLine();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }).get(WAIT, TimeUnit.SECONDS);
    }

    private void masterWrite(IpcFrame frame) throws IOException {
        masterWrite(frame.encode() + "\n");
    }

    private void masterWrite(String text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
            masterEnd.write(bytes);
        }
    }
}
