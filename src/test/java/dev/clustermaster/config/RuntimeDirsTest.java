package dev.clustermaster.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RuntimeDirsTest {

    @TempDir
    Path dir;

    @Test
    void underSystemdTheEntryNamedLikeTheAppWinsElseTheFirst() {
        Map<String, String> env = Map.of("RUNTIME_DIRECTORY", dir.resolve("other") + ":" + dir.resolve("app"));
        assertEquals(dir.resolve("app"), RuntimeDirs.choose("app", env));
        assertEquals(dir.resolve("other"), RuntimeDirs.choose("cluster-master", env));
        // ctl run inside the unit (ExecReload) finds the same place, socket or not
        assertEquals(dir.resolve("app"), RuntimeDirs.locate("app", env));
    }

    @Test
    void clientFindsTheSocketWhereTheMasterPutItAndCreatesNothing() throws IOException {
        String app = "rd-test-" + ProcessHandle.current().pid();
        Map<String, String> env = Map.of("XDG_RUNTIME_DIR", dir.toString());
        Path chosen = RuntimeDirs.choose(app, env);
        try {
            Files.createFile(chosen.resolve(RuntimeDirs.SOCKET_FILE));
            assertEquals(chosen, RuntimeDirs.locate(app, env));
        } finally {
            Files.deleteIfExists(chosen.resolve(RuntimeDirs.SOCKET_FILE));
            Files.deleteIfExists(chosen);
        }
        // nothing there: the answer names /run/APP, and no directory was made for it
        assertEquals(Path.of("/run", app), RuntimeDirs.locate(app, env));
        assertEquals(false, Files.exists(dir.resolve(app)));
    }
}
