package dev.clustermaster.runtime;

import dev.clustermaster.apps.AppJars;
import dev.clustermaster.apps.PlainHttpApp;
import dev.clustermaster.config.Config;
import dev.clustermaster.config.ConfigException;
import dev.clustermaster.config.JavaCdsSetting;
import dev.clustermaster.os.Users;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The archive's life without JVMs: where it lives, who dumps, what gets installed, when a new one is needed. */
class AppCdsArchiveTest {
    @TempDir
    Path dir;

    private static final JavaCdsSetting ON = JavaCdsSetting.parse("on");

    private Config config(Path jar, JavaCdsSetting cds, String... jvmArgs) {
        return Config.builder().mainClass(PlainHttpApp.class.getName()).classpath(jar.toString()).javaCds(cds)
                .jvmArgs(List.of(jvmArgs)).runtimeDir(dir.resolve("run")).build();
    }

    private Map<String, String> env() {
        return Map.of("XDG_CACHE_HOME", dir.resolve("cache").toString());
    }

    private Optional<AppCdsArchive> archive(Config config, Map<String, String> env) {
        return AppCdsArchive.forClasspath(config, List.of(config.javaLaunch().classpath().get(0)), env);
    }

    /** What a JDK 17 JVM writes at exit, as far as the master looks: the dynamic archive's magic first. */
    private static void dump(String option, boolean complete) throws Exception {
        Path written = Path.of(option.substring("-XX:ArchiveClassesAtExit=".length()));
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());
        b.putInt(0, complete ? 0xf00baba8 : 0);
        Files.write(written, b.array());
        Files.setPosixFilePermissions(written, PosixFilePermissions.fromString("r--r--r--"));
    }

    private static Path mapped(List<String> args) {
        assertTrue(args.get(0).startsWith("-XX:SharedArchiveFile=") && args.contains("-Xshare:auto"), args.toString());
        return Path.of(args.get(0).substring("-XX:SharedArchiveFile=".length()));
    }

    @Test
    void oneWorkerDumpsAndLaterOnesMapWhatItWrote() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        AppCdsArchive cds = archive(config(jar, ON), env()).orElseThrow();
        List<String> first = cds.jvmArgs(1);
        assertEquals(1, first.size());
        assertTrue(first.get(0).startsWith("-XX:ArchiveClassesAtExit=") && first.get(0).endsWith(".tmp"), first.toString());
        assertEquals(List.of(), cds.jvmArgs(2), "one dumper at a time");
        cds.exited(2);
        dump(first.get(0), true);
        cds.exited(1);
        Path archive = mapped(cds.jvmArgs(3));
        assertEquals(dir.resolve("cache/cluster-master/cluster-master/cds").toRealPath(), archive.getParent());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(archive.getParent())));
        try (var files = Files.list(archive.getParent())) {
            assertEquals(2, files.count(), "the archive and its checksum, no temporary file left");
        }

        Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("rw-r--r--"));
        Files.write(archive, new byte[] {1, 2, 4});  // changed behind the master's back
        assertTrue(cds.jvmArgs(4).get(0).startsWith("-XX:ArchiveClassesAtExit="), "dropped, and made again");
        assertTrue(Files.notExists(archive));
    }

    @Test
    void aCutOffDumpIsNotInstalledAndASecondBadArchiveEndsIt() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        AppCdsArchive cds = archive(config(jar, ON), env()).orElseThrow();
        String first = cds.jvmArgs(1).get(0);
        dump(first, false);   // stopped while writing: the header comes last
        cds.exited(1);
        String second = cds.jvmArgs(2).get(0);
        assertTrue(second.startsWith("-XX:ArchiveClassesAtExit="), "made once more: " + second);
        assertTrue(Files.notExists(Path.of(first.substring(first.indexOf('=') + 1))), "the bad dump is deleted");
        dump(second, true);
        cds.exited(2);
        mapped(cds.jvmArgs(3));
        cds.ready(3, (int) ProcessHandle.current().pid());   // this JVM has no such archive mapped: refused
        assertEquals(List.of(), cds.jvmArgs(4), "a second unusable archive: no more tries");
        assertEquals(List.of(), cds.jvmArgs(5));
    }

    @Test
    void aWorkerThatMappedTheArchiveConfirmsIt() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        AppCdsArchive cds = archive(config(jar, ON), env()).orElseThrow();
        dump(cds.jvmArgs(1).get(0), true);
        cds.exited(1);
        Path archive = mapped(cds.jvmArgs(2));
        try (var ch = java.nio.channels.FileChannel.open(archive)) {
            var map = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, 4096);  // as the worker's JVM would
            cds.ready(2, (int) ProcessHandle.current().pid());
            assertEquals(archive, mapped(cds.jvmArgs(3)), "still in use");
            assertTrue(map.capacity() > 0);
        }
    }

    @Test
    void aLinkInPlaceOfTheArchiveIsNeverMapped() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        AppCdsArchive cds = archive(config(jar, ON), env()).orElseThrow();
        dump(cds.jvmArgs(1).get(0), true);
        cds.exited(1);
        Path archive = mapped(cds.jvmArgs(2));
        Path elsewhere = Files.copy(archive, dir.resolve("elsewhere.jsa"));
        Files.delete(archive);
        Files.createSymbolicLink(archive, elsewhere);
        assertTrue(cds.jvmArgs(3).get(0).startsWith("-XX:ArchiveClassesAtExit="), cds.jvmArgs(3).toString());
        assertTrue(Files.exists(elsewhere));
    }

    private static String key(String option) {
        return Path.of(option.substring(option.indexOf('=') + 1)).getFileName().toString().split("\\.")[0];
    }

    private String keyOf(Config config, Map<String, String> env) {
        return key(archive(config, env).orElseThrow().jvmArgs(1).get(0));
    }

    @Test
    void aNewBuildNewJvmOptionsOrEnvironmentOptionsGetANewArchive() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        String before = keyOf(config(jar, ON), env());
        assertEquals(before, keyOf(config(jar, ON), env()), "same app, same key");
        assertNotEquals(before, keyOf(config(jar, ON, "-XX:+UseSerialGC"), env()), "jvm.args");
        Map<String, String> tool = Map.of("XDG_CACHE_HOME", dir.resolve("cache").toString(), "JAVA_TOOL_OPTIONS", "-XX:+UseSerialGC");
        assertNotEquals(before, keyOf(config(jar, ON), tool), "JAVA_TOOL_OPTIONS of the master's environment");
        Config withEnv = Config.builder().mainClass(PlainHttpApp.class.getName()).classpath(jar.toString()).javaCds(ON)
                .env(Map.of("JDK_JAVA_OPTIONS", "-Dx=1")).runtimeDir(dir.resolve("run")).build();
        assertNotEquals(before, keyOf(withEnv, env()), "JDK_JAVA_OPTIONS of the app's env");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000));
        assertNotEquals(before, keyOf(config(jar, ON), env()), "the jar's mtime is part of the key");

        Map<String, String> ownSharing = Map.of("XDG_CACHE_HOME", dir.resolve("cache").toString(), "JAVA_TOOL_OPTIONS", "-Xshare:off");
        assertTrue(archive(config(jar, ON), ownSharing).isEmpty(), "the environment chooses its own class sharing");
        Files.createDirectories(dir.resolve("classes"));
        Config withDir = Config.builder().mainClass(PlainHttpApp.class.getName()).classpath(jar + ":" + dir.resolve("classes"))
                .javaCds(ON).runtimeDir(dir.resolve("run")).build();
        assertTrue(AppCdsArchive.forClasspath(withDir, List.of(jar.toString(), dir.resolve("classes").toString()), env()).isEmpty(),
                "a directory on the class path cannot be archived");
    }

    @Test
    void autoUsesOnlyTheServiceCacheDirectoryAndOffAlwaysWins() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        JavaCdsSetting auto = JavaCdsSetting.DEFAULT;
        assertEquals(auto, Config.builder().exec(List.of("true")).build().javaCds(), "auto is the default");
        assertTrue(archive(config(jar, auto), env()).isEmpty(), "no $CACHE_DIRECTORY: no archive");
        Path service = Files.createDirectories(dir.resolve("var-cache/app"));
        Map<String, String> systemd = Map.of("CACHE_DIRECTORY", service.toString(), "XDG_CACHE_HOME", dir.resolve("cache").toString());
        String option = archive(config(jar, auto), systemd).orElseThrow().jvmArgs(1).get(0);
        assertEquals(service.resolve("cds").toRealPath(), Path.of(option.substring(option.indexOf('=') + 1)).getParent());
        assertTrue(archive(config(jar, JavaCdsSetting.parse("off")), systemd).isEmpty(), "java.cds=off wins");
        Path own = dir.resolve("own/archives");
        option = archive(config(jar, JavaCdsSetting.parse(own.toString())), systemd).orElseThrow().jvmArgs(1).get(0);
        assertEquals(own.toRealPath(), Path.of(option.substring(option.indexOf('=') + 1)).getParent(), "java.cds=DIR");
        assertThrows(ConfigException.class, () -> JavaCdsSetting.parse("archives"), "a relative directory");
    }

    @Test
    void aDynamicUserCacheIsUsedThroughSystemdsPrivateLink() throws Exception {
        // DynamicUser=yes: systemd makes /var/cache/private/APP (private/ owner-only) and links /var/cache/APP -> private/APP
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        Path real = Files.createDirectories(dir.resolve("var-cache/private/app"));
        Files.setPosixFilePermissions(real.getParent(), PosixFilePermissions.fromString("rwx------"));
        Path link = Files.createSymbolicLink(dir.resolve("var-cache/app"), Path.of("private/app"));
        String option = archive(config(jar, JavaCdsSetting.DEFAULT), Map.of("CACHE_DIRECTORY", link.toString()))
                .orElseThrow().jvmArgs(1).get(0);
        assertEquals(real.toRealPath().resolve("cds"), Path.of(option.substring(option.indexOf('=') + 1)).getParent(),
                "the JVM gets the real path below private/");
    }

    @Test
    void aDirectoryOtherUsersCouldChangeIsRefused() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Config config = config(jar, JavaCdsSetting.parse(shared.resolve("app/cds").toString()));
        assertTrue(archive(config, env()).isEmpty(), "a world-writable parent without the sticky bit");
        Path cds = Files.createDirectories(shared.resolve("app/cds"));
        String why = assertThrows(IOException.class, () -> SafeDirectory.check(cds.toRealPath(), Users.ownUid())).getMessage();
        assertTrue(why.contains(shared.toRealPath() + " is writable by other users") && why.endsWith("chmod go-w "
                + shared.toRealPath()), "names the problem and the fix: " + why);
        Files.setAttribute(shared, "unix:mode", 01777);
        assertTrue(archive(config, env()).isPresent(), "sticky, as /tmp");
        Path linked = Files.createSymbolicLink(dir.resolve("linked"), shared.resolve("app/cds"));
        String option = archive(config(jar, JavaCdsSetting.parse(linked.toString())), env()).orElseThrow().jvmArgs(1).get(0);
        assertEquals(shared.resolve("app/cds").toRealPath(), Path.of(option.substring(option.indexOf('=') + 1)).getParent(),
                "links resolved before the checks: the JVM gets the real path");
    }
}
