package dev.clustermaster.os;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * Who owns the other end of a loopback TCP connection: the kernel lists every TCP socket of this network
 * namespace with its owner's uid in /proc/net/tcp and /proc/net/tcp6; the peer's socket is the one whose local
 * end is our remote end and whose remote end is our local end.
 */
public final class TcpSocketOwners {
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));

    private TcpSocketOwners() {
    }

    /**
     * The uid of the process side of {@code peer} that is connected to {@code ours}, or empty when no socket of
     * this host matches (a remote peer, or one that is already gone).
     */
    public static OptionalInt peerUid(InetSocketAddress ours, InetSocketAddress peer) {
        for (Path table : TABLES) {
            try {
                OptionalInt uid = find(Files.readAllLines(table, StandardCharsets.US_ASCII), peer, ours);
                if (uid.isPresent()) {
                    return uid;
                }
            } catch (IOException e) {
                // tcp6 is absent when IPv6 is disabled; the other table may still answer
            }
        }
        return OptionalInt.empty();
    }

    /** The uid column of the line whose local_address is {@code local} and rem_address is {@code remote}. */
    static OptionalInt find(List<String> lines, InetSocketAddress local, InetSocketAddress remote) {
        for (String line : lines) {
            String[] f = line.strip().split("\\s+");
            if (f.length < 8 || !f[0].endsWith(":")) {
                continue; // the header line
            }
            try {
                if (local.equals(parse(f[1])) && remote.equals(parse(f[2]))) {
                    return OptionalInt.of(Integer.parseInt(f[7]));
                }
            } catch (IllegalArgumentException | UnknownHostException e) {
                // a line we do not understand is not the one we look for
            }
        }
        return OptionalInt.empty();
    }

    /**
     * "0100007F:1F90" is 127.0.0.1:8080: the address is printed as 32-bit words in host byte order, the port as a
     * plain hex number. An IPv4-mapped IPv6 address comes back as the IPv4 address, as Java reports it.
     */
    static InetSocketAddress parse(String hex) throws UnknownHostException {
        int colon = hex.indexOf(':');
        String addr = hex.substring(0, colon);
        if (addr.length() != 8 && addr.length() != 32) {
            throw new IllegalArgumentException("bad address " + hex);
        }
        ByteBuffer bytes = ByteBuffer.allocate(addr.length() / 2).order(ByteOrder.nativeOrder());
        for (int i = 0; i < addr.length(); i += 8) {
            bytes.putInt((int) Long.parseLong(addr.substring(i, i + 8), 16));
        }
        int port = Integer.parseInt(hex.substring(colon + 1), 16);
        return new InetSocketAddress(InetAddress.getByAddress(bytes.array()), port);
    }
}
