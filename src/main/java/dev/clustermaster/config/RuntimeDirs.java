package dev.clustermaster.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a master named NAME keeps its sockets, and so where {@code ctl NAME} finds it: systemd's RuntimeDirectory
 * (the entry named NAME, else the first), else /run/NAME, else $XDG_RUNTIME_DIR/NAME, else a private per-user place.
 * The master ({@link #choose}) and the client ({@link #locate}) walk the same {@link #candidates} list.
 */
public final class RuntimeDirs {
    /** The control socket's file name inside the runtime directory. */
    public static final String SOCKET_FILE = "cluster-master.sock";

    private RuntimeDirs() {
    }

    /** The master's choice: the systemd directory when there is one, else the first usable (created if missing). */
    public static Path choose(String name, Map<String, String> env) {
        List<Path> candidates = candidates(name, env);
        if (fromSystemd(env)) {
            return candidates.get(0);
        }
        for (Path p : candidates.subList(0, candidates.size() - 1)) {
            if (usable(p)) {
                return p;
            }
        }
        return candidates.get(candidates.size() - 1);
    }

    /**
     * The client's view, creating nothing: the first candidate holding a control socket, else (for the error
     * message) the first candidate, i.e. the systemd directory or /run/NAME.
     */
    public static Path locate(String name, Map<String, String> env) {
        List<Path> candidates = candidates(name, env);
        for (Path p : candidates) {
            if (Files.exists(p.resolve(SOCKET_FILE))) {
                return p;
            }
        }
        return candidates.get(0);
    }

    /** The places in order of preference. */
    static List<Path> candidates(String name, Map<String, String> env) {
        List<Path> out = new ArrayList<>();
        if (fromSystemd(env)) {
            List<Path> entries = new ArrayList<>();
            for (String e : env.get("RUNTIME_DIRECTORY").split(":")) {
                if (!e.isBlank()) {
                    entries.add(Path.of(e));
                }
            }
            out.add(entries.stream().filter(p -> p.getFileName() != null && p.getFileName().toString().equals(name))
                    .findFirst().orElse(entries.get(0)));
        }
        out.add(Path.of("/run", name));
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isBlank()) {
            out.add(Path.of(xdg, name));
        }
        out.add(Path.of(System.getProperty("java.io.tmpdir"), name + "-" + System.getProperty("user.name")));
        return out;
    }

    private static boolean fromSystemd(Map<String, String> env) {
        String v = env.get("RUNTIME_DIRECTORY");
        return v != null && !v.replace(":", "").isBlank();
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
