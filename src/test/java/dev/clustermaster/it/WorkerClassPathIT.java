package dev.clustermaster.it;

import dev.clustermaster.apps.AppJars;
import dev.clustermaster.apps.PlainHttpApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A --jar worker's class path holds the app and the thin worker jar, none of the master's libraries: an app with
 * its own logging (a Spring Boot 2 era slf4j 1.7 + logback 1.2, or slf4j 2 without a binding) runs as it does
 * alone. The app is compiled here with javac and packed with its libraries in lib/, as a user's build would. A JVM
 * started with --exec that has only the worker jar runs on without jnr (one warning line).
 */
class WorkerClassPathIT {
    private static final Duration T = Duration.ofSeconds(60);
    /** Libraries the master's class path also carries (other versions): none may load in a worker unless the app brings them. */
    private static final Pattern MASTER_LIBRARY = Pattern.compile(
            " (ch\\.qos\\.logback|org\\.slf4j|jnr\\.|com\\.kenai|picocli|dev\\.clustermaster\\.(?!worker\\.))\\S*");

    private static final String APP = """
            import java.net.URL;
            import java.nio.ByteBuffer;
            import java.nio.channels.ServerSocketChannel;
            import java.nio.channels.SocketChannel;
            import java.nio.charset.StandardCharsets;
            import org.slf4j.Logger;
            import org.slf4j.LoggerFactory;

            public class LoggingApp {
                public static void main(String[] args) throws Exception {
                    Logger log = LoggerFactory.getLogger(LoggingApp.class); // slf4j binds, logback configures itself
                    URL own = LoggingApp.class.getResource("/app-logback.xml");
                    if (own != null) {
                        OwnLogging.configure(own); // as Spring Boot does with logback-spring.xml
                    }
                    Class<?> factory = LoggerFactory.getILoggerFactory().getClass();
                    log.info("serving");
                    System.out.println("LoggingApp serving, slf4j bound to " + factory.getName() + " from "
                            + factory.getProtectionDomain().getCodeSource().getLocation().getPath());
                    ServerSocketChannel listener = (ServerSocketChannel) System.inheritedChannel();
                    byte[] body = "logging app ok\\n".getBytes(StandardCharsets.UTF_8);
                    while (true) {
                        try (SocketChannel c = listener.accept()) {
                            c.read(ByteBuffer.allocate(4096));
                            c.write(ByteBuffer.wrap(("HTTP/1.1 200 OK\\r\\nContent-Length: " + body.length
                                    + "\\r\\nConnection: close\\r\\n\\r\\n").getBytes(StandardCharsets.US_ASCII)));
                            c.write(ByteBuffer.wrap(body));
                        }
                    }
                }
            }

            class OwnLogging {
                static void configure(URL xml) throws Exception {
                    ch.qos.logback.classic.LoggerContext context = (ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory();
                    context.reset();
                    ch.qos.logback.classic.joran.JoranConfigurator joran = new ch.qos.logback.classic.joran.JoranConfigurator();
                    joran.setContext(context);
                    joran.doConfigure(xml);
                }
            }
            """;
    private static final String APP_LOGBACK = """
            <configuration>
              <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                <encoder><pattern>LEGACYAPP %level %logger{0} - %msg%n</pattern></encoder>
              </appender>
              <root level="INFO"><appender-ref ref="OUT"/></root>
            </configuration>
            """;

    @TempDir
    Path dir;

    @Test
    void aSpringBoot2EraAppWithSlf4j17AndLogback12ServesWithItsOwnLoggingConfig() throws Exception {
        List<Path> libs = legacyLogging();
        Path jar = appJar(libs, true);
        int port = Http.freePort();
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--jar", jar.toString(), "--size", "1",
                "--ready", "grace", "--listen", "tcp://127.0.0.1:" + port, "--repl", "false",
                "--runtime-dir", dir.resolve("run").toString())) {
            awaitServingOrDeath(m);
            assertEquals("logging app ok\n", Wait.value("an answer", T, () -> Http.tryGet(port, "/"), b -> b != null));
            String out = m.output();
            assertTrue(out.contains("\nLEGACYAPP INFO LoggingApp - serving\n"), "the app's own logback pattern:\n" + out);
            assertTrue(out.contains("slf4j bound to ch.qos.logback.classic.LoggerContext from " + dir.resolve("lib/logback-classic-1.2.13.jar")),
                    "the app's logback 1.2:\n" + out);
            assertFalse(out.contains("AbstractMethodError"), out);
        }
    }

    @Test
    void aWorkerLoadsNoneOfTheMastersLibrariesAndAnSlf4jAppWithoutBindingStaysUnbound() throws Exception {
        Path slf4j2 = Path.of(org.slf4j.LoggerFactory.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path jar = appJar(List.of(slf4j2), false);
        Path classLog = dir.resolve("classes.log");
        int port = Http.freePort();
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--jar", jar.toString(), "--size", "1",
                "--ready", "grace", "--listen", "tcp://127.0.0.1:" + port, "--repl", "false",
                "--jvm-arg=-Xlog:class+load:file=" + classLog, "--runtime-dir", dir.resolve("run").toString())) {
            awaitServingOrDeath(m);
            assertEquals("logging app ok\n", Wait.value("an answer", T, () -> Http.tryGet(port, "/"), b -> b != null));
            String out = m.output();
            assertTrue(out.contains("slf4j bound to org.slf4j.helpers.NOPLoggerFactory"), "no binding of the master's:\n" + out);
            List<String> loaded = Files.readAllLines(classLog);
            assertTrue(loaded.stream().anyMatch(l -> l.contains(" dev.clustermaster.worker.WorkerMain ")), "the log is the worker's");
            List<String> foreign = new ArrayList<>();
            for (String line : loaded) {
                Matcher c = MASTER_LIBRARY.matcher(line);
                // the app's own slf4j-api (from its lib/) is no master library
                if (c.find() && !(c.group().startsWith(" org.slf4j") && line.contains("source: file:" + dir.resolve("lib/" + slf4j2.getFileName())))) {
                    foreign.add(line);
                }
            }
            assertEquals(List.of(), foreign, "classes of the master's libraries in the worker");
            Matcher cp = Pattern.compile(" -cp (\\S+) dev\\.clustermaster\\.worker\\.WorkerMain ").matcher(out);
            assertTrue(cp.find(), out);
            assertEquals(jar + File.pathSeparator + System.getProperty("cm.workerJar"), cp.group(1),
                    "the app's jar, then the thin worker jar");
            assertFalse(out.contains(" not found beside "), "the worker jar is beside target/'s master jar:\n" + out);
        }
    }

    @Test
    void aMasterJarWithoutItsWorkerJarBesideSaysSoOnceAtStartNamingTheFileAndTheFix() throws Exception {
        Path alone = Files.copy(Path.of(System.getProperty("cm.jar")),
                Files.createDirectories(dir.resolve("opt")).resolve("cluster-master.jar"));
        Path jar = AppJars.build(dir.resolve("app.jar"), PlainHttpApp.class.getName(), null, PlainHttpApp.class);
        int port = Http.freePort();
        try (MasterProcess m = MasterProcess.startJar(dir, alone, "--jar", jar.toString(), "--size", "2",
                "--ready", "grace", "--listen", "tcp://127.0.0.1:" + port, "--repl", "false",
                "--runtime-dir", dir.resolve("run").toString())) {
            Wait.until("both workers serve, or one dies", T, () -> m.output().contains(" died: ")
                    || m.output().split("PlainHttpApp started in ", -1).length - 1 == 2);
            Wait.value("an answer", T, () -> Http.tryGet(port, "/"), b -> b != null);
            dev.clustermaster.os.ProcessGroups.signalProcess(m.pid(), 1); // SIGHUP: a reload, two more spawns
            m.waitForOutput("rolling restart done", T);
            String out = m.output();
            assertFalse(out.contains(" died: "), out);
            String warning = "cluster-master-worker.jar not found beside " + alone + ": Java workers get the master's "
                    + "jar on their class path (its logback, slf4j and jnr may clash with the app's); install the worker jar as "
                    + alone.resolveSibling("cluster-master-worker.jar");
            assertEquals(1, out.split(Pattern.quote(warning), -1).length - 1, "one warning for four spawns and a reload:\n" + out);
            assertTrue(out.lines().anyMatch(l -> l.contains(warning) && l.contains("WARN")), "at level WARN:\n" + out);
            Matcher cp = Pattern.compile(" -cp (\\S+) dev\\.clustermaster\\.worker\\.WorkerMain ").matcher(out);
            assertTrue(cp.find(), out);
            assertEquals(jar + File.pathSeparator + alone, cp.group(1), "the fallback it warns of");
        }
    }

    @Test
    void anExecJavaWorkerWithOnlyTheWorkerJarRunsOnWithoutJnrAndSaysSoOnce() throws Exception {
        Path src = Files.createDirectories(dir.resolve("api")).resolve("ApiApp.java");
        Files.writeString(src, """
                public class ApiApp {
                    public static void main(String[] args) throws Exception {
                        dev.clustermaster.worker.ClusterWorker.ready();
                        System.out.println("ApiApp runs on after ready()");
                        Thread.sleep(Long.MAX_VALUE);
                    }
                }
                """);
        String workerJar = System.getProperty("cm.workerJar");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, err, err, "-cp", workerJar, "-d",
                dir.resolve("api").toString(), src.toString()), err.toString());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--exec", java, "--size", "1", "--ready", "grace",
                "--repl", "false", "--runtime-dir", dir.resolve("run").toString(),
                "--", "-cp", workerJar + File.pathSeparator + dir.resolve("api"), "ApiApp")) {
            Wait.until("the app runs on after ready(), or dies", T,
                    () -> m.output().contains("ApiApp runs on after ready()") || m.output().contains(" died: "));
            String out = m.output();
            assertFalse(out.contains(" died: "), out);
            assertEquals(1, out.split("jnr-unixsocket is not usable", -1).length - 1, out);
        }
    }

    private static void awaitServingOrDeath(MasterProcess m) {
        Wait.until("the app serves, or its worker dies", T,
                () -> m.output().contains("LoggingApp serving") || m.output().contains(" died: "));
        assertFalse(m.output().contains(" died: "), "the worker died:\n" + m.output());
    }

    /** slf4j-api 1.7 and logback 1.2, copied by the build (pom: it-libs). */
    private static List<Path> legacyLogging() throws IOException {
        Path from = Path.of(System.getProperty("cm.itLibs", "target/it-libs"));
        List<Path> libs = List.of(from.resolve("slf4j-api-1.7.36.jar"), from.resolve("logback-classic-1.2.13.jar"),
                from.resolve("logback-core-1.2.13.jar"));
        for (Path p : libs) {
            if (!Files.isRegularFile(p)) {
                throw new IOException(p + " is missing: run through mvn verify (pom: it-libs)");
            }
        }
        return libs;
    }

    /**
     * dir/app.jar (Main-Class LoggingApp, Class-Path lib/...) with the libraries in dir/lib; with ownLogging the
     * app carries app-logback.xml and configures logback from it. javac compiles against logback 1.2 either way.
     */
    private Path appJar(List<Path> libs, boolean ownLogging) throws IOException, InterruptedException {
        Path lib = Files.createDirectories(dir.resolve("lib"));
        List<String> manifestCp = new ArrayList<>();
        for (Path p : libs) {
            Files.copy(p, lib.resolve(p.getFileName()));
            manifestCp.add("lib/" + p.getFileName());
        }
        Path src = Files.createDirectories(dir.resolve("src")).resolve("LoggingApp.java");
        Files.writeString(src, APP);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String compileCp = String.join(File.pathSeparator, legacyLogging().stream().map(Path::toString).toList());
        assertEquals(0, javac.run(null, err, err, "-cp", compileCp, "-d", classes.toString(), src.toString()), err.toString());
        if (ownLogging) {
            Files.writeString(classes.resolve("app-logback.xml"), APP_LOGBACK);
        }
        Path manifest = Files.writeString(dir.resolve("manifest.txt"),
                "Main-Class: LoggingApp\nClass-Path: " + String.join(" ", manifestCp) + "\n");
        Path jar = dir.resolve("app.jar");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jar").toString(), "--create",
                "--file", jar.toString(), "--manifest", manifest.toString(), "-C", classes.toString(), ".")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "jar: " + out);
        return jar;
    }
}
