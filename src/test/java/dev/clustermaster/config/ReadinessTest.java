package dev.clustermaster.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReadinessTest {
    @TempDir
    Path dir;

    private Config load(Map<String, String> cli) {
        Map<String, String> s = new HashMap<>(cli);
        s.putIfAbsent("exec", "sleep 60");
        return new ConfigLoader(OptionalLong::empty, 2).load(null, Map.of(), s).runtimeDir(dir).build();
    }

    private String error(Map<String, String> cli) {
        return assertThrows(ConfigException.class, () -> load(cli)).getMessage();
    }

    @Test
    void graceIsTheDefaultForEveryKindOfWorker() {
        Config c = load(Map.of());
        assertEquals(Readiness.Mode.GRACE, c.readiness().mode());
        assertFalse(c.policy().requireNotify());
        assertFalse(c.captureOutput());
    }

    @Test
    void everyModeButGraceWaitsForAnExplicitReadyEvent() {
        assertTrue(load(Map.of("ready", "notify")).policy().requireNotify());
        Config log = load(Map.of("ready", "log:Started .* in \\d+"));
        assertEquals(Readiness.Mode.LOG, log.readiness().mode());
        assertTrue(log.readiness().logPattern().matcher("Started App in 12.3 seconds").find());
        assertTrue(log.policy().requireNotify());
        assertTrue(log.captureOutput(), "log readiness needs the output even without silent");
        assertEquals(log.readiness().logPattern().pattern(),
                load(Map.of("ready.log", "Started .* in \\d+")).readiness().logPattern().pattern(), "ready.log alone means log");
        Config probe = load(Map.of("ready", "http://127.0.0.1:$PORT/health?deep=1", "port.base", "9000"));
        assertEquals(Readiness.Mode.PROBE, probe.readiness().mode());
        assertEquals(new Readiness.Probe("http", "127.0.0.1", "$PORT", "/health?deep=1"), probe.readiness().probe());
        assertEquals(9003, probe.readiness().probe().port(Map.of("PORT", "9003")));
        assertTrue(probe.policy().requireNotify());
        assertFalse(probe.captureOutput());
        Readiness tcp = load(Map.of("ready", "tcp", "ready.probe", "tcp://[::1]:8080")).readiness();
        assertEquals(new Readiness.Probe("tcp", "::1", "8080", "/"), tcp.probe());
        assertNull(tcp.logPattern());
    }

    @Test
    void badReadinessSettingsNameTheKeyAndTheFix() {
        assertEquals("ready: expected notify, grace, log:REGEX or a probe like tcp://127.0.0.1:$PORT, got 'soon'",
                error(Map.of("ready", "soon")));
        assertTrue(error(Map.of("ready", "log:(")).startsWith("ready.log: bad regex '(': "));
        assertEquals("ready: log needs a regex: ready=log:'Started .* in' or ready.log=Started .* in", error(Map.of("ready", "log")));
        assertEquals("ready: tcp needs ready.probe=tcp://127.0.0.1:$PORT", error(Map.of("ready", "tcp")));
        assertTrue(error(Map.of("ready", "udp://127.0.0.1:1")).startsWith("ready.probe: unsupported scheme"));
        assertTrue(error(Map.of("ready", "tcp://127.0.0.1")).startsWith("ready.probe: 'tcp://127.0.0.1' needs a host and a port"));
        assertEquals("ready.probe: $PORT needs port.base=N (each worker its own PORT), or a fixed port",
                error(Map.of("ready", "tcp://127.0.0.1:$PORT")));
        assertEquals("ready: 'notify' does not use ready.log (set ready=log or remove it)",
                error(Map.of("ready", "notify", "ready.log", "x")));
        assertEquals("port.base and reuse.port both set the workers' PORT: keep one",
                error(Map.of("port.base", "9000", "reuse.port", "true", "listen", "tcp://127.0.0.1:9000")));
        assertEquals("port.base: expected 1-65535, got 70000", error(Map.of("port.base", "70000")));
    }
}
