package dev.clustermaster.it;

import dev.clustermaster.os.ProcessGroups;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-app AppCDS with a real master and the demo worker, java.cds left at its default (auto) and systemd's
 * $CACHE_DIRECTORY set as a unit's CacheDirectory= would: the first worker's JVM writes the archive when a reload
 * stops it, the next one maps it (/proc/PID/maps), a changed class path gets a new archive, and one the JVM refuses
 * is dropped with one log line while the worker still starts.
 */
class AppCdsIT {
    private static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void theFirstWorkerWritesTheArchiveTheNextMapsItAndABadOneNeverStopsAWorker() throws Exception {
        Path cds = dir.resolve("cache/cds");

        // one master, java.cds at its default: its first worker writes the archive as a reload (SIGHUP) stops it,
        // and the worker of the next reload maps it
        try (MasterProcess m = MasterProcess.start(dir.resolve("first"), env(), args("first").toArray(String[]::new))) {
            m.waitForOutput("all 1 workers ready", T);
            int first = m.workers().get(0);
            assertTrue(argv(first).contains("-XX:ArchiveClassesAtExit="), argv(first));
            ProcessGroups.signalProcess(m.pid(), 1);
            m.waitForOutput("written by worker 1;", T);
            Path archive = onlyArchive(cds);
            ProcessGroups.signalProcess(m.pid(), 1);
            int third = Wait.value("a worker started with the archive", T, () -> m.workers().stream()
                    .filter(pid -> argv(pid).contains("-XX:SharedArchiveFile=" + archive)).findFirst(), Optional::isPresent).get();
            Wait.until("worker " + third + " maps " + archive, T, () -> mapped(third).contains(archive.toString()));
            ProcessGroups.signalProcess(m.pid(), 15);
            assertEquals(0, m.waitForExit(T), m.output());
        }
        Path archive = onlyArchive(cds);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cds)));
        assertFalse(PosixFilePermissions.toString(Files.getPosixFilePermissions(archive)).matches(".....w.*|........w."),
                "no one but the owner may write the archive");

        String second = runOnce("second");
        assertTrue(second.contains("-XX:SharedArchiveFile=" + archive), second);
        assertTrue(second.contains("mapped: " + archive), "a new master's worker maps it too:\n" + second);

        // another class path (a copy of the jar): another archive, and the one of the old build goes
        Path copy = Files.copy(Path.of("target/cluster-master-0.1.0-all.jar"), dir.resolve("app.jar"));
        String third = runOnce("third", "--classpath", copy.toString());
        assertTrue(third.contains("-XX:ArchiveClassesAtExit="), "a new class path, a new archive:\n" + third);
        Path next = onlyArchive(cds);
        assertNotEquals(archive, next);

        // damaged so that the master's checks pass: the JVM sees a bad header and (-Xshare:auto) starts without it;
        // the master sees it unmapped once the worker is ready, says so once and drops it for the next worker to remake
        corrupt(next, 0);
        Files.writeString(cds.resolve(next.getFileName().toString().replace(".jsa", ".sha256")), sha256(next) + "\n");
        String fourth = runOnce("fourth", "--classpath", copy.toString());
        assertTrue(fourth.contains("-XX:SharedArchiveFile=" + next), fourth);
        assertFalse(fourth.contains("mapped: " + next), fourth);
        assertTrue(fourth.contains("all 1 workers ready"), fourth);
        assertEquals(1, count(fourth, "AppCDS: archive " + next + " is unusable"), fourth);
        assertFalse(Files.exists(next), "dropped: the next worker writes a new one");
    }

    private List<String> env() {
        return List.of("CACHE_DIRECTORY=" + dir.resolve("cache"));
    }

    /** Same JVM options every run (they are part of the archive's key). */
    private List<String> args(String name, String... more) {
        List<String> args = new ArrayList<>(List.of("--main", "dev.clustermaster.demo.DemoHttpWorker", "--ready", "notify",
                "--size", "1", "--env", "PORT=0", "--stop-timeout", "30s", "--repl", "false",
                "--runtime-dir", dir.resolve(name).resolve("run").toString()));
        args.addAll(List.of(more));
        return args;
    }

    private static String argv(int pid) {
        try {
            return String.join(" ", Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        } catch (IOException e) {
            return "";
        }
    }

    /** The .jsa files the process maps, one "mapped: PATH" line each. */
    private static String mapped(int pid) {
        try {
            return Files.readAllLines(Path.of("/proc/" + pid + "/maps")).stream().filter(l -> l.endsWith(".jsa"))
                    .map(l -> "mapped: " + l.substring(l.indexOf('/'))).distinct().reduce("", (a, b) -> a + b + "\n");
        } catch (IOException e) {
            return "";
        }
    }

    /** One master with one demo worker until READY=1, then a graceful stop; returns its log, the worker's argv and maps. */
    private String runOnce(String name, String... more) throws Exception {
        Path run = dir.resolve(name);
        Files.createDirectories(run);
        try (MasterProcess m = MasterProcess.start(run, env(), args(name, more).toArray(String[]::new))) {
            m.waitForOutput("all 1 workers ready", T);
            int worker = m.workers().get(0);
            String argv = argv(worker);
            String mapped = mapped(worker);
            ProcessGroups.signalProcess(m.pid(), 15);
            assertEquals(0, m.waitForExit(T), m.output());
            return m.output() + "\nargv: " + argv + "\n" + mapped;
        }
    }

    private static Path onlyArchive(Path cds) throws IOException {
        try (Stream<Path> files = Files.list(cds)) {
            List<Path> jsa = files.filter(p -> p.toString().endsWith(".jsa")).toList();
            assertEquals(1, jsa.size(), jsa.toString());
            return jsa.get(0);
        }
    }

    private static void corrupt(Path archive, long offset) throws IOException {
        archive.toFile().setWritable(true, true);
        try (RandomAccessFile f = new RandomAccessFile(archive.toFile(), "rw")) {
            f.seek(offset);
            f.write("not an archive any more".getBytes(StandardCharsets.US_ASCII));
        }
        archive.toFile().setWritable(false, false);
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
