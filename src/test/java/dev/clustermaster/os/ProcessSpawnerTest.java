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
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
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
    void unmappedFdsDoNotLeakWithCloexecSweep() throws Exception {
        try (Kids fallback = new Kids(new ProcessSpawner(false))) {
            assertNoLeak(fallback);
        }
    }

    private static void assertNoLeak(Kids k) throws Exception {
        try (Pipe mapped = Pipe.open(); Pipe other = Pipe.open()) {
            int leaky = Posix.get().dup(other.readFd());   // dup(2) never sets FD_CLOEXEC
            try {
                assertFalse(Libc.isCloexec(leaky), "precondition: an inheritable fd");
                int pid = k.spawn(Map.of(3, mapped.writeFd()), "sleep", "100");
                Kids.await("exec", () -> Kids.status0(pid).contains("sleep"));
                Set<Integer> fds = childFds(pid);
                assertEquals(new TreeSet<>(Set.of(0, 1, 2, 3)), fds, "child fds");
                assertEquals(link(-1, mapped.writeFd()), link(pid, 3));
            } finally {
                Libc.closeQuietly(leaky);
            }
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
