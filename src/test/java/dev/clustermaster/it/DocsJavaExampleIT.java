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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The README's Java worker, extracted from README.md and compiled as a user would: under load, a rolling restart
 * (SIGHUP) of four such workers fails no request, because its onStop drain finishes what is in flight.
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
        Path classes = compile(dir, "Server", readmeJava("Server"));
        int port = Http.freePort();
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--main", "Server", "--classpath", classes.toString(),
                "--ready", "notify", "--listen", "tcp://127.0.0.1:" + port, "--size", Integer.toString(SIZE),
                "--stop-timeout", "30s", "--repl", "false", "--runtime-dir", dir.resolve("run").toString())) {
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
