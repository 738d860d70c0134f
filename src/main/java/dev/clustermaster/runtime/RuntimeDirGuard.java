package dev.clustermaster.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The runtime directory holds the control socket and the workers' notify sockets, so whoever can write in it can
 * delete or swap them. It must be the master's own: created with an exact mode, or, if it exists, a real
 * directory owned by this uid and no wider than that mode. In a directory others may write (/tmp) that mode is 0700.
 */
final class RuntimeDirGuard {

    private static final Logger log = LoggerFactory.getLogger(RuntimeDirGuard.class);
    private static final Pattern WORKERS_DIR = Pattern.compile("workers-(\\d+)-.+");

    private RuntimeDirGuard() {
    }

    /** Creates {@code dir} or checks the one that is there; the exception message is the one line the user sees. */
    static void ensure(Path dir, int euid) throws IOException {
        Path abs = dir.toAbsolutePath();
        Path parent = abs.getParent();
        int mode;
        try {
            if (parent != null) {
                Files.createDirectories(parent);
            }
            mode = parent != null && (modeOf(parent, true) & 0002) != 0 ? 0700 : 0755;
            if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    // mkdir(2) with the mode: the umask may narrow it, nothing widens it, no window for others
                    Files.createDirectory(abs, PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString(mode == 0700 ? "rwx------" : "rwxr-xr-x")));
                } catch (FileAlreadyExistsException e) {
                    // someone was quicker: checked below like any existing directory
                }
            }
        } catch (FileSystemException e) {
            // NIO's message is the bare path: say what failed, why (errno text) and what to do
            throw new IOException("cannot create runtime directory " + abs + ": " + reason(e)
                    + "; create it for this user or choose a writable one (runtime.dir, XDG_RUNTIME_DIR)", e);
        }
        check(abs, euid, mode);
    }

    private static String reason(FileSystemException e) {
        if (e instanceof AccessDeniedException) {
            return e.getFile() + ": Permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return e.getFile() + " is not a directory";
        }
        if (e instanceof NoSuchFileException) {
            return e.getFile() + ": No such file or directory";
        }
        return e.getFile() + ": " + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName());
    }

    static void check(Path dir, int euid, int maxMode) throws IOException {
        BasicFileAttributes a = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        String fix = "remove it or choose another (runtime.dir, XDG_RUNTIME_DIR)";
        if (a.isSymbolicLink()) {
            throw new IOException("runtime directory " + dir + " is a symbolic link; " + fix);
        }
        if (!a.isDirectory()) {
            throw new IOException("runtime directory " + dir + " is not a directory; " + fix);
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != euid) {
            throw new IOException("runtime directory " + dir + " belongs to uid " + owner + ", not to this user (uid "
                    + euid + "); " + fix);
        }
        int mode = modeOf(dir, false);
        if ((mode & ~maxMode) != 0) {
            throw new IOException("runtime directory " + dir + " has mode " + octal(mode) + ", wider than "
                    + octal(maxMode) + "; run chmod " + Integer.toOctalString(maxMode) + " " + dir + " or " + fix);
        }
    }

    /**
     * Deletes {@code workers-<pid>-*} directories of masters that are gone (kill -9 leaves them); only ours, and
     * without following links out of them.
     */
    static int removeStaleWorkerDirs(Path runtimeDir, int euid, IntPredicate alive) {
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(runtimeDir, "workers-*")) {
            for (Path entry : entries) {
                Matcher m = WORKERS_DIR.matcher(entry.getFileName().toString());
                if (!m.matches() || alive.test(Integer.parseInt(m.group(1)))) {
                    continue;
                }
                try {
                    BasicFileAttributes a = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (a.isDirectory() && (Integer) Files.getAttribute(entry, "unix:uid", LinkOption.NOFOLLOW_LINKS) == euid) {
                        deleteTree(entry);
                        removed++;
                    }
                } catch (IOException | RuntimeException e) {
                    log.warn("could not remove stale worker directory {}: {}", entry, e.toString());
                }
            }
        } catch (IOException | NumberFormatException e) {
            log.warn("could not look for stale worker directories in {}: {}", runtimeDir, e.toString());
        }
        if (removed > 0) {
            log.info("removed {} worker director{} left by masters that are gone", removed, removed == 1 ? "y" : "ies");
        }
        return removed;
    }

    /** A pid is alive while /proc has it. */
    static boolean processExists(int pid) {
        return Files.exists(Path.of("/proc", Integer.toString(pid)));
    }

    private static void deleteTree(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() { // does not follow links
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static int modeOf(Path p, boolean follow) throws IOException {
        LinkOption[] opts = follow ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
        return (Integer) Files.getAttribute(p, "unix:mode", opts) & 0777;
    }

    private static String octal(int mode) {
        return String.format("%04o", mode);
    }
}
