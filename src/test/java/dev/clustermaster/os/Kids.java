package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/** Test helper: spawns children, waits for them with deadlines, and kills + reaps whatever is left. */
final class Kids implements AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    final ProcessSpawner spawner;
    final Reaper reaper = new Reaper();
    private final List<Integer> live = new ArrayList<>();

    Kids() {
        this(new ProcessSpawner());
    }

    Kids(ProcessSpawner spawner) {
        this.spawner = spawner;
    }

    int spawn(Map<Integer, Integer> fds, String... argv) throws SpawnException {
        int pid = spawner.spawn(List.of(argv), null, fds);
        live.add(pid);
        return pid;
    }

    int spawn(String... argv) throws SpawnException {
        return spawn(Map.of(), argv);
    }

    int sh(String script, Map<Integer, Integer> fds) throws SpawnException {
        return spawn(fds, "sh", "-c", script);
    }

    /** The test reaped pid itself. */
    void forget(int pid) {
        live.remove((Integer) pid);
    }

    /** Polls waitpid until pid ends; fails the test after TIMEOUT. */
    ExitStatus awaitExit(int pid) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            ExitStatus st = reaper.reap(List.of(pid)).get(pid);
            if (st != null) {
                live.remove((Integer) pid);
                return st;
            }
            pause();
        }
        return fail("pid " + pid + " did not exit within " + TIMEOUT);
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            pause();
        }
        fail("timed out waiting for " + what);
    }

    /** True when pid no longer runs: gone from /proc, or a zombie (e.g. reparented to a pid 1 that never reaps). */
    static boolean dead(int pid) {
        Optional<ProcStats.Sample> s = ProcStats.sample(pid);
        return s.isEmpty() || s.get().state() == 'Z';
    }

    /** A "Key:" line of /proc/pid/status, e.g. SigBlk. */
    static String status(int pid, String key) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(key + ":")) {
                return line.substring(key.length() + 1).trim();
            }
        }
        return fail("no " + key + " in /proc/" + pid + "/status");
    }

    static void pause() {
        try {
            Thread.sleep(2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        for (int pid : new ArrayList<>(live)) {
            ProcessGroups.signalGroup(pid, Signals.SIGKILL);
            awaitExit(pid);
        }
    }

    /** /proc/pid/comm, or "" if gone: lets a test wait until the child has exec'ed. */
    static String status0(int pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).trim();
        } catch (Exception e) {
            return "";
        }
    }
}
