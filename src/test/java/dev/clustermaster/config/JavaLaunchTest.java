package dev.clustermaster.config;

import dev.clustermaster.apps.AppJars;
import dev.clustermaster.apps.PlainHttpApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JavaLaunchTest {
    @TempDir
    Path dir;

    private Config load(Map<String, String> cli) {
        return new ConfigLoader(OptionalLong::empty, 2).load(null, Map.of(), cli).runtimeDir(dir).build();
    }

    private String message(Map<String, String> cli) {
        return assertThrows(ConfigException.class, () -> load(cli)).getMessage();
    }

    @Test
    void theUsersClassPathComesFirstAndTheWorkerBootstrapStaysReachable() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        Config c = load(Map.of("main", PlainHttpApp.class.getName(), "classpath", jar.toString()));
        List<String> cp = c.javaLaunch().classpath();
        assertEquals(jar.toString(), cp.get(0), "user classes first");
        assertTrue(cp.size() > 1, "the bootstrap is appended: " + cp);
        List<String> argv = c.workerArgv();
        assertEquals(String.join(File.pathSeparator, cp), argv.get(argv.indexOf("-cp") + 1));
        assertEquals(List.of("dev.clustermaster.worker.WorkerMain", PlainHttpApp.class.getName()),
                argv.subList(argv.size() - 2, argv.size()));
        // from class directories the bootstrap is the one directory holding WorkerMain, none of the master's jars
        assertEquals(2, cp.size(), cp.toString());
        assertTrue(Files.exists(Path.of(cp.get(1)).resolve("dev/clustermaster/worker/WorkerMain.class")), cp.toString());
    }

    @Test
    void theBootstrapIsTheWorkerJarBesideTheMastersJar() throws Exception {
        Path share = Files.createDirectories(dir.resolve("share"));
        Path master = Files.writeString(share.resolve("cluster-master.jar"), "");
        String masterCp = master + File.pathSeparator + dir.resolve("logback-classic.jar");
        assertEquals(List.of(master.toString()), JavaLaunch.bootstrap(Optional.of(master), masterCp),
                "a master jar alone: the master's jar, as before");
        Path worker = Files.writeString(share.resolve("cluster-master-worker.jar"), "");
        assertEquals(List.of(worker.toString()), JavaLaunch.bootstrap(Optional.of(master), masterCp));
        assertEquals(List.of(share.toString()), JavaLaunch.bootstrap(Optional.of(share), masterCp), "class directories");
        assertEquals(List.of(master.toString(), dir.resolve("logback-classic.jar").toString()),
                JavaLaunch.bootstrap(Optional.empty(), masterCp), "unknown origin: the master's class path");
    }

    @Test
    void aMasterJarWithoutItsWorkerJarBesideGivesAWarningNamingTheFileAndTheFix() throws Exception {
        Path master = AppJars.build(dir.resolve("opt/cluster-master.jar"), null, null, PlainHttpApp.class);
        Path app = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        String main = PlainHttpApp.class.getName();
        JavaLaunch alone = JavaLaunch.resolve(main, app.toString(), null, master.toString(), Optional.of(master));
        assertEquals(List.of(app.toString(), master.toString()), alone.classpath());
        Path missing = dir.resolve("opt/cluster-master-worker.jar");
        assertEquals(Optional.of("cluster-master-worker.jar not found beside " + master + ": Java workers get the master's "
                + "jar on their class path (its logback, slf4j and jnr may clash with the app's); install the worker jar as "
                + missing + " (the packages ship it; a build makes target/cluster-master-VERSION-worker.jar)"), alone.warning());
        assertEquals(Optional.empty(), JavaLaunch.resolve(main, null, null, master.toString(), Optional.of(master)).warning(),
                "a main class from the master's own class path: the fallback adds nothing");
        Files.writeString(missing, "");
        assertEquals(Optional.empty(), JavaLaunch.resolve(main, app.toString(), null, master.toString(), Optional.of(master)).warning());
        assertEquals(Optional.empty(), load(Map.of("main", main, "classpath", app.toString())).javaLaunch().warning(),
                "class directories (tests, an IDE)");
    }

    @Test
    void theWorkerJarIsNamedAfterTheMastersJar() {
        Path d = Path.of("/usr/share/cluster-master");
        assertEquals(d.resolve("cluster-master-worker.jar"), JavaLaunch.workerJarBeside(d.resolve("cluster-master.jar")));
        assertEquals(d.resolve("cluster-master-0.1.0-worker.jar"), JavaLaunch.workerJarBeside(d.resolve("cluster-master-0.1.0-all.jar")));
        assertEquals(d.resolve("cluster-master-0.1.0-worker.jar"), JavaLaunch.workerJarBeside(d.resolve("cluster-master-0.1.0.jar")));
        assertEquals(d.resolve("cluster-master-worker.jar"), JavaLaunch.workerJarBeside(d.resolve("cluster-master-worker.jar")));
    }

    @Test
    void aJarRunsItsManifestMainClass() throws Exception {
        Path jar = AppJars.build(dir.resolve("lib/app.jar"), PlainHttpApp.class.getName(), "deps/", PlainHttpApp.class);
        Config c = load(Map.of("jar", jar.toString()));
        assertTrue(c.javaWorker());
        assertEquals(PlainHttpApp.class.getName(), c.mainClass());
        assertEquals(jar.toAbsolutePath().toString(), c.javaLaunch().classpath().get(0));
        Config other = load(Map.of("jar", jar.toString(), "main", PlainHttpApp.class.getName()));
        assertEquals(PlainHttpApp.class.getName(), other.mainClass(), "--main overrides Main-Class");
    }

    @Test
    void aClassInAManifestClassPathJarIsFound() throws Exception {
        AppJars.build(dir.resolve("lib/deps.jar"), null, null, PlainHttpApp.class);
        Path jar = AppJars.build(dir.resolve("app.jar"), PlainHttpApp.class.getName(), "lib/deps.jar");
        assertEquals(PlainHttpApp.class.getName(), load(Map.of("jar", jar.toString())).mainClass());
    }

    @Test
    void missingJarsAndClassesAreConfigErrorsNamingTheOptionAndTheFix() throws Exception {
        Path jar = AppJars.build(dir.resolve("app.jar"), null, null, PlainHttpApp.class);
        String missingJar = message(Map.of("jar", dir.resolve("nope.jar").toString()));
        assertEquals("jar: " + dir.resolve("nope.jar") + " does not exist or is not readable (fix --jar / jar=)", missingJar);
        assertEquals("jar: " + jar + " has no Main-Class in its manifest (give the class with --main / main=)",
                message(Map.of("jar", jar.toString())));
        assertEquals("classpath: /nonexistent/app.jar does not exist (fix --classpath / classpath=)",
                message(Map.of("main", "com.example.Server", "classpath", "/nonexistent/app.jar")));
        String noClass = message(Map.of("main", "com.example.Server", "classpath", jar.toString()));
        assertEquals("main: class com.example.Server not found in " + jar + " (fix --main/--classpath)", noClass);
        assertTrue(message(Map.of("main", "com.example.", "classpath", jar.toString())).startsWith("main: 'com.example.' is not a class name"));
        Path notAJar = Files.writeString(dir.resolve("text.jar"), "hello");
        assertTrue(message(Map.of("jar", notAJar.toString())).startsWith("jar: cannot read " + notAJar + " as a jar"));
        for (String m : List.of(missingJar, noClass)) {
            assertFalse(m.contains("\n"), "one line: " + m);
        }
    }

    @Test
    void wildcardEntriesAreSearched() throws Exception {
        AppJars.build(dir.resolve("libs/a.jar"), null, null, PlainHttpApp.class);
        Config c = load(Map.of("main", PlainHttpApp.class.getName(), "classpath", dir.resolve("libs") + "/*"));
        assertEquals(dir.resolve("libs") + "/*", c.javaLaunch().classpath().get(0));
    }
}
