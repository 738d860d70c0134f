package dev.clustermaster.os;

import java.io.IOException;
import java.lang.ref.Reference;
import java.util.Arrays;
import jnr.ffi.Pointer;

/**
 * One datagram with file descriptors attached as SCM_RIGHTS ancillary data (sendmsg/recvmsg). Struct layouts are
 * LP64 Linux (x86_64, aarch64): msghdr 56 bytes, iovec 16, cmsghdr 16 before the data.
 */
public final class ScmRights {
    /** systemd accepts at most 768 fds per notify message (SCM_MAX_FD is 253 in the kernel anyway). */
    static final int MAX_FDS = 253;

    private static final int MSGHDR_SIZE = 56;
    private static final int IOVEC_SIZE = 16;
    private static final int CMSG_HEADER = 16;

    /** What one recvmsg returned: the bytes, the fds (now ours, FD_CLOEXEC) and whether the kernel cut anything. */
    public record Received(byte[] data, int[] fds, boolean truncated) {
    }

    private ScmRights() {
    }

    /**
     * sendmsg of {@code data} with {@code fds} to {@code addr} (null on a connected socket); returns the bytes sent
     * or -1 with errno set for the caller to read.
     */
    static long send(int socketFd, byte[] data, int[] fds, UnixAddress addr) {
        if (fds.length > MAX_FDS) {
            throw new IllegalArgumentException("at most " + MAX_FDS + " fds per message, not " + fds.length);
        }
        Pointer buf = Libc.alloc(Math.max(1, data.length));
        buf.put(0, data, 0, data.length);
        Pointer iov = Libc.alloc(IOVEC_SIZE);
        iov.putAddress(0, buf.address());
        iov.putLong(8, data.length);
        Pointer msg = Libc.alloc(MSGHDR_SIZE);
        if (addr != null) {
            msg.putAddress(0, addr.pointer.address());
            msg.putInt(8, addr.length);
        }
        msg.putAddress(16, iov.address());
        msg.putLong(24, 1);
        Pointer control = null;
        if (fds.length > 0) {
            int dataLength = 4 * fds.length;
            control = Libc.alloc(CMSG_HEADER + align(dataLength));
            control.putLong(0, CMSG_HEADER + dataLength);          // cmsg_len = CMSG_LEN(n)
            control.putInt(8, Libc.SOL_SOCKET);
            control.putInt(12, Libc.SCM_RIGHTS);
            for (int i = 0; i < fds.length; i++) {
                control.putInt(CMSG_HEADER + 4L * i, fds[i]);
            }
            msg.putAddress(32, control.address());
            msg.putLong(40, CMSG_HEADER + align(dataLength));     // msg_controllen = CMSG_SPACE(n)
        }
        long n = Libc.api().sendmsg(socketFd, msg, Libc.MSG_NOSIGNAL);
        Reference.reachabilityFence(buf);
        Reference.reachabilityFence(iov);
        Reference.reachabilityFence(control);
        Reference.reachabilityFence(addr);
        return n;
    }

    /**
     * One recvmsg of up to {@code maxBytes} and {@code maxFds}; the fds arrive FD_CLOEXEC. Fds beyond
     * {@code maxFds} are closed by the kernel and reported as {@code truncated}.
     */
    public static Received receive(int socketFd, int maxBytes, int maxFds) throws IOException {
        Pointer buf = Libc.alloc(Math.max(1, maxBytes));
        Pointer iov = Libc.alloc(IOVEC_SIZE);
        iov.putAddress(0, buf.address());
        iov.putLong(8, maxBytes);
        int controlSize = CMSG_HEADER + align(4 * Math.max(1, maxFds));
        Pointer control = Libc.alloc(controlSize);
        Pointer msg = Libc.alloc(MSGHDR_SIZE);
        msg.putAddress(16, iov.address());
        msg.putLong(24, 1);
        msg.putAddress(32, control.address());
        msg.putLong(40, controlSize);
        long n = Libc.api().recvmsg(socketFd, msg, Libc.MSG_CMSG_CLOEXEC);
        if (n < 0) {
            int e = Libc.errno();
            throw new IOException("recvmsg on fd " + socketFd + ": " + Libc.strerror(e));
        }
        byte[] data = new byte[(int) n];
        buf.get(0, data, 0, data.length);
        int flags = msg.getInt(48);
        long controlLength = msg.getLong(40);
        int[] fds = new int[0];
        // Walk the cmsg chain (CMSG_FIRSTHDR/CMSG_NXTHDR): normally a single SCM_RIGHTS header.
        long offset = 0;
        while (offset + CMSG_HEADER <= controlLength) {
            long length = control.getLong(offset);
            if (length < CMSG_HEADER) {
                break;
            }
            if (control.getInt(offset + 8) == Libc.SOL_SOCKET && control.getInt(offset + 12) == Libc.SCM_RIGHTS) {
                int count = (int) ((length - CMSG_HEADER) / 4);
                int[] more = Arrays.copyOf(fds, fds.length + count);
                for (int i = 0; i < count; i++) {
                    more[fds.length + i] = control.getInt(offset + CMSG_HEADER + 4L * i);
                }
                fds = more;
            }
            offset += align((int) length);
        }
        Reference.reachabilityFence(buf);
        Reference.reachabilityFence(iov);
        Reference.reachabilityFence(control);
        return new Received(data, fds, (flags & Libc.MSG_CTRUNC) != 0);
    }

    private static int align(int length) {
        return (length + 7) & ~7;
    }
}
