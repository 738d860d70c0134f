package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real socket file, a JDK client, the kernel's answers. */
class UnixSocketsTest {
    @TempDir
    Path dir;

    @Test
    void acceptedPeerIsThisProcessWithTimeoutsAndCloseOnExec() throws Exception {
        Path path = dir.resolve("s.sock");
        try (UnixSockets.Listener listener = UnixSockets.listen(path, 8);
             SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            client.connect(UnixDomainSocketAddress.of(path));
            try (UnixSockets.Connection c = listener.accept()) {
                assertEquals(new UnixSockets.PeerCredentials((int) ProcessHandle.current().pid(), Users.ownUid(), Users.ownGid()),
                        c.peerCredentials());
                assertTrue(Fds.isCloseOnExec(listener.fd()));
                assertTrue(Fds.isCloseOnExec(c.fd()));

                c.receiveTimeoutMillis(50);
                assertEquals(0, c.read(ByteBuffer.allocate(8)), "no byte within the receive timeout");
                client.write(ByteBuffer.wrap("hi".getBytes()));
                ByteBuffer got = ByteBuffer.allocate(8);
                assertEquals(2, c.read(got));
                assertEquals(2, c.write(ByteBuffer.wrap("ok".getBytes())));
                ByteBuffer back = ByteBuffer.allocate(2);
                while (back.hasRemaining()) {
                    client.read(back);
                }
                assertEquals("ok", new String(back.array()));
            }
        }
    }

    @Test
    void onlyAStaleSocketIsRemoved() throws Exception {
        Path path = dir.resolve("s.sock");
        assertEquals(UnixSockets.Leftover.NONE, UnixSockets.removeStale(path));
        java.nio.file.Files.writeString(path, "data");
        assertEquals(UnixSockets.Leftover.NOT_A_SOCKET, UnixSockets.removeStale(path));
        java.nio.file.Files.delete(path);
        try (UnixSockets.Listener listener = UnixSockets.listen(path, 8)) {
            assertEquals(UnixSockets.Leftover.LIVE, UnixSockets.removeStale(path));
            assertTrue(java.nio.file.Files.exists(path));
        }
        assertTrue(java.nio.file.Files.exists(path), "closing a listener leaves its file");
        assertEquals(UnixSockets.Leftover.STALE, UnixSockets.removeStale(path));
        assertTrue(!java.nio.file.Files.exists(path));
    }

    @Test
    void shutdownWakesABlockedAccept() throws Exception {
        try (UnixSockets.Listener listener = UnixSockets.listen(dir.resolve("s.sock"), 8)) {
            CompletableFuture<UnixSockets.Connection> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return listener.accept();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            // the accept may not have begun yet: shutdown fails it whenever it runs (the socket stops listening)
            listener.shutdown();
            ExecutionException e = assertThrows(ExecutionException.class, () -> accepted.get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof java.io.UncheckedIOException, e.toString());
        }
    }
}
