package dev.clustermaster.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private final ConfigLoader eightCpusNoLimit = new ConfigLoader(OptionalLong::empty, 8);

    private Config load(Path file, Map<String, String> env, Map<String, String> cli) {
        return eightCpusNoLimit.load(file, env, cli).runtimeDir(dir).build();
    }

    @Test
    void commandLineBeatsEnvironmentBeatsFile() throws Exception {
        Path file = dir.resolve("app.conf");
        Files.writeString(file, "exec=python3 -m http.server\nsize=2\nsilent=true\nenv.GREETING=hi\nstop.timeout=20\n");
        Config c = load(file, Map.of("CM_SIZE", "3", "CM_STOP_TIMEOUT", "5s"), Map.of("size", "4"));
        assertEquals(4, c.size());
        assertEquals(5_000, c.policy().stopTimeoutMillis());
        assertTrue(c.silent());
        assertEquals(List.of("python3", "-m", "http.server"), c.workerArgv());
        assertEquals("hi", c.env().get("GREETING"));
        assertFalse(c.policy().requireNotify(), "exec workers default to the grace period");
    }

    @Test
    void aFileSavedWithAByteOrderMarkAndCrLfReadsAsWithout() throws Exception {
        Path file = dir.resolve("app.conf");   // as Notepad saves it: the BOM would make the first key 'U+FEFFname'
        Files.writeString(file, "\uFEFFname=app\r\nexec=sleep 600\r\nsize=2\r\n");
        Config c = load(file, Map.of(), Map.of());
        assertEquals("app", c.name());
        assertEquals(List.of("sleep", "600"), c.workerArgv());
        assertEquals(2, c.size());
    }

    @Test
    void aCommentAfterAValueIsNamedAsTheCause() throws Exception {
        Path file = dir.resolve("app.conf");
        Files.writeString(file, "exec=sleep 600\nstop.timeout=30s # half a minute\n");
        ConfigException e = assertThrows(ConfigException.class, () -> load(file, Map.of(), Map.of()));
        assertTrue(e.getMessage().startsWith("stop.timeout: expected a time span"), e.getMessage());
        assertTrue(e.getMessage().endsWith("got '30s # half a minute' (expected a number at '# half a minute'); in a"
                + " properties file a '#' after a value is part of it: put the comment on a line of its own"), e.getMessage());
    }

    @Test
    void defaultSizeIsCpusClampedByMaxChildProcessesAndMemory() {
        assertEquals(8, load(null, Map.of("CM_EXEC", "sleep"), Map.of()).size());
        assertEquals(3, load(null, Map.of("CM_EXEC", "sleep", "MAX_CHILD_PROCESSES", "3"), Map.of()).size());
        assertEquals(2, load(null, Map.of("CM_EXEC", "sleep", "MAX_CHILD_PROCESSES", "9", "CM_MAX_CHILD_PROCESSES", "2"), Map.of()).size(),
                "CM_MAX_CHILD_PROCESSES wins over MAX_CHILD_PROCESSES");
        ConfigLoader oneGig = new ConfigLoader(() -> OptionalLong.of(1L << 30), 8);
        assertEquals(4, oneGig.load(null, Map.of("CM_EXEC", "sleep", "CM_WORKER_MEMORY", "256M"), Map.of()).runtimeDir(dir).build().size());
        assertEquals(1, DefaultSize.compute(8, OptionalInt.empty(), OptionalLong.of(100L << 20), 512L << 20), "at least one worker");
    }

    @Test
    void mainClassWorkersRunThroughWorkerMain() throws Exception {
        Path jar = dev.clustermaster.apps.AppJars.build(dir.resolve("app.jar"), null, null, dev.clustermaster.apps.PlainHttpApp.class);
        String main = dev.clustermaster.apps.PlainHttpApp.class.getName();
        Config c = load(null, Map.of(), Map.of("main", main, "classpath", jar.toString(), "jvm.args", "-Xmx64m", "args", "--port 1"));
        assertEquals(List.of(c.workerArgv().get(0), "-Xmx64m", "-cp", c.javaLaunch().classpathString(), "dev.clustermaster.worker.WorkerMain",
                main, "--port", "1"), c.workerArgv());
        assertFalse(c.policy().requireNotify(), "a plain main never sends READY=1: grace by default, as for --exec");
    }

    @Test
    void environmentNamesFollowTheKeys() {
        Config c = load(null, Map.of("CM_EXEC", "sleep", "CM_READY_GRACE", "250ms", "CM_WEBSERVER_PORT", "9000",
                "CLUSTER_MASTER_REPL", "false", "CM_LISTEN", "tcp://127.0.0.1:1, unix:/tmp/x.sock"), Map.of());
        assertEquals(250, c.policy().readyGraceMillis());
        assertEquals(9000, c.httpPort());
        assertFalse(c.repl());
        assertEquals(List.of("tcp://127.0.0.1:1", "unix:/tmp/x.sock"), c.listen());
    }

    @Test
    void badValuesGiveMessagesThatNameTheSetting() throws Exception {
        assertEquals("missing worker: give --exec CMD, --main CLASS or --jar JAR (exec=, main=, jar= in a config file)",
                assertThrows(ConfigException.class, () -> load(null, Map.of(), Map.of())).getMessage());
        assertEquals("size: expected a whole number >= 0, got '-1'",
                assertThrows(ConfigException.class, () -> load(null, Map.of(), Map.of("exec", "x", "size", "-1"))).getMessage());
        assertEquals("ready.grace: expected a time span like 500ms, 30s, 2min or 1min 30s (systemd's syntax), got 'soon' "
                + "(expected a number at 'soon')",
                assertThrows(ConfigException.class, () -> load(null, Map.of(), Map.of("exec", "x", "ready.grace", "soon"))).getMessage());
        assertEquals("silent: expected true or false, got 'maybe'",
                assertThrows(ConfigException.class, () -> load(null, Map.of(), Map.of("exec", "x", "silent", "maybe"))).getMessage());
        assertEquals("size 9 exceeds the limit of 4 (MAX_CHILD_PROCESSES)",
                assertThrows(ConfigException.class, () -> load(null, Map.of("MAX_CHILD_PROCESSES", "4"), Map.of("exec", "x", "size", "9"))).getMessage());
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, "exec=sleep\nsise=3\n");
        assertTrue(assertThrows(ConfigException.class, () -> load(file, Map.of(), Map.of())).getMessage()
                .startsWith("unknown setting 'sise' in " + file));
        assertTrue(assertThrows(ConfigException.class, () -> load(dir.resolve("missing.conf"), Map.of(), Map.of())).getMessage()
                .startsWith("cannot read config file"));
    }

    @Test
    void wordsSplitLikeASimpleShellAndJoinBack() {
        assertEquals(List.of("sh", "-c", "echo 'hi there'", "x y"), Words.split("sh -c \"echo 'hi there'\" x\\ y"));
        List<String> tricky = List.of("a b", "it's", "", "\"q\"");
        assertEquals(tricky, Words.split(Words.join(tricky)));
        assertThrows(ConfigException.class, () -> Words.split("'open"));
    }

    @Test
    void durationsAndSizes() {
        assertEquals(1_500, Durations.parseMillis("k", "1.5s"));
        assertEquals(90_000, Durations.parseMillis("k", "90"), "bare numbers are seconds, as in systemd");
        assertEquals(120_000, Durations.parseMillis("k", "2m"));
        assertEquals(512L << 20, Durations.parseBytes("k", "512M"));
        assertEquals(2L << 30, Durations.parseBytes("k", "2GiB"));
        assertThrows(ConfigException.class, () -> Durations.parseBytes("k", "-1"));
    }

    @Test
    void supervisionSettingsHaveDefaultsAndParseFromEveryLayer() throws Exception {
        var p = load(null, Map.of("CM_EXEC", "sleep"), Map.of()).policy();
        assertEquals(5_000, p.probationMillis());
        assertEquals(dev.clustermaster.core.Signal.TERM, p.stopSignal());
        assertEquals(new dev.clustermaster.core.Policy.CrashLoop(5, 300_000), p.crashLoop());
        assertEquals(0, p.watchdogMillis());
        assertNull(p.dumpSignal(), "no thread dump signal for a command");
        assertEquals(dev.clustermaster.core.Policy.Recycling.OFF, p.recycling());
        assertEquals(dev.clustermaster.core.Signal.QUIT, load(null, Map.of("CM_MAIN", ConfigLoaderTest.class.getName()), Map.of()).policy().dumpSignal(), "SIGQUIT for a JVM");

        Path file = dir.resolve("app.conf");
        Files.writeString(file, "exec=sleep\nstop.signal=QUIT\nworker.max-rss=1G\ncrash-loop.failures=0\n");
        var q = load(file, Map.of("CM_WORKER_MAX_AGE", "1h", "CM_PROBATION", "2s", "CM_WORKER_WATCHDOG", "30s"),
                Map.of("crash-loop.window", "10m")).policy();
        assertEquals(dev.clustermaster.core.Signal.QUIT, q.stopSignal());
        assertEquals(1L << 30, q.recycling().maxRssBytes());
        assertEquals(3_600_000, q.recycling().maxAgeMillis());
        assertEquals(2_000, q.probationMillis());
        assertEquals(30_000, q.watchdogMillis());
        assertEquals(new dev.clustermaster.core.Policy.CrashLoop(0, 600_000), q.crashLoop());
        assertEquals(0, load(null, Map.of("CM_EXEC", "sleep", "CM_WORKER_MAX_RSS", "off"), Map.of()).policy().recycling().maxRssBytes());

        ConfigException bad = assertThrows(ConfigException.class, () -> load(null, Map.of("CM_EXEC", "sleep"), Map.of("stop.signal", "TERMINATE")));
        assertEquals("stop.signal: expected a signal name such as TERM, QUIT or INT, got 'TERMINATE'", bad.getMessage());
    }
}
