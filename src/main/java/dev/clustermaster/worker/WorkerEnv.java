package dev.clustermaster.worker;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What the master told a worker through its environment. Parsed from a map so it can be tested without a master.
 *
 * @param childId       slot number, 1-based ({@code CM_CHILD_ID}); 0 when not started by a master
 * @param restartCount  how often this slot was (re)started before ({@code CM_RESTART})
 * @param masterPid     pid of the master ({@code CM_MASTER_PID}), 0 when unknown
 * @param workerId      unique id of this incarnation ({@code CM_WORKER_ID}), empty when unknown
 * @param notifySocket  datagram socket for READY=1 ({@code NOTIFY_SOCKET}), empty when unset
 * @param ipcFd         fd of the worker end of the IPC socketpair ({@code CM_IPC_FD}), -1 when unset
 * @param listenFds     listening sockets at fds 3.. ({@code LISTEN_FDS}), 0 when none
 * @param listenFdNames names of those sockets ({@code LISTEN_FDNAMES}, colon separated)
 * @param watchdogUsec  once the worker sent WATCHDOG=1 it must repeat it within this ({@code WATCHDOG_USEC}); 0: no watchdog
 * @param logLevel      log level the master was set to at runtime ({@code CM_LOG_LEVEL}: TRACE..ERROR, OFF), empty when none
 * @param ipcInFd       JVM workers: the pipe the worker reads IPC frames from ({@code CM_IPC_IN_FD}), -1 when unset
 * @param ipcOutFd      JVM workers: the pipe the worker writes IPC frames to ({@code CM_IPC_OUT_FD}), -1 when unset
 */
public record WorkerEnv(int childId, int restartCount, long masterPid, String workerId, String notifySocket,
                        int ipcFd, int listenFds, List<String> listenFdNames, long watchdogUsec, String logLevel,
                        int ipcInFd, int ipcOutFd) {

    public static final String CHILD_ID = "CM_CHILD_ID";
    public static final String RESTART = "CM_RESTART";
    public static final String MASTER_PID = "CM_MASTER_PID";
    public static final String WORKER_ID = "CM_WORKER_ID";
    public static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";
    public static final String IPC_FD = "CM_IPC_FD";
    public static final String IPC_IN_FD = "CM_IPC_IN_FD";
    public static final String IPC_OUT_FD = "CM_IPC_OUT_FD";
    public static final String LISTEN_FDS = "LISTEN_FDS";
    public static final String LISTEN_FDNAMES = "LISTEN_FDNAMES";
    public static final String WATCHDOG_USEC = "WATCHDOG_USEC";
    public static final String LOG_LEVEL = "CM_LOG_LEVEL";
    /** "1" in a warm spare: the worker API holds its listener until the master promotes it (PROMOTE frame). */
    public static final String SPARE = "CM_SPARE";

    public WorkerEnv {
        listenFdNames = List.copyOf(listenFdNames);
    }

    public WorkerEnv(int childId, int restartCount, long masterPid, String workerId, String notifySocket,
                     int ipcFd, int listenFds, List<String> listenFdNames) {
        this(childId, restartCount, masterPid, workerId, notifySocket, ipcFd, listenFds, listenFdNames, 0, "", -1, -1);
    }

    /** Garbage in a variable counts as unset: a worker must start even when run by hand with a stray env. */
    public static WorkerEnv from(Map<String, String> env) {
        String names = env.getOrDefault(LISTEN_FDNAMES, "");
        return new WorkerEnv(
                (int) number(env, CHILD_ID, 0),
                (int) number(env, RESTART, 0),
                number(env, MASTER_PID, 0),
                env.getOrDefault(WORKER_ID, "").trim(),
                env.getOrDefault(NOTIFY_SOCKET, "").trim(),
                (int) number(env, IPC_FD, -1),
                (int) number(env, LISTEN_FDS, 0),
                names.isEmpty() ? List.of() : Arrays.asList(names.split(":", -1)),
                number(env, WATCHDOG_USEC, 0),
                env.getOrDefault(LOG_LEVEL, "").trim(),
                (int) number(env, IPC_IN_FD, -1),
                (int) number(env, IPC_OUT_FD, -1));
    }

    public static WorkerEnv current() {
        return from(System.getenv());
    }

    /** The master gave this JVM an IPC pipe pair (frames both ways, sd_notify states as NOTIFY frames). */
    public boolean ipcPipes() {
        return ipcInFd >= 0 && ipcOutFd >= 0;
    }

    public boolean underMaster() {
        return childId > 0;
    }

    private static long number(Map<String, String> env, String key, long fallback) {
        String v = env.get(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v.trim());
            return n < 0 ? fallback : n;
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
