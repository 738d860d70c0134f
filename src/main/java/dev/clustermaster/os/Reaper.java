package dev.clustermaster.os;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects exit statuses of our own children, one pid at a time. Never waitpid(-1): the JVM (ProcessBuilder's
 * reaper) and other libraries own children too, and stealing their statuses breaks them.
 */
public final class Reaper {
    private static final Logger log = LoggerFactory.getLogger(Reaper.class);
    private static final AtomicBoolean warnedEchild = new AtomicBoolean();

    /** Blocking waitpid for a child that is about to end (a launcher shell); UNKNOWN if it is no child of ours. */
    public ExitStatus await(int pid) {
        if (pid <= 0) {
            throw new IllegalArgumentException("refusing to waitpid(" + pid + ")");
        }
        int[] status = new int[1];
        while (true) {
            int rc = Libc.api().waitpid(pid, status, 0);
            if (rc == pid) {
                return ExitStatus.fromWaitStatus(status[0]);
            }
            if (Libc.errno() != Libc.EINTR) {
                return ExitStatus.UNKNOWN;
            }
        }
    }

    /** Non-blocking waitpid for each pid; returns only those that ended, with how they ended. */
    public Map<Integer, ExitStatus> reap(Collection<Integer> pids) {
        Map<Integer, ExitStatus> done = new LinkedHashMap<>();
        int[] status = new int[1];
        for (Integer pid : pids) {
            if (pid == null || pid <= 0) {
                throw new IllegalArgumentException("refusing to waitpid(" + pid + ")");
            }
            while (true) {
                status[0] = 0;
                int rc = Libc.api().waitpid(pid, status, Libc.WNOHANG);
                if (rc == pid) {
                    done.put(pid, ExitStatus.fromWaitStatus(status[0]));
                    break;
                }
                if (rc == 0) {
                    break;  // still running
                }
                int errno = Libc.errno();
                if (errno == Libc.EINTR) {
                    continue;
                }
                if (errno == Libc.ECHILD) {
                    // Someone else reaped it (or SIGCHLD is SIG_IGN, which makes the kernel auto-reap).
                    if (warnedEchild.compareAndSet(false, true)) {
                        log.warn("pid {} is not our child any more (ECHILD): treating it as exited with unknown "
                                + "status; is something else calling waitpid(-1) or ignoring SIGCHLD?", pid);
                    } else {
                        log.debug("pid {}: ECHILD, exited with unknown status", pid);
                    }
                    done.put(pid, ExitStatus.UNKNOWN);
                } else {
                    log.warn("waitpid({}): {}", pid, Libc.strerror(errno));
                }
                break;
            }
        }
        return done;
    }
}
