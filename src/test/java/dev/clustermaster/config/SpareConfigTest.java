package dev.clustermaster.config;

import dev.clustermaster.core.Policy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** spare= and surge=: who may have spares, and the surge rule. */
class SpareConfigTest {
    @TempDir
    Path dir;

    private Config load(Map<String, String> cli) {
        return new ConfigLoader(OptionalLong::empty, 8).load(null, Map.of(), cli).runtimeDir(dir).build();
    }

    @Test
    void aJavaWorkerMayHaveSpares() {
        Config c = load(Map.of("main", SpareConfigTest.class.getName(), "spare", "1", "listen", "tcp://127.0.0.1:0"));
        assertEquals(1, c.policy().spares());
    }

    @Test
    void aPlainCommandOrAWorkerOnItsOwnPortCannotBeHeld() {
        ConfigException plain = assertThrows(ConfigException.class, () -> load(Map.of("exec", "sleep", "spare", "1")));
        assertTrue(plain.getMessage().startsWith("spare=1 needs a Java worker (--main or --jar)")
                && plain.getMessage().contains("a plain command") && plain.getMessage().endsWith("remove spare"), plain.getMessage());
        ConfigException own = assertThrows(ConfigException.class,
                () -> load(Map.of("main", SpareConfigTest.class.getName(), "spare", "2", "port.base", "9000")));
        assertTrue(own.getMessage().contains("binding its own port"), own.getMessage());
        assertThrows(ConfigException.class, () -> load(Map.of("main", SpareConfigTest.class.getName(), "spare", "-1")));
    }

    @Test
    void surgeIsAutoByDefaultAndTakesAutoOrANumber() {
        Config byDefault = load(Map.of("exec", "sleep", "size", "8"));
        assertEquals(Policy.AUTO_SURGE, byDefault.policy().surge());
        assertEquals(8, byDefault.policy().surgeFor(8), "8 CPUs: all 8 at once");
        assertEquals(16, byDefault.policy().surgeFor(64), "a quarter of 64");
        assertEquals(Policy.AUTO_SURGE, load(Map.of("exec", "sleep", "surge", "auto")).policy().surge());
        assertEquals(3, load(Map.of("exec", "sleep", "surge", "3")).policy().surgeFor(16));
        ConfigException bad = assertThrows(ConfigException.class, () -> load(Map.of("exec", "sleep", "surge", "oops")));
        assertEquals("surge: expected auto or a whole number >= 1, got 'oops'", bad.getMessage());
    }
}
