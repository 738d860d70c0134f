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
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-app AppCDS with a real master and the demo worker from the shaded jar: the first worker's JVM writes the
 * archive when it stops, the next one maps it (its -Xlog:cds says so), an archive changed behind the master's
 * back is dropped with one log line, and one the JVM itself rejects does not stop a worker from starting.
 */
class AppCdsIT {
    private static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void theFirstWorkerWritesTheArchiveTheNextMapsItAndABadOneNeverStopsAWorker() throws Exception {
        Path cds = dir.resolve("cache/cluster-master/cluster-master/cds");

        String first = runOnce("first");
        assertTrue(first.contains("-XX:ArchiveClassesAtExit="), first);
        Path archive = onlyArchive(cds);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cds)));
        assertFalse(PosixFilePermissions.toString(Files.getPosixFilePermissions(archive)).matches(".....w.*|........w."),
                "no one but the owner may write the archive");

        String second = runOnce("second");
        assertTrue(second.contains("-XX:SharedArchiveFile=" + archive), second);
        assertTrue(second.contains("Mapped dynamic region"), "the worker JVM mapped the app archive:\n" + second);

        corrupt(archive, Files.size(archive) / 2);   // the JVM would map this one: only the master's checksum sees it
        String third = runOnce("third");
        assertEquals(1, count(third, "AppCDS: archive " + archive + " is unusable"), third);
        assertTrue(third.contains("-XX:ArchiveClassesAtExit="), "a new archive is made:\n" + third);
        assertEquals(archive, onlyArchive(cds));

        // damaged so that the master's checks pass: the JVM sees a bad header and (-Xshare:auto) starts without it
        corrupt(archive, 0);
        Files.writeString(cds.resolve(archive.getFileName().toString().replace(".jsa", ".sha256")), sha256(archive) + "\n");
        String fourth = runOnce("fourth");
        assertTrue(fourth.contains("-XX:SharedArchiveFile=" + archive), fourth);
        assertFalse(fourth.contains("Mapped dynamic region"), fourth);
        assertTrue(fourth.contains("all 1 workers ready"), fourth);
    }

    /** Same JVM options every run (they are part of the archive's key). One master with one demo worker until READY=1, then a graceful stop; returns its log, the worker's argv and cds log. */
    private String runOnce(String name) throws Exception {
        Path run = dir.resolve(name);
        Files.createDirectories(run);
        try (MasterProcess m = MasterProcess.start(run, List.of("XDG_CACHE_HOME=" + dir.resolve("cache")),
                "--main", "dev.clustermaster.demo.DemoHttpWorker", "--java-cds", "on", "--ready", "notify", "--size", "1", "--env", "PORT=0",
                "--jvm-arg", "-Xlog:cds=info:file=" + dir.resolve("cds-%p.log"), "--stop-timeout", "30s",
                "--repl", "false", "--runtime-dir", run.resolve("run").toString())) {
            m.waitForOutput("all 1 workers ready", T);
            int worker = m.workers().get(0);
            String argv = String.join(" ", Files.readString(Path.of("/proc/" + worker + "/cmdline")).split("\0"));
            ProcessGroups.signalProcess(m.pid(), 15);
            assertEquals(0, m.waitForExit(T), m.output());
            Path cdsLog = dir.resolve("cds-" + worker + ".log");
            return m.output() + "\nargv: " + argv + "\n" + (Files.exists(cdsLog) ? Files.readString(cdsLog) : "");
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
