package dev.clustermaster.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class CtlMainParseTest {

    @Test
    void readsTheUsualCommandLines() {
        assertEquals(new CtlClient.Request(null, null, false, null, List.of("status")), CtlMain.parse(new String[]{"status"}));
        assertEquals(new CtlClient.Request(Path.of("/s"), "app", true, 5L, List.of("app2", "resize", "4")),
                CtlMain.parse(new String[]{"--socket", "/s", "--name=app", "--json", "--timeout", "5", "app2", "resize", "4"}));
        assertEquals(new CtlClient.Request(null, null, false, null, List.of("debug", "a b")),
                CtlMain.parse(new String[]{"debug", "a b"}));
    }

    @Test
    void leavesEverythingElseToPicocli() {
        for (String[] args : List.of(new String[]{}, new String[]{"--help"}, new String[]{"-V"}, new String[]{"--json"},
                new String[]{"--socket"}, new String[]{"--socket", "/a", "--socket", "/b", "size"},
                new String[]{"--timeout", "x", "size"}, new String[]{"--timeout", "-1", "size"},
                new String[]{"resize", "-3"}, new String[]{"status", "--json"}, new String[]{"--", "status"},
                new String[]{"--json=true", "size"}, new String[]{"--bogus", "size"},
                new String[]{"@args"}, new String[]{"--socket", "@s", "size"}, new String[]{"resize", "@n"})) {
            assertNull(CtlMain.parse(args), String.join(" ", args));
        }
    }
}
