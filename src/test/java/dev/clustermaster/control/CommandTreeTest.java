package dev.clustermaster.control;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandTreeTest {

    private final FakeControlApi api = new FakeControlApi();
    private final long now = System.currentTimeMillis();
    private final ProcessStatsSource stats = pid -> pid == 4242
            ? Optional.of(new ProcessSample(pid, 50L * 1024 * 1024, 650, 1, 'S'))
            : Optional.empty();
    private final CommandTree tree = new CommandTree(stats, () -> now,
            new CommandTree.Timeouts(Duration.ofMillis(300), Duration.ofMillis(300)));
    private final List<String> broadcasts = new ArrayList<>();
    private final CommandContext context = new CommandContext() {
        @Override
        public int connectionCount() {
            return 3;
        }

        @Override
        public void broadcast(String message) {
            broadcasts.add(message);
        }
    };

    private Reply run(String line) {
        return tree.run(line, api, context);
    }

    @Test
    void resizeInBothForms() {
        Reply a = run("resize(4)");
        Reply b = run("resize 4");
        assertTrue(a.ok());
        assertEquals("resized to 4 workers", a.text());
        assertEquals(a, b);
        assertEquals(List.of("resize 4", "resize 4"), api.calls);
        assertEquals(4, a.data());
    }

    @Test
    void resizeValidation() {
        for (String bad : List.of("resize", "resize(-1)", "resize 1.5", "resize x", "resize 1 2", "resize 99999999999")) {
            Reply r = run(bad);
            assertEquals(Reply.Status.USAGE_ERROR, r.status(), bad);
            assertTrue(r.text().startsWith("resize needs a whole number"), bad + " -> " + r.text());
        }
        assertTrue(api.calls.isEmpty());
    }

    @Test
    void unknownCommand() {
        Reply r = run("x");
        assertEquals(Reply.Status.USAGE_ERROR, r.status());
        assertEquals("unknown command 'x' (try help)", r.text());
        assertEquals("error: unknown command 'x' (try help)", r.humanText());
    }

    @Test
    void helpListsEveryCommand() {
        Reply r = run("help");
        for (String name : tree.commandNames()) {
            assertTrue(r.text().contains(name), name);
        }
        assertEquals(tree.commandNames().size(), ((List<?>) r.data()).size());
        assertTrue(run("help resize").text().startsWith("resize <n>"));
    }

    @Test
    void readOnlyCommands() {
        assertEquals("2", run("size").text());
        assertEquals(Map.of("desired", 2, "running", 2, "ready", 1L), run("size").data());
        assertEquals("3", run("connections").text());
        assertEquals("4242 4343", run("pids").text());
        assertEquals(List.of(4242, 4343), run("pids()").data());
        assertEquals("slot 0 pid 4242: 1m05s\nslot 1 pid 4343: 5s", run("ages").text());
        assertEquals("slot 0 pid 4242: ready\nslot 1 pid 4343: starting", run("states").text());
        assertTrue(run("workers").text().contains("worker 2: slot 1, pid 4343, starting, age 5s, restarts 3"));
        assertEquals(Map.of("1", 4242, "2", 4343), run("select('pid')").data());
        assertEquals(Map.of("1", 0, "2", 3), run("select restarts").data());
        assertEquals("/run/test/cluster-master.sock", run("sock").text());
        assertEquals(Reply.Status.USAGE_ERROR, run("select bogus").status());
        assertEquals("size takes no arguments", run("size 3").text());
    }

    @Test
    void aWorkerTheKernelHoldsStoppedShowsAsStopped() {
        ProcessStatsSource stopped = pid -> Optional.of(new ProcessSample(pid, 1 << 20, 1, 1, pid == 4343 ? 'T' : 'S'));
        CommandTree t = new CommandTree(stopped, () -> now,
                new CommandTree.Timeouts(Duration.ofMillis(300), Duration.ofMillis(300)));
        assertEquals("slot 0 pid 4242: ready\nslot 1 pid 4343: stopped", t.run("states", api, context).text());
        assertTrue(t.run("workers", api, context).text().contains("pid 4343, stopped,"));
        assertEquals(Map.of("1", "ready", "2", "stopped"), t.run("select state", api, context).data());
        assertTrue(t.run("status", api, context).text().contains("stopped"), t.run("status", api, context).text());
    }

    @Test
    void statusTableLikePm2() {
        Reply r = run("status");
        String[] lines = r.text().split("\n");
        assertEquals("master pid 100, running, 1/2 ready", lines[0]);
        assertTrue(lines[1].matches("slot\\s+pid\\s+state\\s+age\\s+restarts\\s+rss\\s+cpu\\s+status"), lines[1]);
        assertTrue(lines[2].matches("0\\s+4242\\s+ready\\s+1m05s\\s+0\\s+50\\.0 MiB\\s+10\\.0%\\s+42 requests"), lines[2]);
        assertTrue(lines[3].matches("1\\s+4343\\s+starting\\s+5s\\s+3\\s+-\\s+-"), lines[3]);
        Map<?, ?> data = (Map<?, ?>) r.data();
        Map<?, ?> first = (Map<?, ?>) ((List<?>) data.get("workers")).get(0);
        assertEquals(50L * 1024 * 1024, first.get("rssBytes"));
        assertEquals(6.5, first.get("cpuSeconds"));
        assertEquals("42 requests", first.get("status"));
    }

    @Test
    void signalAndLogLevel() {
        assertEquals("sent SIGUSR1 to 2 workers", run("signal all usr1").text());
        assertEquals("sent SIGHUP to slot 1", run("signal(1, 'SIGHUP')").text());
        assertEquals(Reply.Status.USAGE_ERROR, run("signal x HUP").status());
        assertEquals(Reply.Status.USAGE_ERROR, run("signal all 'rm -rf'").status());
        Reply unknown = run("signal all bogus");
        assertEquals(Reply.Status.USAGE_ERROR, unknown.status());
        assertEquals("unknown signal BOGUS", unknown.text());
        assertEquals("log level is debug", run("loglevel DEBUG").text());
        assertTrue(run("loglevel loud").text().startsWith("loglevel needs one of"));
    }

    @Test
    void debugBroadcasts() {
        Reply r = run("debug(\"hi there\")");
        assertTrue(r.ok());
        assertEquals(List.of("debug: hi there"), broadcasts);
        run("debug hi   you");
        assertEquals("debug: hi you", broadcasts.get(1));
    }

    @Test
    void slowCommandTimesOutInsteadOfHanging() {
        api.restartAnswer = CompletableFuture::new; // never completes
        long start = System.nanoTime();
        Reply r = run("restart()");
        assertEquals(Reply.Status.TIMED_OUT, r.status());
        assertTrue(r.text().contains("timed out"));
        assertTrue(r.text().contains("still running"));
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
    }

    @Test
    void failedFutureBecomesError() {
        api.restartAnswer = () -> CompletableFuture.failedFuture(new IllegalStateException("a restart is already running"));
        Reply r = run("restart");
        assertEquals(Reply.Status.FAILED, r.status());
        assertEquals("error: a restart is already running", r.humanText());
        assertTrue(r.toJson().contains("\"code\":\"failed\""));
    }

    @Test
    void exitClosesSession() {
        assertTrue(run(".exit").closeSession());
        assertFalse(run("size").closeSession());
        assertNull(run(""));
    }

    @Test
    void jsonFormRoundTrips() throws Exception {
        Reply r = run("json size");
        Reply back = Reply.fromJson(r.toJson());
        assertEquals("size", back.command());
        assertTrue(back.ok());
        assertEquals("2", back.text());
        Reply err = Reply.fromJson(run("resize x").toJson());
        assertEquals(Reply.Status.USAGE_ERROR, err.status());
    }

    @Test
    void formatting() {
        assertEquals("59s", StatusReport.formatAge(59_999));
        assertEquals("2h05m", StatusReport.formatAge((2 * 3600 + 5 * 60) * 1000L));
        assertEquals("1d03h", StatusReport.formatAge((27 * 3600) * 1000L));
        assertEquals("1.5 KiB", StatusReport.formatBytes(1536));
    }
}
