package dev.clustermaster.it;

import dev.clustermaster.os.Posix;
import dev.clustermaster.os.ProcStats;
import dev.clustermaster.os.Signals;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12 item 4: stray signals do not knock the master over, and its own signals work even when the parent
 * ignored them at start (nohup, a non-interactive shell's {@code &}).
 */
class SignalsIT {
    private static final Duration T = Duration.ofSeconds(60);
    private static final int HUP = 1, INT = 2, KILL = 9, TERM = 15, STOP = 19, TTIN = 21, TTOU = 22;
    /** What the master acts on: checked for their effect, not sent as strays. */
    private static final Set<Integer> USED = Set.of(HUP, INT, TERM, TTIN, TTOU);
    /**
     * HotSpot's own fault signals: it needs them (implicit null checks, safepoint polls, mapped-file errors) and
     * treats one it did not cause as a crash; no JVM can ignore them (see os/StraySignals).
     */
    private static final Set<Integer> HOTSPOT_FAULTS = Set.of(4 /* ILL */, 7 /* BUS */, 8 /* FPE */, 11 /* SEGV */);
    /** Signals whose handling logs a line: the test awaits it before the next one. */
    private static final Set<String> LOGGED = Set.of("USR1", "USR2", "ALRM", "TRAP", "ABRT", "STKFLT", "TSTP", "XCPU",
            "VTALRM", "PROF", "IO", "PWR", "SYS");

    @TempDir
    Path dir;

    @ParameterizedTest(name = "started by {0}")
    @ValueSource(strings = {"java", "launcher"})
    void everyStraySignalIsSurvivedUnderLoadAndTheMastersOwnSignalsStillWork(String how) throws Exception {
        int port = freePort();
        String[] args = {"--main", "dev.clustermaster.demo.DemoHttpWorker", "--size", "2",
            "--listen", "tcp://127.0.0.1:" + port, "--runtime-dir", dir.resolve("run").toString(),
            "--repl", "false", "--stop-timeout", "10s"};
        List<String> env = List.of("CM_LOG_JOURNAL=off", "JOURNAL_STREAM=");
        try (MasterProcess m = how.equals("java") ? MasterProcess.start(dir, env, args)
                : MasterProcess.startWithLauncher(dir, env, args)) {
            m.waitForOutput("all 2 workers ready", T);
            try (HttpLoad load = new HttpLoad(port, 2)) {
                Wait.until("answers", T, () -> load.ok() >= 20);
                Set<Integer> workers = new HashSet<>(m.workers());
                assertEquals(2, workers.size(), m.output());
                List<String> sent = new ArrayList<>();
                for (int sig = 1; sig <= 31; sig++) {
                    if (sig == KILL || sig == STOP || USED.contains(sig) || HOTSPOT_FAULTS.contains(sig)) {
                        continue;
                    }
                    String name = Signals.shortName(Integer.toString(sig));
                    assertEquals(0, Posix.get().kill(m.pid(), sig), name);
                    sent.add(name);
                    if (LOGGED.contains(name)) {
                        Wait.until("SIG" + name + " logged or the master dead", T,
                                () -> m.output().contains("ignored SIG" + name + ":") || !m.process.isAlive());
                    }
                    assertTrue(m.process.isAlive(), "the master died of SIG" + name + ":\n" + tail(m));
                    char state = ProcStats.sample(m.pid()).map(ProcStats.Sample::state).orElse('?');
                    assertTrue(state != 'T', "the master was stopped by SIG" + name);
                }
                // one more logged round trip: every signal sent before it was delivered by then
                assertEquals(0, Posix.get().kill(m.pid(), Signals.SIGUSR1));
                Wait.until("the second SIGUSR1 logged", T, () -> count(m.output(), "ignored SIGUSR1:") == 2);
                assertTrue(m.process.isAlive(), tail(m));
                assertEquals(workers, new HashSet<>(m.workers()), "the workers survived " + sent);
                long okBefore = load.ok();
                Wait.until("more answers", T, () -> load.ok() >= okBefore + 20);

                // the master's own signals still do their job
                assertEquals(0, Posix.get().kill(m.pid(), HUP));
                m.waitForOutput("rolling restart done", T);
                workers.forEach(pid -> Wait.until("old worker " + pid + " replaced", T, () -> !m.workers().contains(pid)));
                assertEquals(0, Posix.get().kill(m.pid(), TTIN));
                Wait.until("3 workers", T, () -> m.workers().size() == 3);
                assertEquals(0, Posix.get().kill(m.pid(), TTOU));
                Wait.until("2 workers", T, () -> m.workers().size() == 2);
                load.close();
                assertEquals(0, load.failed(), load.failureReport());
                assertEquals(0, Posix.get().kill(m.pid(), TERM));
                assertEquals(0, m.waitForExit(T), tail(m));
                System.out.printf("SignalsIT (%s): survived %s under load (%s)%n", how, sent, load.failureReport());
            }
        }
    }

    @Test
    void underNohupHangupStillReloads() throws Exception {
        try (MasterProcess m = MasterProcess.startWrapped(dir, List.of(), List.of("nohup"), false, sleepers())) {
            m.waitForOutput("all 2 workers ready", T);
            assertHangupReloads(m);
            assertEquals(0, Posix.get().kill(m.pid(), TERM));
            assertEquals(0, m.waitForExit(T), tail(m));
        }
    }

    @Test
    void asABackgroundJobOfAScriptInterruptAndHangupStillWork() throws Exception {
        // a non-interactive shell starts '&' jobs with SIGINT (and SIGQUIT) ignored
        List<String> sh = List.of("/bin/sh", "-c", "\"$@\" & wait $!", "sh");
        try (MasterProcess m = MasterProcess.startWrapped(dir, List.of(), sh, true, sleepers())) {
            m.waitForOutput("all 2 workers ready", T);
            assertHangupReloads(m);
            int master = m.pid();
            List<Integer> workers = m.workers();
            assertEquals(0, Posix.get().kill(master, INT));
            m.waitForOutput("graceful quit", T);
            assertEquals(0, m.waitForExit(T), tail(m));
            workers.forEach(pid -> Wait.until("worker " + pid + " gone", T, () -> !Procs.alive(pid)));
        }
    }

    private String[] sleepers() {
        return new String[]{"--exec", "sleep", "--size", "2", "--ready-grace", "200ms", "--stop-timeout", "3s",
            "--repl", "false", "--runtime-dir", dir.resolve("run").toString(), "--", "600"};
    }

    private static void assertHangupReloads(MasterProcess m) {
        Set<Integer> before = new HashSet<>(m.workers());
        assertEquals(2, before.size(), m.output());
        assertEquals(0, Posix.get().kill(m.pid(), HUP));
        m.waitForOutput("rolling restart done", T);
        Wait.until("2 new workers", T, () -> {
            List<Integer> now = m.workers();
            return now.size() == 2 && now.stream().noneMatch(before::contains);
        });
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    /** The log without thread dumps (SIGQUIT prints one). */
    private static String tail(MasterProcess m) {
        String[] lines = m.output().split("\n");
        StringBuilder b = new StringBuilder();
        for (int i = Math.max(0, lines.length - 40); i < lines.length; i++) {
            b.append(lines[i]).append('\n');
        }
        return b.toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
