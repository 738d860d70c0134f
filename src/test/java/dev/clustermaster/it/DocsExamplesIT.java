package dev.clustermaster.it;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the examples of docs/examples.md as shown: writes the files of {@code <!-- file: NAME -->} blocks, runs the
 * {@code cluster-master run} line of each {@code <!-- run: TAG -->} block (8080/8000 replaced by free ports),
 * sends the request of its {@code curl} line through the shared socket and checks the answer against the comment.
 */
class DocsExamplesIT {
    private static final Duration T = Duration.ofSeconds(90);
    private static final Pattern FILE = Pattern.compile("<!-- file: (\\S+) -->\n```\\w*\n(.*?)```", Pattern.DOTALL);
    private static final Pattern RUN = Pattern.compile("<!-- run: (\\S+) -->\n```sh\n(.*?)```", Pattern.DOTALL);
    private static final Pattern CURL = Pattern.compile("curl [^\n]*?(http://127\\.0\\.0\\.1:(\\d+)/\\S*)[^\n]*#\\s*(.*)");

    @TempDir
    Path dir;

    private static String doc() throws IOException {
        return Files.readString(Path.of(System.getProperty("basedir", "."), "docs", "examples.md"));
    }

    /** The example's two lines: the master command and the request with its expected answer. */
    record Example(String run, String curl) {
    }

    /** The two lines of the run block TAG, as this test runs them (DocsCommandsIT checks the docs against it). */
    static Example example(String tag) throws IOException {
        Matcher m = RUN.matcher(doc());
        while (m.find()) {
            if (m.group(1).equals(tag)) {
                String[] lines = m.group(2).strip().split("\n");
                assertEquals(2, lines.length, "a run block is one command and one curl:\n" + m.group(2));
                return new Example(lines[0], lines[1]);
            }
        }
        throw new AssertionError("docs/examples.md has no run block " + tag);
    }

    /** The text of the doc's {@code <!-- file: NAME -->} block (DocsCommandsIT runs operations.md's conf with app.py). */
    static String docFile(String name) throws IOException {
        Matcher m = FILE.matcher(doc());
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return m.group(2);
            }
        }
        throw new AssertionError("docs/examples.md has no file block " + name);
    }

    private void writeFiles() throws IOException {
        Matcher m = FILE.matcher(doc());
        while (m.find()) {
            Files.writeString(dir.resolve(m.group(1)), m.group(2));
        }
    }

    /** A cluster-master launcher on PATH, as the package installs one. */
    private Path launcher() throws IOException {
        return TestLauncher.install(dir);
    }

    private static boolean onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }

    private static void requireProgram(String program) {
        if (!onPath(program)) {
            String why = "docs/examples.md: " + program + " is not installed, its example is SKIPPED";
            System.out.println("DocsExamplesIT: " + why);
            Assumptions.assumeTrue(false, why);
        }
    }

    /**
     * Runs the example's master, waits for all its workers to be ready, then requests the curl line's URL:
     * at once when {@code readyMeansServing}, else until it answers (a grace period is only a guess).
     */
    private void runExample(String tag, int size, boolean readyMeansServing) throws Exception {
        runExample(tag, size, readyMeansServing, (master, port, log) -> { });
    }

    /** What a test does with the example's master once it served the doc's request. */
    private interface Then {
        void accept(Process master, int port, Path log) throws Exception;
    }

    private void runExample(String tag, int size, boolean readyMeansServing, Then then) throws Exception {
        writeFiles();
        Example ex = example(tag);
        Matcher curl = CURL.matcher(ex.curl());
        assertTrue(curl.find(), "curl line with '# expected answer': " + ex.curl());
        int docPort = Integer.parseInt(curl.group(2));
        Map<String, String> ports = new LinkedHashMap<>();
        int listen = Http.freePort();
        int base = Http.freePorts(2 * size);
        ports.put("127.0.0.1:8080", "127.0.0.1:" + listen);
        ports.put("--port-base 8000", "--port-base " + base);
        ports.put("127.0.0.1:8001", "127.0.0.1:" + (base + 1));
        String command = ex.run();
        String curlLine = ex.curl();
        for (Map.Entry<String, String> e : ports.entrySet()) {
            command = command.replace(e.getKey(), e.getValue());
            curlLine = curlLine.replace(e.getKey(), e.getValue());
        }
        int port = docPort == 8080 ? listen : docPort == 8001 ? base + 1 : docPort;
        String path = curl.group(1).replaceFirst("http://127\\.0\\.0\\.1:\\d+", "");
        Pattern expected = Pattern.compile(Pattern.quote(curl.group(3).strip()).replaceAll("\\d+", "\\\\E\\\\d+\\\\Q"));

        Path log = dir.resolve("master.log");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "exec " + command).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PATH", launcher() + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        pb.environment().put("CM_RUNTIME_DIR", dir.resolve("run").toString());
        pb.environment().put("CM_LOG_JOURNAL", "off");
        pb.environment().put("JOURNAL_STREAM", "");
        Process master = pb.start();
        try {
            Wait.until("'all " + size + " workers ready' (" + tag + " example)", T,
                    () -> read(log).contains("all " + size + " workers ready") || !master.isAlive());
            assertTrue(master.isAlive(), "the master exited:\n" + read(log));
            String body = readyMeansServing ? Http.get(port, path)
                    : Wait.value("an answer on " + port, T, () -> Http.tryGet(port, path), b -> b != null);
            String answer = ex.curl().contains("%{http_code}") ? "200" : body.strip();
            assertTrue(expected.matcher(answer).matches(), "answer '" + answer + "' vs the doc's '" + curl.group(3) + "'");
            if (onPath("curl")) {
                Process c = new ProcessBuilder("bash", "-c", curlLine.replaceFirst("\\s+#.*", "")).redirectErrorStream(true).start();
                assertTrue(c.waitFor(30, TimeUnit.SECONDS));
                String out = new String(c.getInputStream().readAllBytes()).strip();
                assertEquals(0, c.exitValue(), out);
                assertTrue(expected.matcher(out).matches(), "curl printed '" + out + "' vs the doc's '" + curl.group(3) + "'");
            }
            then.accept(master, port, log);
            List<Integer> workers = new ArrayList<>(Procs.liveChildren(master.pid()));
            assertEquals(0, dev.clustermaster.os.Posix.get().kill((int) master.pid(), 15));
            assertTrue(master.waitFor(T.toSeconds(), TimeUnit.SECONDS), "graceful quit:\n" + read(log));
            assertEquals(0, master.exitValue(), read(log));
            // a worker stuck where SIGTERM cannot reach it (the Python example's accept()) is SIGKILLed instead
            assertFalse(read(log).contains("did not stop within"), "every worker stopped on SIGTERM:\n" + read(log));
            workers.forEach(pid -> assertTrue(!Procs.alive(pid), "worker " + pid + " gone"));
            System.out.printf("DocsExamplesIT %s: %s -> %s%n", tag, command, answer);
        } finally {
            if (master.isAlive()) {
                List<Integer> kids = Procs.liveChildren(master.pid());
                master.destroyForcibly();
                kids.forEach(pid -> dev.clustermaster.os.ProcessGroups.signalGroup(pid, 9));
            }
        }
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void pythonOnTheSharedSocketWithReadyOne() throws Exception {
        requireProgram("python3");
        runExample("python", 2, true);
    }

    @Test
    void noPythonWorkerWaitsInAcceptWhereItsStopCannotReachIt() throws Exception {
        // a connection wakes every idle worker's select(); with a blocking socket the losers would wait in accept(),
        // deaf to the SIGTERM handler's shutdown(), and each stop would end in SIGKILL after stop.timeout
        requireProgram("python3");
        runExample("python", 2, true, (master, port, log) -> {
            for (int i = 0; i < 300; i++) {
                Http.get(port, "/");
                for (int pid : Procs.liveChildren(master.pid())) {
                    String wchan = read(Path.of("/proc", Integer.toString(pid), "wchan"));
                    assertFalse(wchan.contains("accept"), "worker " + pid + " waits in " + wchan + " after request " + i);
                }
            }
        });
    }

    @Test
    void thePythonExampleDrainsSoARollingRestartUnderLoadFailsNoRequest() throws Exception {
        requireProgram("python3");
        runExample("python", 2, true, (master, port, log) -> {
            java.util.Set<Integer> old = new java.util.HashSet<>(Procs.liveChildren(master.pid()));
            try (HttpLoad load = new HttpLoad(port, 4)) {
                Wait.until("100 answers", T, () -> load.ok() >= 100);
                assertEquals(0, dev.clustermaster.os.Posix.get().kill((int) master.pid(), 1));
                Wait.until("the rolling restart", T, () -> read(log).contains("rolling restart done"));
                old.forEach(pid -> Wait.until("old worker " + pid + " exits", T, () -> !Procs.alive(pid)));
                long after = load.ok();
                Wait.until("100 more answers", T, () -> load.ok() >= after + 100);
                load.close();
                System.out.printf("DocsExamplesIT python rolling restart under load: %s%n", load.failureReport());
                assertEquals(0, load.failed(), "requests failed during the rolling restart: " + load.failureReport());
            }
        });
    }

    @Test
    void nodeOnTheSharedSocketReadyByItsLogLine() throws Exception {
        requireProgram("node");
        runExample("node", 2, true);
    }

    @Test
    void anyProgramOnItsOwnPortWithGrace() throws Exception {
        requireProgram("python3");
        runExample("sh", 2, false);
    }

    @Test
    void everyRunBlockIsCoveredByATest() throws IOException {
        Matcher m = RUN.matcher(doc());
        List<String> tags = new ArrayList<>();
        while (m.find()) {
            tags.add(m.group(1));
        }
        assertEquals(List.of("python", "node", "sh"), tags, "a new example needs its test here");
        assertNotNull(example("python"));
    }
}
