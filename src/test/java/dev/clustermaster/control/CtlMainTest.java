package dev.clustermaster.control;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launcher's ctl entry point, dev.clustermaster.cli.CtlMain, in its own JVM as the launcher starts it. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CtlMainTest {

    @TempDir
    Path dir;

    private ControlServer server;

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
    }

    private record Run(int exit, String out, String err, String classes) {
    }

    private Run ctlMain(String... args) throws Exception {
        Path classLog = Files.createTempFile(dir, "classes", ".log");
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load:file=" + classLog, "-cp", System.getProperty("java.class.path"),
                "dev.clustermaster.cli.CtlMain"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("CLUSTER_MASTER_REPL");
        Process p = pb.start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "ctl hung");
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err), Files.readString(classLog));
    }

    @Test
    void answersWithoutPicocliLoggingOrNativeCode() throws Exception {
        Path socket = dir.resolve("cm.sock");
        FakeControlApi api = new FakeControlApi();
        server = ControlServer.start(api, ControlServerOptions.builder().socketPath(socket)
                .processStats(ProcessStatsSource.NONE).build());

        Run size = ctlMain("--socket", socket.toString(), "size");
        assertEquals(0, size.exit(), size.err());
        assertEquals("2\n", size.out());
        for (String heavy : List.of("picocli.", "ch.qos.logback.", "org.slf4j.", "jnr.", "com.kenai.jffi.")) {
            assertFalse(size.classes().contains(" " + heavy), "ctl loaded " + heavy + " classes");
        }

        Run resize = ctlMain("--socket=" + socket, "--timeout", "30", "resize", "3");
        assertEquals(0, resize.exit(), resize.err());
        assertEquals(List.of("resize 3"), api.calls);

        Run unknown = ctlMain("--socket", socket.toString(), "frobnicate");
        assertEquals(2, unknown.exit());
        assertEquals("ctl: unknown command 'frobnicate' (try 'ctl help')\n", unknown.err());

        Run gone = ctlMain("--socket", dir.resolve("nobody.sock").toString(), "size");
        assertEquals(3, gone.exit());
        assertTrue(gone.err().startsWith("ctl: cannot connect to control socket"), gone.err());
    }

    @Test
    void otherCommandLinesGetTheFullParser() throws Exception {
        Run help = ctlMain("--help");
        assertEquals(0, help.exit(), help.err());
        assertTrue(help.out().startsWith("Usage: cluster-master ctl"), help.out());
        Run typo = ctlMain("--sockett", "x", "size");
        assertEquals(2, typo.exit());
        assertTrue(typo.err().startsWith("cluster-master: Unknown option: '--sockett'"), typo.err());
    }
}
