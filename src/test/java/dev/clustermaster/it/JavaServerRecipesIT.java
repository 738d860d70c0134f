package dev.clustermaster.it;

import dev.clustermaster.os.Posix;
import dev.clustermaster.os.ProcessGroups;
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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/java-servers.md as written: each recipe's class is compiled against Jetty / Netty / the JDK (test
 * dependencies), its {@code cluster-master run} line runs with free ports, and real requests go through.
 */
class JavaServerRecipesIT {
    private static final Duration T = Duration.ofSeconds(90);
    private static final Pattern BLOCK = Pattern.compile(
            "<!-- file: (\\w+)\\.java -->\n```java\n(.*?)```.*?```sh\n(cluster-master run [^\n]*)\n```", Pattern.DOTALL);

    @TempDir
    Path dir;

    record Recipe(String className, String source, String command) {
    }

    /** The recipe's class and its run line, as this test runs them (DocsCommandsIT checks the docs against it). */
    static Recipe recipe(String className) throws IOException {
        Matcher m = BLOCK.matcher(Files.readString(Path.of(System.getProperty("basedir", "."), "docs", "java-servers.md")));
        while (m.find()) {
            if (m.group(1).equals(className)) {
                return new Recipe(m.group(1), m.group(2), m.group(3));
            }
        }
        throw new AssertionError("docs/java-servers.md has no recipe " + className);
    }

    private static List<String> testClassPath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return List.of(cp.split(File.pathSeparator));
    }

    /** Writes and compiles the recipe into dir/classes, with the server's jars in dir/lib as the doc says. */
    private void build(Recipe r, Predicate<String> libraries) throws IOException {
        Path src = Files.createDirectories(dir.resolve("src")).resolve(r.className() + ".java");
        Files.writeString(src, r.source());
        Path classes = Files.createDirectories(dir.resolve("classes"));
        Path lib = Files.createDirectories(dir.resolve("lib"));
        List<String> cp = new ArrayList<>();
        List<String> entries = new ArrayList<>(testClassPath());
        // an app's own logging provider (pom: it-libs), not on the test class path
        try (var itLibs = Files.list(Path.of(System.getProperty("cm.itLibs", "target/it-libs")))) {
            itLibs.map(Path::toString).forEach(entries::add);
        }
        for (String entry : entries) {
            Path p = Path.of(entry);
            if (libraries.test(p.getFileName().toString()) && Files.isRegularFile(p)) {
                Files.copy(p, lib.resolve(p.getFileName()));
                cp.add(entry);
            }
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, err, err, "-cp", String.join(File.pathSeparator, cp), "-d", classes.toString(), src.toString());
        assertEquals(0, rc, "javac " + r.className() + ":\n" + err);
    }

    private Process start(String command, Path log) throws IOException {
        Path bin = TestLauncher.install(dir);
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "exec " + command).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PATH", bin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        pb.environment().put("CM_RUNTIME_DIR", dir.resolve("run").toString());
        pb.environment().put("CM_REPL", "false");
        pb.environment().put("CM_SIZE", "2");
        pb.environment().put("CM_LOG_JOURNAL", "off");
        pb.environment().put("JOURNAL_STREAM", "");
        return pb.start();
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    private static void stop(Process master, Path log) throws InterruptedException {
        List<Integer> kids = Procs.liveChildren(master.pid());
        try {
            assertEquals(0, Posix.get().kill((int) master.pid(), 15));
            assertTrue(master.waitFor(T.toSeconds(), TimeUnit.SECONDS), "graceful quit:\n" + read(log));
            assertEquals(0, master.exitValue(), read(log));
        } finally {
            if (master.isAlive()) {
                master.destroyForcibly();
            }
            kids.forEach(pid -> ProcessGroups.signalGroup(pid, 9));
        }
    }

    /** Runs a shared-socket recipe: both workers answer, at once after "all ready"; returns the port. */
    private int runShared(Process master, Path log, int port, String server) {
        Wait.until("all 2 workers ready (" + server + ")", T,
                () -> read(log).contains("all 2 workers ready") || !master.isAlive());
        assertTrue(master.isAlive(), read(log));
        Set<String> seen = new HashSet<>();
        Wait.until("both " + server + " workers answer", T, () -> {
            String body = Http.tryGet(port, "/");
            assertTrue(body != null, "ready means serving; log:\n" + read(log));
            assertTrue(body.startsWith("hello from " + server + " worker "), body);
            seen.add(body.strip());
            return seen.size() == 2;
        });
        return port;
    }

    @Test
    void jettyServesTheInheritedChannelThroughARollingRestart() throws Exception {
        Recipe r = recipe("JettyApp");
        build(r, name -> name.startsWith("jetty-") || name.startsWith("slf4j-api-2"));
        int port = Http.freePort();
        Path log = dir.resolve("master.log");
        Process master = start(r.command().replace("127.0.0.1:8080", "127.0.0.1:" + port), log);
        try {
            runShared(master, log, port, "jetty");
            Set<Integer> old = new HashSet<>(Procs.liveChildren(master.pid()));
            try (HttpLoad load = new HttpLoad(port, 4)) {
                Wait.until("100 answers", T, () -> load.ok() >= 100);
                assertEquals(0, Posix.get().kill((int) master.pid(), 1));
                Wait.until("the rolling restart", T, () -> read(log).contains("rolling restart done"));
                old.forEach(pid -> Wait.until("old worker " + pid + " exits", T, () -> !Procs.alive(pid)));
                long after = load.ok();
                Wait.until("100 more answers", T, () -> load.ok() >= after + 100);
                load.close();
                System.out.printf("JavaServerRecipesIT jetty rolling restart under load: %s%n", load.failureReport());
                assertEquals(0, load.failed(), "the recipe drains without losing a request: " + load.failureReport());
            }
        } finally {
            stop(master, log);
        }
    }

    @Test
    void nettyServesTheInheritedChannel() throws Exception {
        Recipe r = recipe("NettyApp");
        build(r, name -> name.startsWith("netty-"));
        int port = Http.freePort();
        Path log = dir.resolve("master.log");
        Process master = start(r.command().replace("127.0.0.1:8080", "127.0.0.1:" + port), log);
        try {
            runShared(master, log, port, "netty");
        } finally {
            stop(master, log);
        }
    }

    @Test
    void theJdkHttpServerRunsOnItsOwnPortPerWorker() throws Exception {
        Recipe r = recipe("JdkApp");
        build(r, name -> false);
        int base = Http.freePorts(4);
        Path log = dir.resolve("master.log");
        Process master = start(r.command().replace("--port-base 8000", "--port-base " + base), log);
        try {
            Wait.until("all 2 workers ready (jdk)", T, () -> read(log).contains("all 2 workers ready") || !master.isAlive());
            assertEquals("hello from jdk worker 1", Http.get(base, "/").strip());
            assertEquals("hello from jdk worker 2", Http.get(base + 1, "/").strip());
        } finally {
            stop(master, log);
        }
    }
}
