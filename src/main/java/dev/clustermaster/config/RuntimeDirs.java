package dev.clustermaster.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Where the master keeps its sockets: systemd's RuntimeDirectory, else /run/NAME, else a private per-user place. */
public final class RuntimeDirs {
    private RuntimeDirs() {
    }

    public static Path choose(String name, Map<String, String> env) {
        String fromSystemd = env.get("RUNTIME_DIRECTORY");
        if (fromSystemd != null && !fromSystemd.isBlank()) {
            return Path.of(fromSystemd.split(":")[0]);
        }
        Path run = Path.of("/run", name);
        if (usable(run)) {
            return run;
        }
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isBlank() && usable(Path.of(xdg, name))) {
            return Path.of(xdg, name);
        }
        return Path.of(System.getProperty("java.io.tmpdir"), name + "-" + System.getProperty("user.name"));
    }

    private static boolean usable(Path dir) {
        try {
            if (Files.isDirectory(dir)) {
                return Files.isWritable(dir);
            }
            Path parent = dir.getParent();
            if (parent == null || !Files.isWritable(parent)) {
                return false;
            }
            Files.createDirectories(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"))); // never group/other-writable
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }
}
