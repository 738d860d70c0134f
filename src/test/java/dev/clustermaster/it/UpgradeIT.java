package dev.clustermaster.it;

import dev.clustermaster.os.Posix;
import dev.clustermaster.os.ProcessGroups;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ctl upgrade}: a new master (its own command line again, i.e. the new jar after a package upgrade) takes
 * over the listening socket and the control socket, and the old one drains and exits, without a failed request;
 * a new master that cannot start leaves the old one serving, and the answer says why.
 */
class UpgradeIT {
    private static final Duration T = Duration.ofSeconds(120);
    private static final Pattern UPGRADED = Pattern.compile("upgraded: master (\\d+) -> (\\d+)");

    @TempDir
    Path dir;

    @Test
    void aNewMasterTakesOverUnderLoadAndAFailedOneLeavesTheOldServing() throws Exception {
        Path conf = dir.resolve("cm.conf");
        Path sock = dir.resolve("run/cm.sock");
        writeConf(conf, "");
        MasterProcess old = MasterProcess.start(dir, List.of("CM_LOG_JOURNAL=off", "JOURNAL_STREAM="),
                "--config", conf.toString(), "--runtime-dir", dir.resolve("run").toString(), "--repl", sock.toString());
        int newPid = -1;
        try {
            old.waitForOutput("all 2 workers ready", T);
            int port = Integer.parseInt(Wait.value("the bound port", T, () -> {
                Matcher m = Pattern.compile("listening on \\[tcp://127.0.0.1:(\\d+)]").matcher(old.output());
                return m.find() ? m.group(1) : null;
            }, p -> p != null));

            // a broken config: the new master exits at once; the old one keeps serving and says why
            writeConf(conf, "no.such.key=1");
            try (HttpLoad load = new HttpLoad(port, 2, 60_000)) {
                Ctl failed = ctl(sock, "upgrade");
                assertEquals(1, failed.code, failed.out);
                assertTrue(failed.out.contains("upgrade failed: the new master") && failed.out.contains("old master keeps serving"),
                        failed.out);
                Wait.until("more answers after the failed upgrade", T, () -> load.ok() > 20);
                load.close();
                assertEquals(0, load.failed(), load.failureReport());
            }
            assertTrue(old.process.isAlive(), "the old master still runs");
            assertEquals(0, ctl(sock, "status").code, "the control socket still answers");

            writeConf(conf, "");
            try (HttpLoad load = new HttpLoad(port, 2, 60_000)) {
                Wait.until("answers from the old workers", T, () -> load.ok() >= 20);
                Ctl up = ctl(sock, "upgrade");
                assertEquals(0, up.code, up.out + "\n" + old.output());
                Matcher m = UPGRADED.matcher(up.out);
                assertTrue(m.find(), up.out);
                assertEquals(old.pid(), Integer.parseInt(m.group(1)));
                newPid = Integer.parseInt(m.group(2));
                assertEquals(0, old.waitForExit(T), "the old master drains and exits 0");
                long okAfter = load.ok();
                Wait.until("answers from the new master's workers", T, () -> load.ok() >= okAfter + 20);
                load.close();
                assertEquals(0, load.failed(), load.failureReport());
                System.out.printf("UpgradeIT: %d requests across ctl upgrade, 0 failed, longest %d ms%n",
                        load.ok(), load.maxLatencyMillis());
            }
            Ctl status = ctl(sock, "status");
            assertEquals(0, status.code, "the new master answers on the same control socket: " + status.out);
            String log = old.output();
            assertTrue(log.contains("adopted from systemd's fd store: [tcp-0=tcp://127.0.0.1:" + port + "]"), log);
        } finally {
            old.close();
            if (newPid > 0) {
                Posix.get().kill(newPid, 15);
                int pid = newPid;
                Wait.until("the new master exits", T, () -> !Procs.alive(pid));
                ProcessGroups.signalGroup(newPid, 9);
            }
        }
    }

    private static void writeConf(Path conf, String extra) throws IOException {
        Files.writeString(conf, "main=dev.clustermaster.demo.DemoHttpWorker\nready=notify\nsize=2\nlisten=tcp://127.0.0.1:0\n"
                + "stop.timeout=20s\n" + extra + "\n");
    }

    private record Ctl(int code, String out) {
    }

    private Ctl ctl(Path sock, String... words) throws Exception {
        List<String> cmd = new ArrayList<>(MasterProcess.command());
        cmd.remove(cmd.size() - 1);  // "run"
        cmd.addAll(List.of("ctl", "--socket", sock.toString(), "--timeout", "110"));
        cmd.addAll(List.of(words));
        Path out = Files.createTempFile(dir, "ctl", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(T.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("ctl " + String.join(" ", words) + " hung");
        }
        return new Ctl(p.exitValue(), Files.readString(out));
    }
}
