package dev.clustermaster.os;

import jnr.posix.POSIX;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** kill(2) for one process or a whole process group, refusing the pid values that hit far more than intended. */
public final class ProcessGroups {
    private ProcessGroups() {}

    /**
     * kill(-pgid, signal). pgid must be > 1: kill(0) and kill(-1) would signal our own group or every process.
     * @return false if no process is in that group any more (ESRCH)
     * @throws IllegalStateException on EPERM/EINVAL, which mean a bug rather than a race
     */
    public static boolean signalGroup(int pgid, int signal) {
        if (pgid <= 1) {
            throw new IllegalArgumentException("refusing to signal process group " + pgid);
        }
        return kill(-pgid, signal);
    }

    /**
     * kill(pid, signal). pid must be > 0.
     * @return false if the process does not exist (ESRCH)
     */
    public static boolean signalProcess(int pid, int signal) {
        if (pid <= 0) {
            throw new IllegalArgumentException("refusing to signal pid " + pid);
        }
        return kill(pid, signal);
    }

    /**
     * Whether pid runs: exists and is no zombie. For a process that is not our child (we cannot reap it), whose
     * zombie stays until its own parent reaps it.
     */
    public static boolean running(int pid) {
        if (!signalProcess(pid, 0)) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            int close = stat.lastIndexOf(')');
            return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
        } catch (IOException e) {
            return false;  // gone between the two looks
        }
    }

    private static boolean kill(int target, int signal) {
        POSIX posix = Posix.get();
        if (posix.kill(target, signal) == 0) {
            return true;
        }
        int errno = posix.errno();
        if (errno == Libc.ESRCH) {
            return false;
        }
        throw new IllegalStateException("kill(" + target + ", " + Signals.name(signal) + "): " + posix.strerror(errno));
    }
}
