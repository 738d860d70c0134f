package dev.clustermaster.it;

import dev.clustermaster.cli.CtlCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 8 item 4: ctl reload (what systemctl reload runs) re-reads the config file of a real CLI master. */
class ReloadIT {
    private static final Duration T = Duration.ofSeconds(60);
    /** Each worker writes its $GREETING to $OUT/g.<slot>.<worker id>, then idles until TERM. */
    private static final String WORKER = "exec=sh -c 'echo \"$GREETING\" > \"$OUT/g.$CM_CHILD_ID.$CM_WORKER_ID\"; "
            + "while :; do sleep 0.2; done'\n";

    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

    private Run ctl(Path socket, String... words) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new CtlCommand(Map.of()));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] args = Stream.concat(Stream.of("--socket", socket.toString()), Stream.of(words)).toArray(String[]::new);
        return new Run(cl.execute(args), out.toString(), err.toString());
    }

    private void writeConf(Path conf, String extra) throws IOException {
        Files.writeString(conf, WORKER + "ready=grace\nready.grace=200ms\nstop.timeout=5s\nenv.OUT=" + dir.resolve("out") + "\n" + extra);
    }

    /** slot -> greeting of the newest worker in that slot. */
    private Map<Integer, String> greetings() {
        Map<Integer, String> bySlot = new java.util.TreeMap<>();
        Map<Integer, Long> newest = new java.util.HashMap<>();
        try (Stream<Path> files = Files.list(dir.resolve("out"))) {
            for (Path f : files.toList()) {
                String[] parts = f.getFileName().toString().split("\\.");
                int slot = Integer.parseInt(parts[1]);
                long id = Long.parseLong(parts[2]);
                String text = Files.readString(f).strip();
                if (!text.isEmpty() && id > newest.getOrDefault(slot, -1L)) {
                    newest.put(slot, id);
                    bySlot.put(slot, text);
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        return bySlot;
    }

    @Test
    void reloadAppliesEditedConfigAndRejectsABadOneKeepingTheWorkers() throws Exception {
        Files.createDirectories(dir.resolve("out"));
        Path conf = dir.resolve("app.conf");
        Path socket = dir.resolve("cm.sock");
        writeConf(conf, "size=2\nenv.GREETING=one\n");
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--config", conf.toString(), "--repl", socket.toString(),
                "--runtime-dir", dir.resolve("run").toString(), "--no-signals")) {
            m.waitForOutput("all 2 workers ready", T);
            assertEquals(Map.of(1, "one", 2, "one"), greetings());
            Set<Integer> before = new HashSet<>(m.workers());

            writeConf(conf, "size=3\nenv.GREETING=two\n");
            Run reload = ctl(socket, "reload");
            assertEquals(0, reload.exit(), reload.err() + m.output());
            assertTrue(reload.out().startsWith("reloaded: "), reload.out());
            Map<Integer, String> after = Wait.value("3 workers greeting 'two'", T, this::greetings,
                    g -> g.equals(Map.of(1, "two", 2, "two", 3, "two")));
            assertEquals(3, after.size());
            List<Integer> now = Wait.value("3 worker processes", T, m::workers, w -> w.size() == 3);
            assertTrue(now.stream().noneMatch(before::contains), "every worker replaced: " + before + " -> " + now);
            assertTrue(m.output().contains("reload: applying size 2 -> 3, env GREETING"), m.output());

            writeConf(conf, "size=3\nenv.GREETING=three\nsurge=oops\n");
            Run bad = ctl(socket, "reload");
            assertEquals(1, bad.exit(), bad.out());
            assertEquals(1, bad.err().strip().lines().count(), bad.err());
            assertTrue(bad.err().contains("surge") && bad.err().contains("running workers are kept"), bad.err());
            assertEquals(Set.copyOf(now), Set.copyOf(m.workers()), "a bad reload changes no worker");
            assertEquals(0, ctl(socket, "status").exit());
        }
    }

    /** A setting only a restart applies is named while the conf differs from what the master started with, no longer. */
    @Test
    void aRestartOnlySettingIsNamedUntilTheConfIsBackToWhatRuns() throws Exception {
        Files.createDirectories(dir.resolve("out"));
        Path conf = dir.resolve("app.conf");
        Path socket = dir.resolve("cm.sock");
        writeConf(conf, "size=1\nprobation=0\nenv.GREETING=one\n");
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--config", conf.toString(), "--repl", socket.toString(),
                "--runtime-dir", dir.resolve("run").toString(), "--no-signals")) {
            m.waitForOutput("all 1 workers ready", T);
            writeConf(conf, "size=1\nprobation=0\nenv.GREETING=one\npdeathsig=false\n");
            Run changed = ctl(socket, "reload");
            assertEquals(0, changed.exit(), changed.err() + m.output());
            assertTrue(changed.out().contains("not applied until the master restarts: pdeathsig"), changed.out());

            writeConf(conf, "size=1\nprobation=0\nenv.GREETING=one\n");
            Run reverted = ctl(socket, "reload");
            assertEquals(0, reverted.exit(), reverted.err() + m.output());
            assertFalse(reverted.out().contains("not applied"), "the running master has pdeathsig on: " + reverted.out());
        }
    }

    /** An operator's runtime resize survives a reload that did not change size=; a changed size= applies. */
    @Test
    void aRuntimeResizeSurvivesAReloadThatLeavesTheConfigsSizeAlone() throws Exception {
        Files.createDirectories(dir.resolve("out"));
        Path conf = dir.resolve("app.conf");
        Path socket = dir.resolve("cm.sock");
        writeConf(conf, "size=2\nprobation=0\nenv.GREETING=one\n");
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--config", conf.toString(), "--repl", socket.toString(),
                "--runtime-dir", dir.resolve("run").toString(), "--no-signals")) {
            m.waitForOutput("all 2 workers ready", T);
            Run resize = ctl(socket, "resize", "3");
            assertEquals(0, resize.exit(), resize.err());
            Wait.value("3 worker processes", T, m::workers, w -> w.size() == 3);

            writeConf(conf, "size=2\nprobation=0\nenv.GREETING=two\n");
            Run reload = ctl(socket, "reload");
            assertEquals(0, reload.exit(), reload.err() + m.output());
            Wait.value("3 workers greeting 'two'", T, this::greetings, g -> g.equals(Map.of(1, "two", 2, "two", 3, "two")));
            assertEquals("3", ctl(socket, "size").out().strip(), m.output());
            assertTrue(m.output().contains("keeping the size set at runtime (3)"), m.output());

            writeConf(conf, "size=1\nprobation=0\nenv.GREETING=two\n");
            reload = ctl(socket, "reload");
            assertEquals(0, reload.exit(), reload.err() + m.output());
            Wait.value("1 worker process", T, m::workers, w -> w.size() == 1);
            assertEquals("1", ctl(socket, "size").out().strip(), m.output());
        }
    }
}
