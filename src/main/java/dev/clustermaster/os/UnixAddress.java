package dev.clustermaster.os;

import java.nio.charset.StandardCharsets;
import jnr.ffi.Pointer;

/** A native struct sockaddr_un for a filesystem path or an abstract name ("@name", as systemd writes it). */
final class UnixAddress {
    private static final int SUN_PATH_MAX = 108;
    private static final int PATH_OFFSET = 2;  // after sa_family_t

    final Pointer pointer;
    final int length;

    private UnixAddress(Pointer pointer, int length) {
        this.pointer = pointer;
        this.length = length;
    }

    static UnixAddress of(String socket) {
        boolean isAbstract = socket.startsWith("@");
        byte[] name = (isAbstract ? socket.substring(1) : socket).getBytes(StandardCharsets.UTF_8);
        // Abstract: leading NUL, and the length covers exactly the name (no terminator: NULs are significant).
        int pathBytes = isAbstract ? 1 + name.length : name.length + 1;
        if (name.length == 0 || pathBytes > SUN_PATH_MAX) {
            throw new IllegalArgumentException("bad AF_UNIX socket address (empty or longer than "
                    + (SUN_PATH_MAX - 1) + " bytes): " + socket);
        }
        Pointer p = Libc.alloc(PATH_OFFSET + SUN_PATH_MAX);
        p.putShort(0, (short) Libc.AF_UNIX);
        p.put(PATH_OFFSET + (isAbstract ? 1 : 0), name, 0, name.length);
        return new UnixAddress(p, PATH_OFFSET + pathBytes);
    }
}
