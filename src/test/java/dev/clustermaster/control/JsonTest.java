package dev.clustermaster.control;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    @Test
    void writesAndReadsBackNestedValues() throws Exception {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("s", "a \"quoted\"\nline\u0001");
        value.put("n", 42L);
        value.put("d", 1.5);
        value.put("b", true);
        value.put("nil", null);
        value.put("list", List.of(1L, "two", List.of()));
        String text = Json.write(value);
        assertTrue(!text.contains("\n"), "one line: " + text);
        assertEquals(value, Json.parse(text));
    }

    @Test
    void rejectsMalformedInput() {
        for (String bad : List.of("{", "{\"a\":}", "[1,]", "{\"a\" 1}", "tru", "\"unterminated", "{} x", "01x", "{\"a\":\"\\q\"}")) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void rejectsDeepNesting() {
        String deep = "[".repeat(Json.MAX_DEPTH + 5) + "]".repeat(Json.MAX_DEPTH + 5);
        assertThrows(Json.ParseException.class, () -> Json.parse(deep));
    }

    @Test
    void readsUnicodeEscapes() throws Exception {
        assertEquals("é\u2028", Json.parse("\"\\u00e9\\u2028\""));
        assertEquals("\"\\u2028\"", Json.write("\u2028"));
    }
}
