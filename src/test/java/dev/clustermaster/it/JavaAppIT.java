package dev.clustermaster.it;

import dev.clustermaster.apps.AppJars;
import dev.clustermaster.apps.PlainHttpApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A user's Java application as it is: its own jar, no cluster-master API, run by the packaged CLI. */
class JavaAppIT {
    private static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void anUnmodifiedJarServesOnTheSharedSocket() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), PlainHttpApp.class.getName(), null, PlainHttpApp.class);
        int port = Http.freePort();
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--jar", jar.toString(), "--size", "2",
                "--ready", "grace", "--listen", "tcp://127.0.0.1:" + port, "--repl", "false",
                "--runtime-dir", dir.resolve("run").toString())) {
            m.waitForOutput("all 2 workers ready", T);
            Set<String> workers = new HashSet<>();
            Wait.until("both workers answer through the shared socket", T, () -> {
                String body = Http.tryGet(port, "/");
                if (body != null) {
                    workers.add(body.replaceAll(".*worker (\\d+).*\\s*", "$1"));
                }
                return workers.size() == 2;
            });
            assertEquals(Set.of("1", "2"), workers);
            assertFalse(m.output().contains("ClassNotFoundException"), m.output());
        }
    }

    @Test
    void aMainClassOnTheUsersClassPathRuns() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        int port = Http.freePort();
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--main", PlainHttpApp.class.getName(),
                "--classpath", jar.toString(), "--size", "1", "--ready", "grace", "--listen", "tcp://127.0.0.1:" + port,
                "--repl", "false", "--runtime-dir", dir.resolve("run").toString())) {
            String body = Wait.value("an answer", T, () -> Http.tryGet(port, "/"), b -> b != null);
            assertTrue(body.matches("pid \\d+ worker 1 greeting - restart 0\n"), body);
        }
    }

    @Test
    void aMissingClassOrJarStopsTheMasterAtStartWithExitTwo() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--main", "com.example.Missing",
                "--classpath", jar.toString(), "--repl", "false", "--runtime-dir", dir.resolve("run").toString())) {
            assertEquals(2, m.waitForExit(T), m.output());
            assertTrue(m.output().contains("main: class com.example.Missing not found in " + jar + " (fix --main/--classpath)"),
                    m.output());
        }
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--jar", dir.resolve("gone.jar").toString(),
                "--repl", "false", "--runtime-dir", dir.resolve("run").toString())) {
            assertEquals(2, m.waitForExit(T), m.output());
            assertTrue(m.output().contains("jar: " + dir.resolve("gone.jar") + " does not exist"), m.output());
        }
    }
}
