package dev.clustermaster.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void systemdUnitsAndCombinations() {
        assertEquals(86_400_000L, Durations.parseMillis("k", "1d"), "a day, not 1 s (Double.parseDouble reads 1d as 1.0)");
        assertEquals(120_000, Durations.parseMillis("k", "2min"));
        assertEquals(120_000, Durations.parseMillis("k", "2m"));
        assertEquals(90_000, Durations.parseMillis("k", "1min 30s"));
        assertEquals(9_000_000, Durations.parseMillis("k", "2h30m"));
        assertEquals(3_600_000, Durations.parseMillis("k", "1hr"));
        assertEquals(604_800_000L, Durations.parseMillis("k", "1w"));
        assertEquals(500, Durations.parseMillis("k", "500ms"));
        assertEquals(500, Durations.parseMillis("k", "500msec"));
        assertEquals(2, Durations.parseMillis("k", "1500us"), "rounded to the nearest ms");
        assertEquals(1_500, Durations.parseMillis("k", "1.5s"));
        assertEquals(5_000, Durations.parseMillis("k", " 5 sec "));
        assertEquals(7_000, Durations.parseMillis("k", "2 seconds 5s"));
        assertEquals(90_000, Durations.parseMillis("k", "90"), "a bare number is seconds");
        assertEquals(0, Durations.parseMillis("k", "0"));
    }

    @Test
    void anythingElseIsRejectedWithTheKeyInOneLine() {
        for (String bad : List.of("", " ", "1x", "5S", "-1s", "1.2.3", "1min30", "s", "1e3", "infinity", "5s;",
                "1 d x", "1,5s", "0x10s", "NaN", "1min -30s")) {
            ConfigException e = assertThrows(ConfigException.class, () -> Durations.parseMillis("stop.timeout", bad),
                    "'" + bad + "' must be rejected");
            assertTrue(e.getMessage().startsWith("stop.timeout: expected a time span like 500ms, 30s, 2min or 1min 30s "
                    + "(systemd's syntax), got '" + bad + "' ("), e.getMessage());
            assertEquals(-1, e.getMessage().indexOf('\n'), "one line");
        }
    }

    @Test
    void theReasonIsSpecific() {
        assertTrue(Durations.parseMillis("k", "1h") > 0);
        assertTrue(message("1x").contains("unknown unit 'x'"), message("1x"));
        assertTrue(message("1min30").contains("'30' needs a unit"), message("1min30"));
        assertTrue(message("-1s").contains("expected a number at '-1s'"), message("-1s"));
        assertTrue(message("99999999999999999w").contains("too long"), message("99999999999999999w"));
    }

    private static String message(String value) {
        return assertThrows(ConfigException.class, () -> Durations.parseMillis("k", value)).getMessage();
    }
}
