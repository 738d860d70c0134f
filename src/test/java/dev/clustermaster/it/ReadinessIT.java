package dev.clustermaster.it;

import dev.clustermaster.apps.AppJars;
import dev.clustermaster.apps.PlainHttpApp;
import dev.clustermaster.os.Posix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Readiness of an unmodified app (no READY=1): a line of its output, or a probe of its own port. The app starts
 * slowly (2.5 s), so a grace period of 1 s would call it ready long before it serves.
 */
class ReadinessIT {
    private static final Duration T = Duration.ofSeconds(90);
    private static final int HUP = 1;

    @TempDir
    Path dir;

    private Path appJar() throws IOException {
        return AppJars.build(dir.resolve("app.jar"), PlainHttpApp.class.getName(), null, PlainHttpApp.class);
    }

    @Test
    void aMatchingOutputLineMakesAWorkerReadyAndTheOutputIsForwarded() throws Exception {
        int port = Http.freePort();
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--jar", appJar().toString(), "--size", "2",
                "--ready", "log:PlainHttpApp started in \\d+ ms", "--env", "APP_STARTUP_DELAY_MS=2500",
                "--listen", "tcp://127.0.0.1:" + port, "--repl", "false", "--runtime-dir", dir.resolve("run").toString())) {
            m.waitForOutput("all 2 workers ready", T);
            String log = m.output();
            for (int slot = 1; slot <= 2; slot++) {
                int line = log.indexOf("[" + slot + "] PlainHttpApp started in ");
                Matcher ready = Pattern.compile("worker " + slot + " \\(pid \\d+\\) ready").matcher(log);
                assertTrue(line >= 0, "the worker's output reaches the master's log without --silent:\n" + log);
                assertTrue(ready.find() && ready.start() > line, "ready only after the line:\n" + log);
            }
            assertTrue(Http.get(port, "/").contains("worker"));
        }
    }

    @Test
    void aWorkerWhoseLineNeverComesFailsAfterTheReadyTimeout() throws Exception {
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--jar", appJar().toString(), "--size", "1",
                "--ready", "log:this never appears", "--ready-timeout", "3s", "--listen", "tcp://127.0.0.1:0",
                "--repl", "false", "--runtime-dir", dir.resolve("run").toString())) {
            m.waitForOutput("not ready after", T);
            assertFalse(m.output().contains("all 1 workers ready"), m.output());
        }
    }

    @Test
    void anHttpProbeOfEachWorkersOwnPortGatesReadinessAndRollingRestarts() throws Exception {
        int base = Http.freePorts(4);
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--jar", appJar().toString(), "--size", "2",
                "--port-base", Integer.toString(base), "--ready", "http://127.0.0.1:$PORT/",
                "--env", "APP_STARTUP_DELAY_MS=2500", "--repl", "false", "--runtime-dir", dir.resolve("run").toString())) {
            m.waitForOutput("all 2 workers ready", T);
            // no retry: "ready" means serving
            assertTrue(Http.get(base, "/").contains("worker 1"), "slot 1 on port.base");
            assertTrue(Http.get(base + 1, "/").contains("worker 2"), "slot 2 on port.base + 1");
            Set<Integer> old = new HashSet<>(m.workers());
            assertEquals(0, Posix.get().kill(m.pid(), HUP));
            m.waitForOutput("rolling restart done", T);
            old.forEach(pid -> Wait.until("old worker " + pid + " exits", T, () -> !Procs.alive(pid)));
            List<Integer> serving = new ArrayList<>();
            for (int p = base; p < base + 4; p++) {
                String body = Http.tryGet(p, "/");
                if (body != null) {
                    serving.add(p);
                    assertTrue(body.contains("restart 1"), "a new worker on " + p + ": " + body);
                }
            }
            assertEquals(2, serving.size(), "two new workers within port.base .. +3: " + serving + "\n" + m.output());
            assertFalse(m.output().contains("BindException"), m.output());
        }
    }

    @Test
    void aPortBasePortThatAnotherProcessHoldsIsSkipped() throws Exception {
        int base = Http.freePorts(3);
        // a neighbour's server on port.base: its worker would crash-loop on "address in use" while the probe asked the neighbour
        try (java.net.ServerSocket neighbour = new java.net.ServerSocket(base, 50, java.net.InetAddress.getLoopbackAddress());
             MasterProcess m = MasterProcess.start(dir, List.of(), "--jar", appJar().toString(), "--size", "1",
                "--port-base", Integer.toString(base), "--ready", "http://127.0.0.1:$PORT/",
                "--repl", "false", "--runtime-dir", dir.resolve("run").toString())) {
            m.waitForOutput("all 1 workers ready", T);
            assertTrue(Http.get(base + 1, "/").contains("worker 1"), m.output());
            assertTrue(m.output().contains("port.base: port " + base + " is held by another process"), m.output());
            assertFalse(m.output().contains("BindException"), m.output());
        }
    }

}
