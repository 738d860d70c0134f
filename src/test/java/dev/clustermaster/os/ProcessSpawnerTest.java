package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sun.misc.Signal;
import sun.misc.SignalHandler;

class ProcessSpawnerTest {
    private final Kids kids = new Kids();

    @AfterEach
    void cleanup() {
        kids.close();
    }

    /** Runs a child whose fd 3 is a pipe and returns everything it wrote there, line by line. */
    private List<String> outputOf(String script) throws Exception {
        try (Pipe pipe = Pipe.open()) {
            int pid = kids.sh(script, Map.of(3, pipe.writeFd()));
            pipe.closeWriteEnd();
            List<String> lines = new CopyOnWriteArrayList<>();
            CountDownLatch eof = new CountDownLatch(1);
            LinePump.start(pipe.detachReadFd(), "test-pump", lines::add, eof::countDown);
            assertTrue(eof.await(5, TimeUnit.SECONDS), "EOF from child");
            assertTrue(kids.awaitExit(pid).success());
            return lines;
        }
    }

    @Test
    void childLeadsItsOwnProcessGroup() throws Exception {
        int pid = kids.spawn("sleep", "100");
        assertEquals(pid, ProcStats.processGroupOf(pid).getAsInt());
        assertEquals(ProcessHandle.current().pid(), ProcStats.parentOf(pid).getAsInt());
    }

    @Test
    void killingTheGroupKillsGrandchildren() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            int pid = kids.sh("sleep 100 & echo $! >&3; wait", Map.of(3, pipe.writeFd()));
            pipe.closeWriteEnd();
            List<String> lines = new CopyOnWriteArrayList<>();
            LinePump.start(pipe.detachReadFd(), "grandchild-pid", lines::add, () -> { });
            Kids.await("grandchild pid", () -> !lines.isEmpty());
            int grandchild = Integer.parseInt(lines.get(0).trim());
            assertEquals(pid, ProcStats.processGroupOf(grandchild).getAsInt(), "grandchild in the child's group");
            assertFalse(Kids.dead(grandchild));

            assertTrue(ProcessGroups.signalGroup(pid, Signals.SIGTERM));
            assertEquals(new ExitStatus(-1, Signals.SIGTERM), kids.awaitExit(pid));
            Kids.await("grandchild death", () -> Kids.dead(grandchild));
        }
    }

    @Test
    void exitCodesAndSignalsAreDecoded() throws Exception {
        int exits = kids.sh("exit 7", Map.of());
        ExitStatus st = kids.awaitExit(exits);
        assertEquals(7, st.exitCode());
        assertEquals("exit 7", st.describe());

        int killed = kids.spawn("sleep", "100");
        assertTrue(ProcessGroups.signalProcess(killed, Signals.SIGKILL));
        assertEquals("killed by SIGKILL", kids.awaitExit(killed).describe());

        assertTrue(kids.awaitExit(kids.spawn("true")).success());
    }

    @Test
    void childGetsEmptyMaskAndDefaultDispositionsEvenIfTheJvmIgnoresASignal() throws Exception {
        // Ignored dispositions survive exec; without SETSIGDEF the child would ignore SIGTTIN too.
        SignalHandler old = Signal.handle(new Signal("TTIN"), SignalHandler.SIG_IGN);
        int pid;
        try {
            assertEquals(1L << (Signals.SIGTTIN - 1), Long.parseLong(Kids.status((int) ProcessHandle.current().pid(),
                    "SigIgn"), 16) & (1L << (Signals.SIGTTIN - 1)), "JVM really ignores SIGTTIN now");
            pid = kids.spawn("sleep", "100");
        } finally {
            Signal.handle(new Signal("TTIN"), old);
        }
        Kids.await("exec of sleep", () -> {
            try {
                return Files.readString(Path.of("/proc/" + pid + "/comm")).trim().equals("sleep");
            } catch (Exception e) {
                return false;
            }
        });
        assertEquals(0L, Long.parseLong(Kids.status(pid, "SigBlk"), 16), "blocked signals");
        assertEquals(0L, Long.parseLong(Kids.status(pid, "SigIgn"), 16), "ignored signals");
    }

    @Test
    void termIntAndHupKillAChildByDefault() throws Exception {
        for (int sig : new int[] {Signals.SIGTERM, Signals.SIGINT, Signals.SIGHUP}) {
            int pid = kids.spawn("sleep", "100");
            Kids.await("exec", () -> ProcStats.sample(pid).map(s -> s.state() == 'S').orElse(false));
            assertTrue(ProcessGroups.signalProcess(pid, sig));
            assertEquals(new ExitStatus(-1, sig), kids.awaitExit(pid), Signals.name(sig));
        }
    }

    @Test
    void fdsInTheMapArriveAndEnvIsPassed() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            int pid = kids.spawner.spawn(List.of("sh", "-c", "echo \"hello $FOO\" >&3"),
                    Map.of("FOO", "bar", "PATH", System.getenv("PATH")), Map.of(3, pipe.writeFd()));
            pipe.closeWriteEnd();
            List<String> lines = new CopyOnWriteArrayList<>();
            CountDownLatch eof = new CountDownLatch(1);
            LinePump.start(pipe.detachReadFd(), "env-pump", lines::add, eof::countDown);
            assertTrue(eof.await(5, TimeUnit.SECONDS));
            assertEquals(List.of("hello bar"), lines);
            assertTrue(kids.awaitExit(pid).success());
        }
    }

    @Test
    void childReadsAPipeOnStdin() throws Exception {
        try (Pipe in = Pipe.open(); Pipe out = Pipe.open()) {
            int pid = kids.sh("read l; echo \"got $l\" >&3", Map.of(0, in.readFd(), 3, out.writeFd()));
            out.closeWriteEnd();
            byte[] msg = "ping\n".getBytes();
            assertEquals(msg.length, Posix.get().write(in.writeFd(), msg, msg.length));
            in.closeWriteEnd();
            List<String> lines = new CopyOnWriteArrayList<>();
            CountDownLatch eof = new CountDownLatch(1);
            LinePump.start(out.detachReadFd(), "stdin-pump", lines::add, eof::countDown);
            assertTrue(eof.await(5, TimeUnit.SECONDS));
            assertEquals(List.of("got ping"), lines);
            assertTrue(kids.awaitExit(pid).success());
        }
    }

    @Test
    void sameFdAndSwappedFdsArrive() throws Exception {
        try (Pipe a = Pipe.open(); Pipe b = Pipe.open()) {
            int wa = a.writeFd();
            int wb = b.writeFd();
            // target == source for wa; plus a swap of the two write ends in the child
            int same = kids.spawn(Map.of(wa, wa), "sleep", "100");
            int swapped = kids.spawn(Map.of(wa, wb, wb, wa), "sleep", "100");
            Kids.await("exec", () -> Kids.status0(same).contains("sleep") && Kids.status0(swapped).contains("sleep"));
            assertEquals(link(-1, wa), link(same, wa));
            assertEquals(link(-1, wb), link(swapped, wa));
            assertEquals(link(-1, wa), link(swapped, wb));
        }
    }

    @Test
    void unmappedFdsDoNotLeakWithCloseFrom() throws Exception {
        assertNoLeak(kids);
    }

    @Test
    void unmappedFdsDoNotLeakWithTheFallback() throws Exception {
        try (Kids fallback = new Kids(new ProcessSpawner(false))) {
            assertNoLeak(fallback);
        }
    }

    private static void assertNoLeak(Kids k) throws Exception {
        try (Pipe mapped = Pipe.open(); Pipe other = Pipe.open()) {
            int leaky = Posix.get().dup(other.readFd());   // dup(2) never sets FD_CLOEXEC
            try {
                assertFalse(Libc.isCloexec(leaky), "precondition: an inheritable fd");
                assertEquals(new TreeSet<>(Set.of(0, 1, 2, 5)), fdsOfChild(k, 5, mapped.writeFd()), "child fds");
            } finally {
                Libc.closeQuietly(leaky);
            }
        }
    }

    /**
     * The fallback closes fds that are not open (gaps, and everything above the highest open fd): glibc's spawn
     * helper must ignore EBADF for those, or every fallback spawn would fail.
     */
    @Test
    void closeActionOnAnFdThatIsNotOpenDoesNotFailTheSpawn() throws Exception {
        int notOpen = ProcessSpawner.fallbackCloseEnd();
        assertEquals(-1, Libc.api().fcntl(notOpen, Libc.F_GETFD, 0));
        assertEquals(Libc.EBADF, Libc.errno(), "precondition: fd " + notOpen + " is not open");
        Libc.Api c = Libc.api();
        jnr.ffi.Pointer fa = Libc.alloc(Libc.FILE_ACTIONS_SIZE);
        assertEquals(0, c.posix_spawn_file_actions_init(fa));
        try {
            assertEquals(0, c.posix_spawn_file_actions_addclose(fa, notOpen));
            jnr.ffi.Pointer argv = Libc.alloc(2 * Libc.runtime().addressSize());
            jnr.ffi.Pointer arg0 = Libc.alloc(8);
            arg0.putString(0, "true", 8, java.nio.charset.StandardCharsets.US_ASCII);
            argv.putAddress(0, arg0.address());
            jnr.ffi.byref.IntByReference pid = new jnr.ffi.byref.IntByReference();
            assertEquals(0, c.posix_spawnp(pid, "true", fa, null, argv, argv.slice(Libc.runtime().addressSize())),
                    "posix_spawnp with a close action on fd " + notOpen);
            java.lang.ref.Reference.reachabilityFence(arg0);
            assertTrue(kids.awaitExit(pid.intValue()).success());
        } finally {
            c.posix_spawn_file_actions_destroy(fa);
        }
    }

    /**
     * Other threads keep opening inheritable fds (dup(2), as the JDK's own file and socket code does) while the
     * fallback spawns: a fd opened between computing the close range and posix_spawn must not reach the child.
     */
    @Test
    @Timeout(300)
    void fallbackLeaksNoFdOpenedConcurrentlyByOtherThreads() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger opened = new AtomicInteger();
        List<Thread> openers = new ArrayList<>();
        try (Kids fallback = new Kids(new ProcessSpawner(false)); Pipe base = Pipe.open(); Pipe mapped = Pipe.open()) {
            for (int t = 0; t < 3; t++) {
                Thread opener = new Thread(() -> {
                    java.util.ArrayDeque<Integer> mine = new java.util.ArrayDeque<>();
                    java.util.Random rnd = new java.util.Random();
                    while (!stop.get()) {
                        int fd = Posix.get().dup(base.readFd());
                        if (fd >= 0) {
                            mine.add(fd);
                            opened.incrementAndGet();
                        }
                        // Keep a few dozen open and churn them, so new fds land in gaps and just above the top.
                        while (mine.size() > 8 + rnd.nextInt(40)) {
                            Libc.closeQuietly(mine.poll());
                        }
                        if (opened.get() % 4 == 0) {
                            LockSupport.parkNanos(20_000);  // leave CPU to the spawns on a loaded 2-core box
                        }
                    }
                    mine.forEach(Libc::closeQuietly);
                }, "fd-opener-" + t);
                opener.setDaemon(true);
                openers.add(opener);
                opener.start();
            }
            Kids.await("openers running", () -> opened.get() > 1000);
            for (int i = 0; i < 1000; i++) {
                Set<Integer> fds = fdsOfChild(fallback, 5, mapped.writeFd());
                assertEquals(new TreeSet<>(Set.of(0, 1, 2, 5)), fds, "child fds in spawn " + i);
            }
            assertTrue(opened.get() > 3000, "fds opened meanwhile: " + opened.get());
        } finally {
            stop.set(true);
            for (Thread t : openers) {
                t.join(10_000);
            }
        }
    }

    /**
     * Spawns sh with fd 1 = a report pipe, fd 0 = a pipe we hold, and target = source; waits until the shell has
     * started (it writes a line and blocks reading stdin: its fd table no longer changes, unlike a freshly exec'd
     * program whose loader still opens libraries), lists /proc/pid/fd, then lets it exit.
     */
    private static Set<Integer> fdsOfChild(Kids k, int target, int source) throws Exception {
        try (Pipe report = Pipe.open(); Pipe hold = Pipe.open()) {
            int pid = k.sh("echo up; read x; exit 0", Map.of(0, hold.readFd(), 1, report.writeFd(), target, source));
            report.closeWriteEnd();
            byte[] buf = new byte[16];
            long n = Libc.api().read(report.readFd(), buf, buf.length);
            assertTrue(n > 0, "child " + pid + " reported nothing");
            Set<Integer> fds = childFds(pid);
            assertEquals(link(-1, source), link(pid, target), "mapped fd " + target);
            hold.closeWriteEnd();
            assertTrue(k.awaitExit(pid).success());
            return fds;
        }
    }

    @Test
    void missingCommandThrowsSpawnExceptionWithErrnoText() {
        SpawnException e = assertThrows(SpawnException.class,
                () -> kids.spawn("no-such-command-cm-test"));
        assertEquals("cannot spawn no-such-command-cm-test: No such file or directory", e.getMessage());
        assertEquals(Libc.ENOENT, e.errno());
        assertThrows(SpawnException.class, () -> kids.spawner.spawn(List.of(), null, null));
        assertThrows(SpawnException.class, () -> kids.spawn(Map.of(3, 100_000), "true"));
        assertThrows(SpawnException.class, () -> kids.spawn("echo", "nul\0byte"));
        assertThrows(SpawnException.class, () -> kids.spawner.spawn(List.of("true"), Map.of("A=B", "c"), null));
    }

    @Test
    void manySpawnExitReapCyclesLeaveNoZombies() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        List<Integer> batch = new ArrayList<>();
        Set<Integer> all = new TreeSet<>();
        for (int i = 0; i < 200; i++) {
            int pid = kids.spawn("true");
            batch.add(pid);
            all.add(pid);
            if (batch.size() == 20) {
                for (int b : batch) {
                    assertTrue(kids.awaitExit(b).success());
                }
                batch.clear();
            }
        }
        // Only our own pids: a zombie left by some other test class in this JVM is not this test's business.
        List<Integer> zombies = ProcStats.zombieChildrenOf(self);
        assertEquals(List.of(), zombies.stream().filter(all::contains).collect(Collectors.toList()));
    }

    private static Set<Integer> childFds(int pid) throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.map(p -> Integer.parseInt(p.getFileName().toString())).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    /** readlink of /proc/pid/fd/fd ("pipe:[123]"); pid -1 means this process. */
    private static String link(int pid, int fd) throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/" + (pid < 0 ? "self" : pid) + "/fd/" + fd)).toString();
    }
}
