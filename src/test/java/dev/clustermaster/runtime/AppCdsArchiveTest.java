package dev.clustermaster.runtime;

import dev.clustermaster.apps.AppJars;
import dev.clustermaster.apps.PlainHttpApp;
import dev.clustermaster.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The archive's life without JVMs: who dumps, what gets installed, when a new build needs a new archive. */
class AppCdsArchiveTest {
    @TempDir
    Path dir;

    private Config config(Path jar, boolean cds) {
        return Config.builder().mainClass(PlainHttpApp.class.getName()).classpath(jar.toString()).javaCds(cds)
                .runtimeDir(dir.resolve("run")).build();
    }

    private Map<String, String> env() {
        return Map.of("XDG_CACHE_HOME", dir.resolve("cache").toString());
    }

    @Test
    void oneWorkerDumpsAndLaterOnesMapWhatItWrote() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        AppCdsArchive cds = AppCdsArchive.forClasspath(config(jar, true), List.of(jar.toString()), env()).orElseThrow();
        List<String> first = cds.jvmArgs(1);
        assertEquals(1, first.size());
        assertTrue(first.get(0).startsWith("-XX:ArchiveClassesAtExit="), first.toString());
        assertEquals(List.of(), cds.jvmArgs(2), "one dumper at a time");
        Path written = Path.of(first.get(0).substring("-XX:ArchiveClassesAtExit=".length()));
        cds.exited(2);
        Files.write(written, new byte[] {1, 2, 3});   // what the JVM would have written at exit
        cds.exited(1);
        List<String> later = cds.jvmArgs(3);
        assertTrue(later.get(0).startsWith("-XX:SharedArchiveFile=") && later.contains("-Xshare:auto"), later.toString());
        Path archive = Path.of(later.get(0).substring("-XX:SharedArchiveFile=".length()));
        assertEquals(dir.resolve("cache/cluster-master/cluster-master/cds"), archive.getParent());
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(archive.getParent())));

        Files.write(archive, new byte[] {1, 2, 4});  // changed behind the master's back
        assertTrue(cds.jvmArgs(4).get(0).startsWith("-XX:ArchiveClassesAtExit="), "dropped, and made again");
        assertTrue(Files.notExists(archive));
    }

    private static String key(String option) {
        return Path.of(option.substring(option.indexOf('=') + 1)).getFileName().toString().split("\\.")[0];
    }

    @Test
    void aNewBuildGetsANewArchiveAndNoJarsNoArchive() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        String before = AppCdsArchive.forClasspath(config(jar, true), List.of(jar.toString()), env()).orElseThrow().jvmArgs(1).get(0);
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000));
        String after = AppCdsArchive.forClasspath(config(jar, true), List.of(jar.toString()), env()).orElseThrow().jvmArgs(1).get(0);
        assertNotEquals(key(before), key(after), "the jar's mtime is part of the key");
        assertTrue(AppCdsArchive.forApp(config(jar, false), env()).isEmpty(), "java.cds=off");
        Files.createDirectories(dir.resolve("classes"));
        Config withDir = Config.builder().mainClass(PlainHttpApp.class.getName()).classpath(jar + ":" + dir.resolve("classes"))
                .runtimeDir(dir.resolve("run")).build();
        assertTrue(AppCdsArchive.forClasspath(withDir, List.of(jar.toString(), dir.resolve("classes").toString()), env()).isEmpty(),
                "a directory on the class path cannot be archived");
        assertTrue(AppCdsArchive.forApp(withDir, env()).isEmpty());
    }
}
