package dev.clustermaster.worker;

import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.SpawnFileAction;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Test helper: a child JVM started with posix_spawn, because ProcessBuilder cannot hand a child an fd other than
 * 0-2 (the socketpair end must arrive at a chosen number). Output goes to a log file; close() kills and reaps.
 */
final class ChildJvm implements AutoCloseable {

    private static final POSIX POSIX = POSIXFactory.getNativePOSIX();
    private static final int O_WRONLY_CREAT_TRUNC = 01 | 0100 | 01000;
    private static final int SIGKILL = 9;

    final int pid;
    final Path log;
    private Integer status;

    private ChildJvm(int pid, Path log) {
        this.pid = pid;
        this.log = log;
    }

    /** Runs {@code java -cp <test class path> args...}; {@code fds} maps child fd to the test's fd. */
    static ChildJvm start(List<String> args, Map<String, String> env, Map<Integer, Integer> fds, Path log) {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.add("-Xshare:auto");
        argv.add("-XX:TieredStopAtLevel=1");
        argv.add("-cp");
        argv.add(classPath());
        argv.addAll(args);
        List<String> envp = new ArrayList<>();
        envp.add("PATH=" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.forEach((k, v) -> envp.add(k + "=" + v));
        List<SpawnFileAction> actions = new ArrayList<>();
        actions.add(SpawnFileAction.open(log.toString(), 1, O_WRONLY_CREAT_TRUNC, 0644));
        actions.add(SpawnFileAction.dup(1, 2));
        fds.forEach((child, parent) -> actions.add(SpawnFileAction.dup(parent, child)));
        long pid = POSIX.posix_spawnp(argv.get(0), actions, argv, envp);
        if (pid <= 0) {
            throw new IllegalStateException("posix_spawnp failed: " + POSIX.strerror(POSIX.errno()));
        }
        return new ChildJvm((int) pid, log);
    }

    /** The classpath the test JVM really uses (surefire hides it behind a manifest-only jar otherwise). */
    static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    /** Marks an fd of the test JVM close-on-exec, so the only copy a child gets is the one dup'ed into its fd map. */
    static void closeOnExec(int fd) {
        POSIX.fcntlInt(fd, jnr.constants.platform.Fcntl.F_SETFD, 1 /* FD_CLOEXEC */);
    }

    /**
     * close(2) without the shutdown(2) that jnr's channel close does first: a shutdown would also cut the
     * child's copy of the socket.
     */
    static void closeRaw(int fd) {
        POSIX.close(fd);
    }

    /** Exit status (128+signal when killed), or empty if still running after {@code limit}. */
    OptionalInt awaitExit(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (status == null) {
            int[] raw = new int[1];
            int r = POSIX.waitpid(pid, raw, 1 /* WNOHANG */);
            if (r == pid) {
                int signal = raw[0] & 0x7f;
                status = signal == 0 ? (raw[0] >> 8) & 0xff : 128 + signal;
                break;
            }
            if (System.nanoTime() > deadline) {
                return OptionalInt.empty();
            }
            Thread.sleep(20);
        }
        return OptionalInt.of(status);
    }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    void signal(int signal) {
        if (status == null) {
            POSIX.kill(pid, signal);
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (status == null) {
            signal(SIGKILL);
            awaitExit(Duration.ofSeconds(5));
        }
    }
}
