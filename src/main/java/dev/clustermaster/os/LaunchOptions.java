package dev.clustermaster.os;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How to start one worker: its command, complete environment and descriptors, and the trampolines this edge puts
 * in front of the command. {@link ProcessSpawner#spawn(LaunchOptions)} turns it into a process.
 *
 * @param command            the worker's own argv
 * @param env                the child's complete environment
 * @param fds                target fd in the child -> fd in the master to put there
 * @param parentDeathSignal  the worker hears SIGTERM if the master dies, even by kill -9 (setpriv; survives exec)
 * @param listenPidFromShell a shell sets LISTEN_PID to the child's own pid, then execs the command
 */
public record LaunchOptions(List<String> command, Map<String, String> env, Map<Integer, Integer> fds,
                            boolean parentDeathSignal, boolean listenPidFromShell) {

    private static final String SETPRIV = "/usr/bin/setpriv";

    /** systemd's per-service variables (and the master's own IPC fd) describe the master, never its workers. */
    public static final Set<String> MASTER_ONLY_ENV = Set.of("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
            "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID", "CM_IPC_FD");

    public LaunchOptions {
        command = List.copyOf(command);
    }

    /** Whether {@code parentDeathSignal} can be had here (util-linux's setpriv is installed). */
    public static boolean parentDeathSignalAvailable() {
        return Files.isExecutable(Path.of(SETPRIV));
    }

    /** The command behind its trampolines. */
    public List<String> argv() {
        List<String> argv = new ArrayList<>();
        if (parentDeathSignal) {
            argv.addAll(List.of(SETPRIV, "--pdeathsig", "TERM", "--"));
        }
        if (listenPidFromShell) {
            // sd_listen_fds() wants LISTEN_PID == its own pid, which only the child knows: a shell sets it, then execs
            argv.addAll(List.of("/bin/sh", "-c", "LISTEN_PID=$$; export LISTEN_PID; exec \"$@\"", "cluster-master-worker"));
        }
        argv.addAll(command);
        return argv;
    }
}
