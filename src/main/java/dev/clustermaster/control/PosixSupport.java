package dev.clustermaster.control;

import jnr.constants.platform.Fcntl;
import jnr.posix.Group;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.Passwd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/** The few native calls the control server needs (uid, user/group lookup, FD_CLOEXEC), loaded lazily. */
final class PosixSupport {

    private static final Logger log = LoggerFactory.getLogger(PosixSupport.class);
    private static final int FD_CLOEXEC = 1;

    private PosixSupport() {
    }

    private static final class Holder {
        static final POSIX POSIX = POSIXFactory.getNativePOSIX();
    }

    static int ownUid() {
        return Holder.POSIX.getuid();
    }

    static Optional<String> userName(int uid) {
        Passwd pw = Holder.POSIX.getpwuid(uid);
        return pw == null ? Optional.empty() : Optional.ofNullable(pw.getLoginName());
    }

    static Optional<Group> group(String name) {
        return Optional.ofNullable(Holder.POSIX.getgrnam(name));
    }

    /** Keeps an fd out of spawned workers even if they are started without closing inherited fds. */
    static void setCloseOnExec(int fd) {
        try {
            int flags = Holder.POSIX.fcntl(fd, Fcntl.F_GETFD);
            if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
                Holder.POSIX.fcntlInt(fd, Fcntl.F_SETFD, flags | FD_CLOEXEC);
            }
        } catch (RuntimeException e) {
            log.debug("could not set FD_CLOEXEC on fd {}", fd, e);
        }
    }

    static boolean isCloseOnExec(int fd) {
        return (Holder.POSIX.fcntl(fd, Fcntl.F_GETFD) & FD_CLOEXEC) != 0;
    }
}
