package dev.clustermaster.it;

import dev.clustermaster.cli.Main;
import dev.clustermaster.os.ProcessGroups;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12 item 5: a SIGSTOPped worker shows as {@code stopped}, and stopping it does not wait for the SIGKILL
 * deadline: the stop signal is followed by SIGCONT.
 */
class StoppedWorkerIT {
    private static final int SIGSTOP = 19, TERM = 15;

    @TempDir
    Path dir;

    @Test
    void aStoppedWorkerIsShownStoppedAndAGracefulQuitEndsItWithoutWaitingForSigkill() throws Exception {
        Path run = dir.resolve("run");
        // a stop timeout far beyond the test's patience: only SIGCONT can make the worker act on SIGTERM in time
        try (MasterProcess m = MasterProcess.start(dir, List.of(), "--exec", "sleep", "--size", "2",
                "--ready-grace", "200ms", "--stop-timeout", "120s", "--runtime-dir", run.toString(), "--", "600")) {
            m.waitForOutput("all 2 workers ready", Duration.ofSeconds(60));
            String socket = run.resolve("cluster-master.sock").toString();
            int victim = m.workers().get(0);
            assertTrue(ProcessGroups.signalProcess(victim, SIGSTOP));
            Wait.until("ctl states shows the stopped worker", Duration.ofSeconds(30),
                    () -> ctl(socket, "states").contains("pid " + victim + ": stopped"));
            assertTrue(ctl(socket, "status").matches("(?s).*\\b" + victim + "\\s+stopped\\b.*"), ctl(socket, "status"));

            long t0 = System.nanoTime();
            assertTrue(ProcessGroups.signalProcess(m.pid(), TERM));
            assertEquals(0, m.waitForExit(Duration.ofSeconds(60)), m.output());
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertFalse(m.output().contains("did not stop within"), "no SIGKILL was needed:\n" + m.output());
            assertTrue(millis < 60_000, "quit took " + millis + " ms");
            System.out.printf("StoppedWorkerIT: graceful quit with a SIGSTOPped worker took %d ms%n", millis);
        }
    }

    private static String ctl(String socket, String... command) {
        StringWriter out = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        String[] argv = new String[command.length + 5];
        argv[0] = "ctl";
        argv[1] = "--timeout";
        argv[2] = "30";
        argv[3] = "--socket";
        argv[4] = socket;
        System.arraycopy(command, 0, argv, 5, command.length);
        cl.execute(argv);
        return out.toString();
    }
}
