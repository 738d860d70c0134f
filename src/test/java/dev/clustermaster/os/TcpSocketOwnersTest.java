package dev.clustermaster.os;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteOrder;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TcpSocketOwnersTest {

    @Test
    void parsesKernelTableLines() throws Exception {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the sample lines are from a little-endian host");
        List<String> lines = List.of(
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0",
                "   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 2 1 0 20 4 30 10 -1",
                "   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1");
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        assertEquals(OptionalInt.of(1000), TcpSocketOwners.find(lines, new InetSocketAddress(lo, 0xD431), new InetSocketAddress(lo, 8080)));
        assertEquals(OptionalInt.empty(), TcpSocketOwners.find(lines, new InetSocketAddress(lo, 0xD432), new InetSocketAddress(lo, 8080)));
        assertEquals(new InetSocketAddress(InetAddress.getByName("::1"), 8080),
                TcpSocketOwners.parse("00000000000000000000000001000000:1F90"));
        assertEquals(new InetSocketAddress(lo, 8080), TcpSocketOwners.parse("0000000000000000FFFF00000100007F:1F90"),
                "IPv4-mapped comes back as IPv4");
    }

    @Test
    void findsTheUidOfARealLoopbackPeer() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
             Socket accepted = server.accept()) {
            OptionalInt uid = TcpSocketOwners.peerUid((InetSocketAddress) accepted.getLocalSocketAddress(),
                    (InetSocketAddress) accepted.getRemoteSocketAddress());
            assertEquals(OptionalInt.of(Posix.get().geteuid()), uid);
            assertEquals(OptionalInt.empty(), TcpSocketOwners.peerUid((InetSocketAddress) accepted.getLocalSocketAddress(),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 1)), "no such peer");
        }
    }
}
