package dev.clustermaster.runtime;

import dev.clustermaster.config.Config;
import dev.clustermaster.os.Users;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A per-app AppCDS archive for {@code --main}/{@code --jar} workers (JDK 17 dynamic archive). While there is none,
 * one worker at a time runs with {@code -XX:ArchiveClassesAtExit}: its JVM writes the classes it really loaded when
 * it exits (a graceful stop, a rolling restart), so no extra JVM runs the user's code and nothing is guessed. Later
 * workers get {@code -XX:SharedArchiveFile -Xshare:auto}: a JVM that cannot use the archive starts without it.
 *
 * <p>The name is a hash of the java binary, the JVM's own archive, the user's JVM options, the main class and
 * every class path jar's path, size and mtime: a new build or JDK gets a new archive (older ones are deleted).
 * A JVM maps whatever archive it is given, so the directory must be the master user's and owner-only, the archive
 * owned by that user and not writable by others, and its SHA-256 (written when it was made) must match.
 * Loop thread only.
 */
final class AppCdsArchive {
    private static final Logger log = LoggerFactory.getLogger("dev.clustermaster.master");
    private static final Set<String> USER_CDS_OPTIONS = Set.of("-Xshare", "SharedArchiveFile", "ArchiveClassesAtExit",
            "SharedClassListFile", "DumpLoadedClassList");

    private final Path dir;
    private final Path archive;
    private final Path checksum;
    /** The worker whose JVM writes the archive when it exits, -1 when none. */
    private long dumper = -1;
    /** size:mtime of the archive when last verified, so each spawn only stats it. */
    private String verified;

    private AppCdsArchive(Path dir, String key) {
        this.dir = dir;
        this.archive = dir.resolve(key + ".jsa");
        this.checksum = dir.resolve(key + ".sha256");
    }

    /** Empty when java.cds is off, the app is no Java main class, or the JVM cannot archive it (logged once). */
    static Optional<AppCdsArchive> forApp(Config config, Map<String, String> env) {
        if (!config.javaWorker() || !config.javaCds()) {
            return Optional.empty();
        }
        return forClasspath(config, config.javaLaunch().classpath(), env);
    }

    /** As {@link #forApp}, with the worker class path given (tests: the bootstrap part is class directories there). */
    static Optional<AppCdsArchive> forClasspath(Config config, List<String> classpath, Map<String, String> env) {
        if (config.jvmArgs().stream().anyMatch(a -> USER_CDS_OPTIONS.stream().anyMatch(a::contains))) {
            log.info("AppCDS: the app's JVM options choose their own class sharing; no archive is managed");
            return Optional.empty();
        }
        try {
            List<String> keyParts = new ArrayList<>();
            Path java = Path.of(config.javaBin()).toRealPath();
            Path home = java.getParent().getParent();
            Path base = home.resolve("lib/server/classes.jsa");
            if (!Files.isRegularFile(base)) {
                log.info("AppCDS: {} has no default CDS archive ({}); workers start without an app archive", home, base);
                return Optional.empty();
            }
            keyParts.add(java.toString());
            keyParts.add(stamp(base));
            keyParts.add(stamp(home.resolve("lib/server/libjvm.so")));
            keyParts.addAll(config.jvmArgs());
            keyParts.add(config.javaLaunch().mainClass());
            for (String entry : classpath) {
                Path p = Path.of(entry);
                if (entry.endsWith("*") || !Files.isRegularFile(p)) {
                    log.info("AppCDS: class path entry {} is not a jar (the JVM archives classes from jars only); "
                            + "workers start without an app archive", entry);
                    return Optional.empty();
                }
                keyParts.add(p.toRealPath() + " " + stamp(p));
            }
            String key = HexFormat.of().formatHex(sha256(String.join("\n", keyParts).getBytes(StandardCharsets.UTF_8)), 0, 10);
            Path dir = directory(config, env);
            return Optional.of(new AppCdsArchive(dir, key));
        } catch (IOException | RuntimeException e) {
            log.warn("AppCDS: cannot set up the archive directory ({}); workers start without an app archive", e.getMessage());
            return Optional.empty();
        }
    }

    /** The worker's command with {@link #jvmArgs} put right after the java binary. */
    static List<String> withJvmArgs(List<String> argv, List<String> cdsArgs) {
        if (cdsArgs.isEmpty()) {
            return argv;
        }
        List<String> out = new ArrayList<>(argv.subList(0, 1));
        out.addAll(cdsArgs);
        out.addAll(argv.subList(1, argv.size()));
        return out;
    }

    /** JVM options for the worker about to start (after the java binary, before the user's options). */
    List<String> jvmArgs(long workerId) {
        if (usable()) {
            return List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto");
        }
        if (dumper >= 0) {
            return List.of();
        }
        dumper = workerId;
        return List.of("-XX:ArchiveClassesAtExit=" + pending(workerId));
    }

    /** The worker's process is gone: if it was the one writing the archive, install what it wrote. */
    void exited(long workerId) {
        if (workerId != dumper) {
            return;
        }
        dumper = -1;
        Path written = pending(workerId);
        try {
            if (!Files.isRegularFile(written) || Files.size(written) == 0) {
                Files.deleteIfExists(written);
                log.debug("AppCDS: worker {} exited without writing an archive; the next worker tries", workerId);
                return;
            }
            Files.writeString(checksum, HexFormat.of().formatHex(sha256(written)) + "\n");
            Files.move(written, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            deleteOthers();
            verified = null;
            log.info("AppCDS: archive {} ({} KiB) written by worker {}; workers started from now on map it",
                    archive, Files.size(archive) / 1024, workerId);
        } catch (IOException e) {
            log.warn("AppCDS: cannot install the archive {} ({}); workers start without it", written, e.getMessage());
        }
    }

    private Path pending(long workerId) {
        return dir.resolve(archive.getFileName() + "." + ProcessHandle.current().pid() + "-" + workerId + ".tmp");
    }

    /** True when the archive exists, is safe to map and matches its checksum; a bad one is dropped with one line. */
    private boolean usable() {
        if (!Files.isRegularFile(archive)) {
            return false;
        }
        try {
            String now = Files.size(archive) + ":" + Files.getLastModifiedTime(archive).toMillis();
            if (now.equals(verified)) {
                return true;
            }
            String problem = problem();
            if (problem == null) {
                verified = now;
                return true;
            }
            log.warn("AppCDS: archive {} is unusable ({}); workers start without it and the next one writes a new archive",
                    archive, problem);
        } catch (IOException e) {
            log.warn("AppCDS: archive {} is unreadable ({}); workers start without it", archive, e.getMessage());
        }
        verified = null;
        try {
            Files.deleteIfExists(archive);
            Files.deleteIfExists(checksum);
        } catch (IOException e) {
            log.debug("AppCDS: cannot delete {}: {}", archive, e.getMessage());
        }
        return false;
    }

    private String problem() throws IOException {
        int uid = (Integer) Files.getAttribute(archive, "unix:uid");
        if (uid != Users.ownUid()) {
            return "owned by uid " + uid + ", not by this master's user";
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(archive);
        if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
            return "writable by others";
        }
        if (!Files.isRegularFile(checksum)) {
            return "no checksum beside it";
        }
        if (!Files.readString(checksum).trim().equals(HexFormat.of().formatHex(sha256(archive)))) {
            return "changed or corrupted since it was written: checksum mismatch";
        }
        return null;
    }

    /** Archives of earlier builds of this app (other keys) are of no use any more. */
    private void deleteOthers() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.{jsa,sha256}")) {
            for (Path f : files) {
                if (!f.equals(archive) && !f.equals(checksum)) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            log.debug("AppCDS: cleaning {}: {}", dir, e.getMessage());
        }
    }

    /**
     * systemd's CacheDirectory= ($CACHE_DIRECTORY), else $XDG_CACHE_HOME or ~/.cache under cluster-master/NAME,
     * else the runtime directory; always a "cds" directory of mode 0700 owned by this user.
     */
    static Path directory(Config config, Map<String, String> env) throws IOException {
        String systemd = env.getOrDefault("CACHE_DIRECTORY", "").split(":")[0];
        String xdg = env.getOrDefault("XDG_CACHE_HOME", "");
        String home = env.getOrDefault("HOME", "");
        Path dir;
        if (!systemd.isBlank()) {
            dir = Path.of(systemd, "cds");
        } else if (!xdg.isBlank()) {
            dir = Path.of(xdg, "cluster-master", config.name(), "cds");
        } else if (!home.isBlank() && Files.isDirectory(Path.of(home)) && Files.isWritable(Path.of(home))) {
            dir = Path.of(home, ".cache", "cluster-master", config.name(), "cds");
        } else {
            dir = config.runtimeDir().resolve("cds");
        }
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        int uid = (Integer) Files.getAttribute(dir, "unix:uid");
        if (uid != Users.ownUid()) {
            throw new IOException(dir + " is owned by uid " + uid + ", not by this master's user");
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return dir;
    }

    private static String stamp(Path p) throws IOException {
        return Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis();
    }

    private static byte[] sha256(byte[] bytes) {
        return digest().digest(bytes);
    }

    private static byte[] sha256(Path file) throws IOException {
        MessageDigest md = digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return md.digest();
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
