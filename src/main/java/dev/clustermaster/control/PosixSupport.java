package dev.clustermaster.control;

import dev.clustermaster.os.Posix;
import jnr.constants.platform.Fcntl;
import jnr.posix.Group;
import jnr.posix.POSIX;
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

    /** The process-wide jnr-posix instance of the os layer, not a second one. */
    private static POSIX posix() {
        return Posix.get();
    }

    static int ownUid() {
        return posix().getuid();
    }

    static Optional<String> userName(int uid) {
        Passwd pw = posix().getpwuid(uid);
        return pw == null ? Optional.empty() : Optional.ofNullable(pw.getLoginName());
    }

    /** The primary gid in the user database, for peers whose credentials carry only a uid. */
    static Optional<Integer> primaryGid(int uid) {
        Passwd pw = posix().getpwuid(uid);
        return pw == null ? Optional.empty() : Optional.of((int) pw.getGID());
    }

    static Optional<Group> group(String name) {
        return Optional.ofNullable(posix().getgrnam(name));
    }

    /** Keeps an fd out of spawned workers even if they are started without closing inherited fds. */
    static void setCloseOnExec(int fd) {
        try {
            int flags = posix().fcntl(fd, Fcntl.F_GETFD);
            if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
                posix().fcntlInt(fd, Fcntl.F_SETFD, flags | FD_CLOEXEC);
            }
        } catch (RuntimeException e) {
            log.debug("could not set FD_CLOEXEC on fd {}", fd, e);
        }
    }

    static boolean isCloseOnExec(int fd) {
        return (posix().fcntl(fd, Fcntl.F_GETFD) & FD_CLOEXEC) != 0;
    }
}
