package dev.clustermaster.os;

/** Small operations on file descriptors that callers outside this package hold as ints. */
public final class Fds {
    private Fds() {
    }

    /** Keeps fd out of spawned processes even if they are started without closing inherited fds. */
    public static boolean setCloseOnExec(int fd) {
        return Libc.setCloexec(fd);
    }

    public static boolean isCloseOnExec(int fd) {
        return Libc.isCloexec(fd);
    }

    /** shutdown(SHUT_RDWR): wakes threads blocked on the socket; false if fd is not a connected socket. */
    public static boolean shutdown(int fd) {
        return Libc.api().shutdown(fd, Libc.SHUT_RDWR) == 0;
    }

    /** /dev/null opened read-only and close-on-exec, e.g. a stdin that never blocks; -1 if it cannot be opened. */
    public static int openDevNullForReading() {
        return Libc.api().open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
    }
}
