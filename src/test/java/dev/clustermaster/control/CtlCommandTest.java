package dev.clustermaster.control;

import dev.clustermaster.cli.CtlCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CtlCommandTest {

    @TempDir
    Path dir;

    private final FakeControlApi api = new FakeControlApi();
    private ControlServer server;

    private record Run(int exit, String out, String err) {
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
    }

    private Path startServer(Set<Integer> allowed) throws IOException {
        Path socket = dir.resolve("cm.sock");
        ControlServerOptions.Builder b = ControlServerOptions.builder().socketPath(socket)
                .processStats(ProcessStatsSource.NONE)
                .commandTimeouts(new CommandTree.Timeouts(Duration.ofMillis(300), Duration.ofMillis(300)));
        if (allowed != null) {
            b.allowedUids(allowed).ownGroupAdmitted(false);
        }
        server = ControlServer.start(api, b.build());
        return socket;
    }

    private static Run ctl(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new CtlCommand(env));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private Run ctl(Path socket, String... words) {
        List<String> args = new ArrayList<>(List.of("--socket", socket.toString()));
        args.addAll(List.of(words));
        return ctl(Map.of(), args.toArray(String[]::new));
    }

    @Test
    void successfulCommandsExitZero() throws Exception {
        Path socket = startServer(null);
        Run size = ctl(socket, "size");
        assertEquals(0, size.exit(), size.err());
        assertEquals("2\n", size.out());
        assertEquals(0, ctl(socket, "resize", "4").exit());
        assertEquals(0, ctl(socket, "resize(5)").exit());
        assertEquals(0, ctl(socket, "resize 6").exit());
        assertEquals(List.of("resize 4", "resize 5", "resize 6"), api.calls);
        Run debug = ctl(socket, "debug", "hi there");
        assertEquals("debug: hi there\n", debug.out());
        assertTrue(ctl(socket, "status").out().startsWith("master pid 100"));
    }

    @Test
    void jsonOutput() throws Exception {
        Path socket = startServer(null);
        Run r = ctl(socket, "--json", "pids");
        assertEquals(0, r.exit());
        assertEquals("{\"ok\":true,\"cmd\":\"pids\",\"text\":\"4242 4343\",\"data\":[4242,4343]}\n", r.out());
        Run j = ctl(socket, "json", "size");
        assertEquals(0, j.exit());
        assertTrue(j.out().startsWith("{\"ok\":true,\"cmd\":\"size\""), j.out());
        Run bad = ctl(socket, "--json", "resize", "x");
        assertEquals(2, bad.exit());
        assertTrue(bad.out().contains("\"code\":\"usage\""));
    }

    @Test
    void usageErrorsExitTwo() throws Exception {
        Path socket = startServer(null);
        Run unknown = ctl(socket, "frobnicate");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("unknown command 'frobnicate'"), unknown.err());
        Run badArg = ctl(socket, "resize", "-3");
        assertEquals(2, badArg.exit(), badArg.err());
        assertTrue(badArg.err().contains("resize needs a whole number >= 0"), badArg.err());
        assertEquals(2, ctl(socket, "resize(").exit());
        assertEquals(2, ctl(Map.of(), "--socket", socket.toString()).exit(), "missing command");
        assertTrue(api.calls.isEmpty());
    }

    @Test
    void commandFailuresExitOne() throws Exception {
        Path socket = startServer(null);
        api.restartAnswer = () -> CompletableFuture.failedFuture(new IllegalStateException("already restarting"));
        Run failed = ctl(socket, "restart");
        assertEquals(1, failed.exit());
        assertEquals("error: already restarting\n", failed.err());
        api.restartAnswer = CompletableFuture::new;
        Run slow = ctl(socket, "restart");
        assertEquals(1, slow.exit());
        assertTrue(slow.err().contains("timed out"), slow.err());
    }

    @Test
    void cannotConnectExitsThree() throws Exception {
        Run missing = ctl(dir.resolve("nobody-here.sock"), "size");
        assertEquals(3, missing.exit());
        assertTrue(missing.err().contains("cannot connect to control socket"), missing.err());
        Path socket = startServer(Set.of(12345));
        Run denied = ctl(socket, "size");
        assertEquals(CtlCommand.EXIT_ACCESS_DENIED, denied.exit());
        assertEquals(1, denied.err().strip().lines().count(), denied.err());
        assertTrue(denied.err().contains("access denied"), denied.err());
    }

    @Test
    void socketPathDefaults() {
        Run viaEnv = ctl(Map.of("CLUSTER_MASTER_REPL", dir.resolve("env.sock").toString()), "size");
        assertEquals(3, viaEnv.exit());
        assertTrue(viaEnv.err().contains(dir.resolve("env.sock").toString()), viaEnv.err());
        Run viaName = ctl(Map.of("CLUSTER_MASTER_REPL", "/ignored/x.sock"), "--name", "no-such-app-xyz", "size");
        assertTrue(viaName.err().contains("/run/no-such-app-xyz/cluster-master.sock"), viaName.err());
        Run plain = ctl(Map.of(), "size");
        assertTrue(plain.err().contains("/run/cluster-master/cluster-master.sock"), plain.err());
    }

    @Test
    void findsAMasterByNameWhereItChoseItsSocket() throws Exception {
        Path xdg = dir.resolve("xdg");
        Path runtime = dev.clustermaster.config.RuntimeDirs.choose("app-" + ProcessHandle.current().pid(), Map.of("XDG_RUNTIME_DIR", xdg.toString()));
        String app = runtime.getFileName().toString(); // /run/APP as root, else $XDG_RUNTIME_DIR/APP
        server = ControlServer.start(api, ControlServerOptions.builder().socketPath(runtime.resolve("cluster-master.sock"))
                .processStats(ProcessStatsSource.NONE).build());
        try {
            nameLookups(app, Map.of("XDG_RUNTIME_DIR", xdg.toString()));
        } finally {
            server.close();
            server = null;
            java.nio.file.Files.deleteIfExists(runtime);
        }
    }

    private void nameLookups(String app, Map<String, String> env) {
        Run positional = ctl(env, app, "size");
        assertEquals(0, positional.exit(), positional.err());
        assertEquals("2\n", positional.out());
        Run named = ctl(env, "--name", app, "size");
        assertEquals(0, named.exit(), named.err());
        Run other = ctl(env, "other-app-xyz", "size");
        assertEquals(3, other.exit(), other.err());
        assertTrue(other.err().contains("/run/other-app-xyz/cluster-master.sock"), other.err());
    }

    @Test
    void reloadIsACommandAndItsFailureExitsOne() throws Exception {
        Path socket = startServer(null);
        Run reload = ctl(socket, "reload");
        assertEquals(1, reload.exit(), reload.out());
        assertTrue(reload.err().contains("reload is not supported"), reload.err());
    }

    @Test
    void theMastersOwnGroupIsAdmittedWithoutReplGroup() throws Exception {
        Path socket = dir.resolve("own.sock");
        // our uid is not in the allowed set: only the group rule can let this client (same gid) in
        server = ControlServer.start(api, ControlServerOptions.builder().socketPath(socket).allowedUids(Set.of(12345))
                .processStats(ProcessStatsSource.NONE).build());
        Run size = ctl(socket, "size");
        assertEquals(0, size.exit(), size.err());
    }
}
