package dev.clustermaster.it;

import ch.qos.logback.classic.Level;
import dev.clustermaster.cli.Main;
import dev.clustermaster.config.Config;
import dev.clustermaster.control.Json;
import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.WorkerView;
import dev.clustermaster.os.Posix;
import dev.clustermaster.runtime.ClusterMaster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 4 end to end: the REPL over a real unix socket, {@code cluster-master ctl} and the HTTP status port,
 * all against a real in-process master with real worker processes (the control package's own tests use a fake API).
 */
class ControlIT {
    private static final Duration T = Duration.ofSeconds(20);
    private static final String PROMPT = "cm> ";
    /**
     * A worker that answers SIGUSR1 by writing $OUT/usr1.<slot>; TERM (default action) ends it. Its stderr is
     * dropped: sh reports its sleep killed by the group's USR1, on the test JVM's stderr, i.e. the build console.
     */
    private static final String TRAP_WORKER =
            "exec 2>/dev/null; trap 'echo usr1 > \"$OUT/usr1.$CM_CHILD_ID\"' USR1; while :; do sleep 0.1; done";

    @TempDir
    Path dir;
    private ClusterMaster master;
    private Path socket;
    private final List<Repl> repls = new ArrayList<>();

    @BeforeEach
    void startMaster() throws IOException {
        master = ClusterMaster.start(Config.builder()
                .exec("sh", "-c", TRAP_WORKER, "worker")
                .size(2)
                .readyGraceMillis(200)
                .stopTimeoutMillis(3_000)
                .signals(false)
                .runtimeDir(dir.resolve("run"))
                .httpPort(0)
                .env("OUT", dir.toString())
                .build());
        socket = master.config().replSocket();
        waitReady(2);
    }

    @AfterEach
    void stopMaster() {
        repls.forEach(Repl::close);
        InProcessMaster.stop(master, Duration.ofSeconds(10));
    }

    // ------------------------------------------------------------------ REPL

    @Test
    void replOverTheUnixSocketControlsRealWorkers() throws Exception {
        Repl repl = repl();

        ClusterSnapshot two = master.snapshot();
        String workers = repl.command("workers");
        assertEquals(2, workers.lines().count(), workers);
        for (WorkerView w : two.workers()) {
            assertTrue(workers.contains("slot " + w.slot() + ", pid " + w.pid() + ", ready"), workers);
        }

        assertEquals("resized to 3 (was 2)", repl.command("resize(3)"));
        assertEquals("resized to 3 (was 3)", repl.command("resize 3"));
        assertEquals("3", repl.command("size"));
        ClusterSnapshot three = waitReady(3);
        assertEquals(List.of(1, 2, 3), slots(three));
        List<Integer> children = Procs.liveChildren(Posix.get().getpid());
        for (WorkerView w : three.workers()) {
            assertTrue(children.contains(w.pid()), "worker " + w.pid() + " is a live child of the master: " + children);
            assertTrue(Procs.environ(w.pid()).contains("\nCM_CHILD_ID=" + w.slot() + "\n"));
        }
        for (WorkerView w : two.workers()) {
            assertTrue(pids(three).contains(w.pid()), "growing kept the first workers");
        }

        String selected = repl.command("select(pid)");
        assertEquals(3, selected.lines().count(), selected);
        for (WorkerView w : three.workers()) {
            assertTrue(selected.lines().anyMatch(l -> l.equals("worker " + w.workerId() + ": " + w.pid())), selected);
        }

        String status = repl.command("status");
        List<String> lines = status.lines().toList();
        assertTrue(lines.get(0).startsWith("master pid " + Posix.get().getpid() + ", running, 3/3 ready"), status);
        assertTrue(lines.get(1).matches("slot\\s+pid\\s+state\\s+age\\s+restarts\\s+rss\\s+cpu\\s+status"), status);
        for (WorkerView w : three.workers()) {
            String row = lines.stream().filter(l -> l.startsWith(w.slot() + " ") && l.contains(" " + w.pid() + " "))
                    .findFirst().orElseThrow(() -> new AssertionError("no row for " + w + " in\n" + status));
            assertTrue(row.matches(".*\\sready\\s.*\\s\\d+(\\.\\d)? (B|KiB|MiB|GiB)\\s+\\d+\\.\\d%$"),
                    "row with a real rss and cpu: " + row);
        }

        assertEquals("restarted 3 workers", repl.command("restart()"));
        ClusterSnapshot restarted = waitReady(3);
        assertEquals(List.of(1, 2, 3), slots(restarted));
        Set<Integer> before = new HashSet<>(pids(three));
        for (WorkerView w : restarted.workers()) {
            assertFalse(before.contains(w.pid()), "pid " + w.pid() + " replaced");
            assertEquals(1, w.restarts());
        }
        before.forEach(pid -> Wait.until("old worker " + pid + " gone", T, () -> !Procs.alive(pid)));

        int slot2 = pidOfSlot(restarted, 2);
        assertEquals("sent SIGUSR1 to 1 worker", repl.command("signal 2 USR1"));
        Path marker = dir.resolve("usr1.2");
        Wait.until("slot 2 handled SIGUSR1", T, () -> readQuietly(marker).equals("usr1\n"));
        assertFalse(Files.exists(dir.resolve("usr1.1")), "slot 1 got no signal");
        assertFalse(Files.exists(dir.resolve("usr1.3")), "slot 3 got no signal");
        assertTrue(Procs.alive(slot2), "the trapped signal did not end the worker");
        assertTrue(repl.command("signal 7 USR1").startsWith("error: no running worker in slot 7"));

        Object parsed = Json.parse(repl.command("json workers"));
        Map<?, ?> reply = (Map<?, ?>) parsed;
        assertEquals(Boolean.TRUE, reply.get("ok"));
        assertEquals("workers", reply.get("cmd"));
        List<?> data = (List<?>) reply.get("data");
        ClusterSnapshot now = master.snapshot();
        assertEquals(now.workers().size(), data.size());
        for (int i = 0; i < data.size(); i++) {
            Map<?, ?> w = (Map<?, ?>) data.get(i);
            assertEquals((long) now.workers().get(i).pid(), w.get("pid"));
            assertEquals((long) now.workers().get(i).slot(), w.get("slot"));
            assertEquals("ready", w.get("state"));
        }
    }

    @Test
    void malformedLinesDoNotEndTheSessionAndDebugReachesOtherRepls() throws Exception {
        Repl first = repl();
        Repl second = repl();
        assertEquals("2", first.command("connections"));

        assertEquals("error: missing ')' in resize(...)", first.command("resize("));
        first.send(new byte[]{(byte) 0xff, (byte) 0xfe, 0x01, '\n'});
        assertTrue(first.awaitAnswer().startsWith("error: malformed input"));
        assertEquals("error: resize needs a whole number >= 0", first.command("resize(-1)"));
        assertEquals("2", first.command("size"), "the same connection still works after bad lines");
        assertEquals(2, master.snapshot().desiredSize(), "bad lines changed nothing");

        assertEquals("debug: hello", first.command("debug(hello)"));
        second.awaitBroadcast("debug: hello");

        assertEquals("bye", first.exitAndAwaitClose(".exit"));
        Wait.until("server counts one connection", T, () -> {
            try {
                return second.command("connections").equals("1");
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void stopOverTheSocketEndsTheMasterItsWorkersAndTheSocketFile() throws Exception {
        BasicFileAttributes attrs = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertTrue(attrs.isOther(), "the control path is a socket");
        int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        assertEquals("660", Integer.toOctalString(mode & 07777));
        assertEquals(Posix.get().getuid(), (Integer) Files.getAttribute(socket, "unix:uid", LinkOption.NOFOLLOW_LINKS));

        Repl repl = repl();
        assertEquals(socket.toString(), repl.command("sock"));
        List<Integer> workers = pids(master.snapshot());
        assertEquals("stopping 2 workers", repl.command("stop()"));
        assertEquals("", repl.awaitClose(), "the master closed the session as it exited");
        assertEquals(0, master.exitCode().get(15, TimeUnit.SECONDS));
        workers.forEach(pid -> assertFalse(Procs.alive(pid), "worker " + pid + " gone"));
        // only our workers: other tests in this JVM have children of their own
        assertTrue(Procs.zombieChildren(Posix.get().getpid()).stream().noneMatch(workers::contains), "no zombie left");
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "socket file removed");
    }

    // ------------------------------------------------------------------ ctl

    @Test
    void ctlTalksToTheRealMasterWithExitCodes() throws Exception {
        String path = socket.toString();

        Ctl size = ctl("--socket", path, "size");
        assertEquals(0, size.code, size.toString());
        assertEquals("2", size.out.strip());

        Ctl status = ctl("--socket", path, "--json", "status");
        assertEquals(0, status.code, status.toString());
        Map<?, ?> json = (Map<?, ?>) Json.parse(status.out.strip());
        assertEquals(Boolean.TRUE, json.get("ok"));
        Map<?, ?> data = (Map<?, ?>) json.get("data");
        assertEquals((long) Posix.get().getpid(), data.get("masterPid"));
        List<?> rows = (List<?>) data.get("workers");
        assertEquals(2, rows.size());
        Set<Long> snapshotPids = new HashSet<>();
        master.snapshot().workers().forEach(w -> snapshotPids.add((long) w.pid()));
        for (Object row : rows) {
            Map<?, ?> w = (Map<?, ?>) row;
            assertTrue(snapshotPids.contains(w.get("pid")), "pid " + w.get("pid") + " is a worker");
            assertTrue(((Long) w.get("rssBytes")) > 0, "real rss: " + w);
        }

        int removed = pidOfSlot(master.snapshot(), 2);
        Ctl resize = ctl("--socket", path, "resize", "1");
        assertEquals(0, resize.code, resize.toString());
        assertEquals("resized to 1 (was 2)", resize.out.strip());
        assertEquals(List.of(1), slots(waitReady(1)));
        Wait.until("slot 2's worker stopped", T, () -> !Procs.alive(removed));

        Ctl failed = ctl("--socket", path, "signal", "5", "TERM");
        assertEquals(1, failed.code, failed.toString());
        assertTrue(failed.err.contains("no running worker in slot 5"), failed.toString());

        Ctl badArgument = ctl("--socket", path, "resize", "many");
        assertEquals(2, badArgument.code, badArgument.toString());
        assertTrue(badArgument.err.contains("resize needs a whole number"), badArgument.toString());
        Ctl unknown = ctl("--socket", path, "frobnicate");
        assertEquals(2, unknown.code, unknown.toString());
        assertEquals(1, master.snapshot().desiredSize(), "failed commands changed nothing");

        Ctl noMaster = ctl("--socket", dir.resolve("nobody-here.sock").toString(), "size");
        assertEquals(3, noMaster.code, noMaster.toString());
        assertTrue(noMaster.err.contains("cannot connect"), noMaster.toString());
    }

    // ------------------------------------------------------------------ HTTP

    @Test
    void httpStatusPortServesStatusMetricsProbesLogLevelAndChildExit() throws Exception {
        InetSocketAddress address = master.httpAddress().orElseThrow(() -> new AssertionError("HTTP port is on"));
        assertTrue(address.getPort() > 0, "port 0 resolved to the bound port: " + address);
        assertTrue(address.getAddress().isLoopbackAddress(), "binds loopback by default: " + address);
        URI base = URI.create("http://127.0.0.1:" + address.getPort());
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        ClusterSnapshot before = master.snapshot();
        HttpResponse<String> root = get(http, base.resolve("/"));
        assertEquals(200, root.statusCode());
        assertTrue(root.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        Map<?, ?> status = (Map<?, ?>) Json.parse(root.body());
        assertEquals((long) Posix.get().getpid(), status.get("masterPid"));
        assertEquals(2L, status.get("desired"));
        List<?> rows = (List<?>) status.get("workers");
        assertEquals(2, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals((long) before.workers().get(i).pid(), ((Map<?, ?>) rows.get(i)).get("pid"));
        }

        HttpResponse<String> metrics = get(http, base.resolve("/metrics"));
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        assertTrue(metrics.body().lines().anyMatch("cluster_master_desired_workers 2"::equals), metrics.body());
        assertTrue(metrics.body().lines().anyMatch("cluster_master_workers{state=\"ready\"} 2"::equals), metrics.body());
        for (WorkerView w : before.workers()) {
            assertTrue(metrics.body().contains("cluster_master_worker_rss_bytes{slot=\"" + w.slot() + "\",pid=\"" + w.pid() + "\"} "),
                    metrics.body());
        }

        HttpResponse<String> health = get(http, base.resolve("/healthz"));
        assertEquals(200, health.statusCode());
        assertEquals("ok", health.body().strip());
        HttpResponse<String> ready = get(http, base.resolve("/readyz"));
        assertEquals(200, ready.statusCode(), ready.body());
        assertEquals(Boolean.TRUE, ((Map<?, ?>) Json.parse(ready.body())).get("ready"));

        ch.qos.logback.classic.Logger rootLogger =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        Level previous = rootLogger.getLevel();
        try {
            Level unchanged = rootLogger.getLevel();
            assertEquals(405, get(http, base.resolve("/logLevel/debug")).statusCode(), "changes need POST");
            assertEquals(unchanged, rootLogger.getLevel(), "a GET changes nothing");
            HttpResponse<String> debug = post(http, base.resolve("/logLevel/debug"));
            assertEquals(200, debug.statusCode(), debug.body());
            assertEquals(Level.DEBUG, rootLogger.getLevel());
            HttpResponse<String> bogus = post(http, base.resolve("/logLevel/chatty"));
            assertEquals(400, bogus.statusCode(), bogus.body());
            assertEquals(Level.DEBUG, rootLogger.getLevel(), "a bad level changes nothing");
            HttpResponse<String> info = post(http, base.resolve("/logLevel/info"));
            assertEquals(200, info.statusCode(), info.body());
            assertEquals(Level.INFO, rootLogger.getLevel());
        } finally {
            rootLogger.setLevel(previous);
        }

        HttpResponse<String> exit = http.send(HttpRequest.newBuilder(base.resolve("/children/exit"))
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(40)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, exit.statusCode(), exit.body());
        assertTrue(exit.body().contains("stopping 2 workers"), exit.body());
        Set<Integer> old = new HashSet<>(pids(before));
        ClusterSnapshot after = Wait.value("both slots replaced", T, () -> master.snapshot(),
                s -> s.readyCount() == 2 && s.workers().size() == 2
                        && s.workers().stream().noneMatch(w -> old.contains(w.pid())));
        assertEquals(slots(before), slots(after), "same slots");
        old.forEach(pid -> Wait.until("old worker " + pid + " gone", T, () -> !Procs.alive(pid)));

        HttpResponse<String> missing = get(http, base.resolve("/nope"));
        assertEquals(404, missing.statusCode());
    }

    // ------------------------------------------------------------------ helpers

    private ClusterSnapshot waitReady(int n) {
        return Wait.value(n + " ready workers", T, () -> master.snapshot(),
                s -> s.readyCount() == n && s.workers().size() == n);
    }

    private static List<Integer> pids(ClusterSnapshot s) {
        return s.workers().stream().map(WorkerView::pid).toList();
    }

    private static List<Integer> slots(ClusterSnapshot s) {
        return s.workers().stream().map(WorkerView::slot).sorted().toList();
    }

    private static int pidOfSlot(ClusterSnapshot s, int slot) {
        return s.workers().stream().filter(w -> w.slot() == slot).findFirst().orElseThrow().pid();
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    private static HttpResponse<String> post(HttpClient http, URI uri) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(HttpClient http, URI uri) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Repl repl() throws IOException {
        Repl r = new Repl(socket);
        repls.add(r);
        r.awaitAnswer(); // the greeting is just the prompt
        return r;
    }

    private record Ctl(int code, String out, String err) {
    }

    /** {@code cluster-master ctl ...} in-process, as the launcher would run it. */
    private static Ctl ctl(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> argv = new ArrayList<>();
        argv.add("ctl");
        argv.add("--timeout");
        argv.add("30");
        Collections.addAll(argv, args);
        int code = cl.execute(argv.toArray(String[]::new));
        return new Ctl(code, out.toString(), err.toString());
    }

    /**
     * An interactive REPL connection over a JDK unix socket. A reader thread collects everything the server sends;
     * every wait is bounded and a failure shows what arrived.
     */
    private static final class Repl implements AutoCloseable {
        private final SocketChannel channel;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private final Thread reader;
        private boolean eof;
        /** Chars of the received text already returned as answers. */
        private int consumed;

        Repl(Path socket) throws IOException {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            reader = new Thread(this::pump, "control-it-repl-reader");
            reader.setDaemon(true);
            reader.start();
        }

        private void pump() {
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            try {
                while (true) {
                    buffer.clear();
                    int n = channel.read(buffer);
                    if (n < 0) {
                        break;
                    }
                    synchronized (this) {
                        received.write(buffer.array(), 0, n);
                    }
                }
            } catch (IOException e) {
                // closed by close() or by the server
            }
            synchronized (this) {
                eof = true;
            }
        }

        private synchronized String text() {
            return received.toString(StandardCharsets.UTF_8);
        }

        private synchronized boolean closedByServer() {
            return eof;
        }

        void send(byte[] bytes) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        }

        /** Sends a line and returns its answer, without the prompt that follows it. */
        String command(String line) throws IOException {
            send((line + "\n").getBytes(StandardCharsets.UTF_8));
            return awaitAnswer();
        }

        /** Waits for the next prompt and returns what came before it. */
        String awaitAnswer() {
            String all = Wait.value("an answer and a prompt", T, this::text, t -> t.substring(consumed).endsWith(PROMPT));
            String answer = all.substring(consumed, all.length() - PROMPT.length());
            consumed = all.length();
            return answer.strip();
        }

        /** Sends a line after which the server closes the connection; returns its last words. */
        String exitAndAwaitClose(String line) throws IOException {
            send((line + "\n").getBytes(StandardCharsets.UTF_8));
            return awaitClose();
        }

        /** Waits until the server closed the connection; returns what it sent since the last answer. */
        String awaitClose() {
            String closed = "<closed by the server>";
            Wait.value("the server to close the connection", T,
                    () -> closedByServer() ? closed : text().substring(consumed), closed::equals);
            String all = text();
            String rest = all.substring(consumed);
            consumed = all.length();
            return rest.strip();
        }

        /** Waits for a message another session caused (a debug broadcast), shown with a fresh prompt. */
        void awaitBroadcast(String message) {
            String all = Wait.value("'" + message + "' broadcast to this REPL", T, this::text,
                    t -> t.substring(consumed).endsWith("\n" + message + "\n" + PROMPT));
            consumed = all.length();
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing left to do
            }
        }
    }
}
