package dev.clustermaster.runtime;

import dev.clustermaster.config.Config;
import dev.clustermaster.config.JavaCdsSetting;
import dev.clustermaster.os.Users;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A per-app AppCDS archive for {@code --main}/{@code --jar} workers (JDK 17 dynamic archive). While there is none,
 * one worker at a time runs with {@code -XX:ArchiveClassesAtExit} pointing at a temporary name: its JVM writes the
 * classes it really loaded when it exits, and the master checks what it wrote and renames it into place. Later
 * workers get {@code -XX:SharedArchiveFile -Xshare:auto}: a JVM that cannot use the archive starts without it.
 *
 * <p>The name is a hash of everything that decides whether a JVM accepts the archive: the JDK (java binary, its
 * release file, libjvm and the base archive), the JVM options (jvm.args and the workers' JAVA_TOOL_OPTIONS,
 * JDK_JAVA_OPTIONS, _JAVA_OPTIONS), the main class and every jar's path, size and mtime; older ones are deleted.
 * A JVM maps whatever archive it is given, so the directory and all its parents must be safe from other users, the
 * archive is opened without following links, and its SHA-256 (written when it was made) must match. An archive the
 * JVM still refuses (the worker's maps show no archive once it is ready), or one that fails the checks, is made
 * once more; a second failure ends AppCDS until the archive's key changes (one log line each). Loop thread only.
 */
final class AppCdsArchive {
    private static final Logger log = LoggerFactory.getLogger("dev.clustermaster.master");
    private static final Set<String> USER_CDS_OPTIONS = Set.of("-Xshare", "SharedArchiveFile", "ArchiveClassesAtExit",
            "SharedClassListFile", "DumpLoadedClassList");
    /** Options the JVM reads from the environment: they change what an archive must match. */
    private static final List<String> JVM_ENV_OPTIONS = List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS");
    /** CDS_DYNAMIC_ARCHIVE_MAGIC of JDK 17; the JVM writes the header last, so a cut-off dump lacks it. */
    private static final int DYNAMIC_MAGIC = 0xf00baba8;

    private final Path dir;
    private final Path archive;
    private final Path checksum;
    /** The worker whose JVM writes the archive when it exits, -1 when none. */
    private long dumper = -1;
    /** size:mtime:inode of the archive when last verified, so each spawn only stats it. */
    private String verified;
    /** Workers started with the archive whose JVM has not yet been seen mapping it. */
    private final Set<Long> unconfirmed = new HashSet<>();
    private boolean confirmed;
    /** Archives dropped as unusable: the first is made again, the second ends AppCDS for this configuration. */
    private int failures;

    private AppCdsArchive(Path dir, String key) {
        this.dir = dir;
        this.archive = dir.resolve(key + ".jsa");
        this.checksum = dir.resolve(key + ".sha256");
    }

    /** Empty when java.cds is off (or auto without a service cache directory), the app is no Java main class, or the JVM cannot archive it (logged once). */
    static Optional<AppCdsArchive> forApp(Config config, Map<String, String> env) {
        if (!config.javaWorker()) {
            return Optional.empty();
        }
        return forClasspath(config, config.javaLaunch().classpath(), env);
    }

    /** As {@link #forApp}, with the worker class path given (tests: the bootstrap part is class directories there). */
    static Optional<AppCdsArchive> forClasspath(Config config, List<String> classpath, Map<String, String> env) {
        JavaCdsSetting setting = config.javaCds();
        if (setting.mode() == JavaCdsSetting.Mode.OFF
                || setting.mode() == JavaCdsSetting.Mode.AUTO && systemdCache(env).isEmpty()) {
            return Optional.empty();
        }
        List<String> options = new ArrayList<>(config.jvmArgs());
        for (String name : JVM_ENV_OPTIONS) {
            String value = config.env().getOrDefault(name, env.get(name));
            if (value != null) {
                options.add(name + "=" + value);
            }
        }
        if (options.stream().anyMatch(a -> USER_CDS_OPTIONS.stream().anyMatch(a::contains))) {
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
            Path release = home.resolve("release");
            keyParts.add(Files.isRegularFile(release) ? Files.readString(release) : "no release file");
            keyParts.add(stamp(base));
            keyParts.add(stamp(home.resolve("lib/server/libjvm.so")));
            keyParts.addAll(options);
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
            return Optional.of(new AppCdsArchive(directory(config, env), key));
        } catch (IOException | RuntimeException e) {
            log.warn("AppCDS: cannot use the archive directory ({}); workers start without an app archive "
                    + "(java.cds=DIR picks another directory, java.cds=off turns this off)", e.getMessage());
            return Optional.empty();
        }
    }

    /** Same file: a reload that changed nothing the archive depends on. */
    boolean sameArchive(AppCdsArchive other) {
        return archive.equals(other.archive);
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
        if (failures >= 2) {
            return List.of();
        }
        if (usable()) {
            if (!confirmed) {
                unconfirmed.add(workerId);
            }
            return List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto");
        }
        if (dumper >= 0) {
            return List.of();
        }
        dumper = workerId;
        return List.of("-XX:ArchiveClassesAtExit=" + pending(workerId));
    }

    /**
     * The worker is ready: a JVM that was given the archive has mapped it by now (it does so before main), unless it
     * refused it; then the archive is dropped and made again, once.
     */
    void ready(long workerId, int pid) {
        if (!unconfirmed.remove(workerId) || confirmed) {
            return;
        }
        String maps;
        try {
            maps = Files.readString(Path.of("/proc/" + pid + "/maps"), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return;  // gone already: the next worker tells
        }
        if (maps.contains(archive.toString())) {
            confirmed = true;
            unconfirmed.clear();
            return;
        }
        drop("worker " + workerId + "'s JVM refused it: it is not in the worker's memory map");
    }

    /** The worker's process is gone: if it was the one writing the archive, install what it wrote. */
    void exited(long workerId) {
        unconfirmed.remove(workerId);
        if (workerId != dumper) {
            return;
        }
        dumper = -1;
        Path written = pending(workerId);
        try {
            SafeDirectory.Stat a;
            try {
                a = SafeDirectory.lstat(written);
            } catch (NoSuchFileException e) {
                log.debug("AppCDS: worker {} exited without writing an archive; the next worker tries", workerId);
                return;
            }
            String problem = fileProblem(a);
            String digest = null;
            if (problem == null) {
                try (FileChannel ch = FileChannel.open(written, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                    ByteBuffer magic = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder());
                    while (magic.hasRemaining() && ch.read(magic) > 0) {
                        // header: 4 bytes
                    }
                    if (magic.hasRemaining() || magic.getInt(0) != DYNAMIC_MAGIC) {
                        problem = "no archive header: the JVM was stopped while writing it";
                    } else {
                        digest = HexFormat.of().formatHex(sha256(Channels.newInputStream(ch.position(0))));
                    }
                }
            }
            if (problem != null) {
                Files.deleteIfExists(written);
                fail("worker " + workerId + " wrote an unusable archive " + written.getFileName() + " (" + problem + ")");
                return;
            }
            // no fsync: an archive cut short by a crash fails its checksum and is made again
            Path sum = dir.resolve(checksum.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
            Files.deleteIfExists(sum);
            Files.writeString(sum, digest + "\n", StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            Files.move(sum, checksum, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Files.move(written, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            deleteOthers();
            verified = null;
            confirmed = false;
            log.info("AppCDS: archive {} ({} KiB) written by worker {}; workers started from now on map it",
                    archive, a.size() / 1024, workerId);
        } catch (IOException e) {
            log.warn("AppCDS: cannot install the archive {} ({}); workers start without it", written, e.getMessage());
        }
    }

    private Path pending(long workerId) {
        return dir.resolve(archive.getFileName() + "." + ProcessHandle.current().pid() + "-" + workerId + ".tmp");
    }

    /** True when the archive exists, is safe to map and matches its checksum; a bad one is dropped with one line. */
    private boolean usable() {
        SafeDirectory.Stat a;
        try {
            a = SafeDirectory.lstat(archive);
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            drop("unreadable: " + e.getMessage());
            return false;
        }
        String now = a.size() + ":" + a.mtime().toMillis() + ":" + a.inode();
        if (now.equals(verified)) {
            return true;
        }
        String problem;
        try {
            problem = fileProblem(a);
            if (problem == null) {
                problem = checksumProblem();
            }
        } catch (IOException e) {
            problem = "unreadable: " + e.getMessage();
        }
        if (problem == null) {
            verified = now;
            return true;
        }
        drop(problem);
        return false;
    }

    /** Deletes the archive (one log line); the next worker makes it again unless this is the second failure. */
    private void drop(String problem) {
        verified = null;
        confirmed = false;
        unconfirmed.clear();
        try {
            Files.deleteIfExists(archive);
            Files.deleteIfExists(checksum);
        } catch (IOException e) {
            log.debug("AppCDS: cannot delete {}: {}", archive, e.getMessage());
        }
        fail("archive " + archive + " is unusable (" + problem + ")");
    }

    private void fail(String what) {
        failures++;
        if (failures < 2) {
            log.warn("AppCDS: {}; workers start without it and the next one writes a new archive", what);
        } else {
            log.warn("AppCDS: {} again; workers start without an archive until the JDK, the JVM options or the class path change", what);
        }
    }

    private static String fileProblem(SafeDirectory.Stat a) {
        if (!a.regularFile()) {
            return "not a regular file";
        }
        if (a.uid() != Users.ownUid()) {
            return "owned by uid " + a.uid() + ", not by this master's user";
        }
        if (a.othersMayWrite()) {
            return "writable by others";
        }
        return null;
    }

    private String checksumProblem() throws IOException {
        String expected;
        try (InputStream in = Files.newInputStream(checksum, LinkOption.NOFOLLOW_LINKS)) {
            expected = new String(in.readNBytes(200), StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
            return "no checksum beside it";
        }
        try (InputStream in = Files.newInputStream(archive, LinkOption.NOFOLLOW_LINKS)) {
            if (!expected.equals(HexFormat.of().formatHex(sha256(in)))) {
                return "changed or corrupted since it was written: checksum mismatch";
            }
        }
        return null;
    }

    /** Archives of earlier builds of this app (other keys) and leftovers of dumps are of no use any more. */
    private void deleteOthers() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.{jsa,sha256,tmp}")) {
            for (Path f : files) {
                if (!f.equals(archive) && !f.equals(checksum)) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            log.debug("AppCDS: cleaning {}: {}", dir, e.getMessage());
        }
    }

    private static Optional<String> systemdCache(Map<String, String> env) {
        String first = env.getOrDefault("CACHE_DIRECTORY", "").split(":")[0];
        return first.isBlank() ? Optional.empty() : Optional.of(first);
    }

    /**
     * java.cds=DIR: DIR; else systemd's CacheDirectory= ($CACHE_DIRECTORY)/cds; with java.cds=on and no such
     * directory $XDG_CACHE_HOME or ~/.cache under cluster-master/NAME/cds, else the runtime directory's cds. Made
     * mode 0700; returned with links resolved, after {@link SafeDirectory#check}.
     */
    static Path directory(Config config, Map<String, String> env) throws IOException {
        Optional<String> systemd = systemdCache(env);
        String xdg = env.getOrDefault("XDG_CACHE_HOME", "");
        String home = env.getOrDefault("HOME", "");
        Path dir;
        if (config.javaCds().mode() == JavaCdsSetting.Mode.DIR) {
            dir = config.javaCds().dir();
        } else if (systemd.isPresent()) {
            dir = Path.of(systemd.get(), "cds");
        } else if (!xdg.isBlank()) {
            dir = Path.of(xdg, "cluster-master", config.name(), "cds");
        } else if (!home.isBlank() && Files.isDirectory(Path.of(home)) && Files.isWritable(Path.of(home))) {
            dir = Path.of(home, ".cache", "cluster-master", config.name(), "cds");
        } else {
            dir = config.runtimeDir().resolve("cds");
        }
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path real = dir.toRealPath();
        SafeDirectory.Stat own = SafeDirectory.lstat(real);
        if (own.uid() == Users.ownUid() && (own.mode() & 077) != 0) {
            Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rwx------"));
        }
        SafeDirectory.check(real, Users.ownUid());
        return real;
    }

    private static String stamp(Path p) throws IOException {
        return Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis();
    }

    private static byte[] sha256(byte[] bytes) {
        return digest().digest(bytes);
    }

    private static byte[] sha256(InputStream in) throws IOException {
        MessageDigest md = digest();
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
            md.update(buf, 0, n);
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
