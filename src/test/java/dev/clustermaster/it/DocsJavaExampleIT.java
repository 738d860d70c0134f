package dev.clustermaster.it;

import dev.clustermaster.os.Posix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's Java worker, extracted from README.md, compiled and run by the README's own two commands: under load,
 * a rolling restart (SIGHUP) of four such workers fails no request, because its onStop drain finishes what is in flight.
 */
class DocsJavaExampleIT {
    private static final Duration T = Duration.ofSeconds(90);
    private static final int SIZE = 4;
    private static final int HUP = 1;

    @TempDir
    Path dir;

    /** The README's ```java block that declares {@code className}. */
    static String readmeJava(String className) throws IOException {
        String readme = Files.readString(Path.of(System.getProperty("basedir", "."), "README.md"));
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        while (m.find()) {
            if (m.group(1).contains("public final class " + className + " ")) {
                return m.group(1);
            }
        }
        throw new AssertionError("README.md has no java block declaring class " + className);
    }

    /** The README's ```sh block right after the Java worker: its javac line and its cluster-master run line. */
    static List<String> readmeCommands() throws IOException {
        String readme = Files.readString(Path.of(System.getProperty("basedir", "."), "README.md"));
        Matcher m = Pattern.compile("public final class Server .*?```\n+```sh\n(.*?)```", Pattern.DOTALL).matcher(readme);
        if (!m.find()) {
            throw new AssertionError("README.md has no ```sh block after its Server worker");
        }
        return m.group(1).lines().map(l -> l.replaceFirst("\\s{2,}#.*", "").strip()).filter(l -> !l.isEmpty()).toList();
    }

    /** Compiles one source file against cluster-master's jar (or classes), into dir/classes. */
    static Path compile(Path dir, String className, String source) throws IOException {
        Path src = Files.createDirectories(dir.resolve("src")).resolve(className + ".java");
        Files.writeString(src, source);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        String jar = System.getProperty("cm.jar");
        String cp = jar != null && Files.exists(Path.of(jar)) ? jar : System.getProperty("java.class.path");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, err, err, "-cp", cp, "-d", classes.toString(), src.toString());
        assertEquals(0, rc, "javac " + src + ":\n" + err);
        return classes;
    }

    @Test
    void theReadmeWorkerDrainsSoARollingRestartUnderLoadFailsNoRequest() throws Exception {
        // the README's two commands as shown: javac against the packaged jar (here the built one), then run
        List<String> commands = readmeCommands();
        assertEquals(2, commands.size(), "javac and cluster-master run: " + commands);
        String javacLine = commands.get(0);
        assertTrue(javacLine.startsWith("javac -cp /usr/share/cluster-master/cluster-master-worker.jar "), javacLine);
        String jar = System.getProperty("cm.workerJar");
        String cp = jar != null && Files.exists(Path.of(jar)) ? jar : System.getProperty("java.class.path");
        Files.writeString(dir.resolve("Server.java"), readmeJava("Server"));
        Process javac = new ProcessBuilder("bash", "-c", javacLine.replace("/usr/share/cluster-master/cluster-master-worker.jar", "'" + cp + "'"))
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String javacOut = new String(javac.getInputStream().readAllBytes());
        assertEquals(0, javac.waitFor(), javacLine + ":\n" + javacOut);
        String runLine = commands.get(1);
        assertTrue(runLine.startsWith("cluster-master run ") && !runLine.contains("'") && runLine.contains("--size " + SIZE), runLine);
        int port = Http.freePort();
        List<String> args = new ArrayList<>(List.of(runLine.replace("127.0.0.1:8080", "127.0.0.1:" + port)
                .substring("cluster-master run ".length()).split("\\s+")));
        args.addAll(List.of("--stop-timeout", "30s", "--repl", "false", "--runtime-dir", dir.resolve("run").toString()));
        // in dir, where the README's javac put classes/ (sh execs the master: it is the process itself)
        List<String> inDir = List.of("sh", "-c", "cd \"$0\" && exec \"$@\"", dir.toString());
        try (MasterProcess m = MasterProcess.startWrapped(dir, List.of(), inDir, false, args.toArray(String[]::new))) {
            m.waitForOutput("all " + SIZE + " workers ready", T);
            Set<Integer> old = new HashSet<>(m.workers());
            assertEquals(SIZE, old.size(), m.output());
            try (HttpLoad load = new HttpLoad(port, 4)) {
                Wait.until("100 answers", T, () -> load.ok() >= 100);
                assertEquals(0, Posix.get().kill(m.pid(), HUP));
                m.waitForOutput("rolling restart done", T);
                old.forEach(pid -> Wait.until("old worker " + pid + " exits", T, () -> !Procs.alive(pid)));
                long after = load.ok();
                Wait.until("100 more answers", T, () -> load.ok() >= after + 100);
                load.close();
                System.out.printf("DocsJavaExampleIT rolling restart of %d README workers under load: %s%n", SIZE,
                        load.failureReport());
                assertEquals(0, load.failed(), "requests failed during the rolling restart: " + load.failureReport());
            }
            String log = m.output();
            assertEquals(-1, log.indexOf("SIGKILL"), "every old worker drained within the stop timeout:\n" + log);
        }
    }
}
