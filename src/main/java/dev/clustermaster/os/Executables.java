package dev.clustermaster.os;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Finds a command the way execvp/posix_spawnp do, so a worker that cannot start is refused before it crash-loops. */
public final class Executables {
    /** glibc's search path when PATH is unset. */
    static final String DEFAULT_PATH = "/bin:/usr/bin";

    private Executables() {}

    /**
     * @param command a name (searched in path) or a path containing '/' (taken as is, relative to the cwd)
     * @param path    the PATH the program will be searched in; null or empty means glibc's default
     * @return empty if command can be executed, else why not, e.g. "No such file or directory" (the errno text)
     */
    public static Optional<String> problem(String command, String path) {
        if (command == null || command.isEmpty()) {
            return Optional.of(Libc.strerror(Libc.ENOENT));
        }
        if (command.indexOf('/') >= 0) {
            return check(command);
        }
        String search = path == null || path.isEmpty() ? DEFAULT_PATH : path;
        boolean denied = false;
        for (String dir : search.split(":", -1)) {
            // an empty PATH entry means the current directory, as in execvp
            Optional<String> p = check((dir.isEmpty() ? "." : dir) + "/" + command);
            if (p.isEmpty()) {
                return p;
            }
            denied |= !p.get().equals(Libc.strerror(Libc.ENOENT));
        }
        // as execvp: EACCES if some candidate existed but could not be run, else ENOENT
        return Optional.of(Libc.strerror(denied ? Libc.EACCES : Libc.ENOENT));
    }

    private static Optional<String> check(String file) {
        if (Libc.api().access(file, Libc.X_OK) != 0) {
            return Optional.of(Libc.strerror(Libc.errno()));
        }
        if (Files.isDirectory(Path.of(file))) {
            // access(X_OK) accepts a searchable directory; execve refuses it
            return Optional.of(Libc.strerror(Libc.EISDIR));
        }
        return Optional.empty();
    }
}
