package dev.clustermaster.it;

import dev.clustermaster.os.ExitStatus;
import dev.clustermaster.os.ListenSockets;
import dev.clustermaster.os.NotifyReceiver;
import dev.clustermaster.os.Posix;
import dev.clustermaster.os.ProcessGroups;
import dev.clustermaster.os.ProcessSpawner;
import dev.clustermaster.os.Reaper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The listening socket outlives a {@code kill -9}ed master through the fd store: the master hands it to "systemd"
 * (this test, on a real datagram socket) with FDSTORE=1, and a new master started with it in LISTEN_FDS adopts it
 * instead of binding. Load runs throughout; requests made while no master runs wait in the backlog.
 */
class FdStoreIT {
    private static final Duration T = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void aKilledMastersSocketIsAdoptedByTheNextOneWithoutAFailedRequest() throws Exception {
        try (NotifyReceiver systemd = NotifyReceiver.bind(dir.resolve("notify.sock"))) {
            List<String> env = List.of("NOTIFY_SOCKET=" + systemd.path(), "CM_LOG_JOURNAL=off", "JOURNAL_STREAM=");
            MasterProcess first = MasterProcess.start(dir, env, args("run1"));
            int second = -1;
            try {
                NotifyReceiver.Message stored = systemd.await("FDSTORE=1", T, m -> m.get("FDSTORE") != null);
                assertEquals("cm-listen.tcp-0", stored.get("FDNAME"));
                assertEquals(1, stored.fds().length, "the socket itself travels with FDSTORE=1");
                String spec = ListenSockets.describe(stored.fds()[0]);
                int port = Integer.parseInt(spec.substring(spec.lastIndexOf(':') + 1));
                systemd.await("READY=1", T, m -> "1".equals(m.get("READY")));

                try (HttpLoad load = new HttpLoad(port, 2, 60_000)) {
                    Wait.until("answers from the first master's worker", T, () -> load.ok() >= 20);
                    first.process.destroyForcibly();   // SIGKILL; its worker goes by PDEATHSIG
                    first.waitForExit(T);
                    long okAtKill = load.ok();

                    second = spawnWithStoredSocket(stored, env);
                    Path log2 = dir.resolve("master2.log");
                    Wait.until("the second master adopts the stored socket", T,
                            () -> read(log2).contains("adopted from systemd's fd store: [tcp-0=" + spec + "]"));
                    Wait.until("answers from the second master's worker", T, () -> load.ok() >= okAtKill + 20
                            && load.allServed().size() >= 2);
                    load.close();
                    assertEquals(0, load.failed(), load.failureReport());
                    System.out.printf("FdStoreIT: %d requests across kill -9 and adoption, 0 failed, longest %d ms%n",
                            load.ok(), load.maxLatencyMillis());
                    assertFalse(read(log2).contains("listening on"), "nothing bound anew:\n" + read(log2));
                }
                NotifyReceiver.Message again = systemd.await("the second master's FDSTORE=1", T,
                        m -> m.get("FDSTORE") != null && m != stored);
                assertEquals(spec, ListenSockets.describe(again.fds()[0]), "it stores the same socket again");
            } finally {
                first.close();
                if (second > 0) {
                    stop(second);
                }
            }
        }
    }

    private String[] args(String runDir) {
        return new String[] {"--main", "dev.clustermaster.demo.DemoHttpWorker", "--ready", "notify", "--size", "1",
                "--listen", "tcp://127.0.0.1:0", "--runtime-dir", dir.resolve(runDir).toString(), "--repl", "false",
                "--stop-timeout", "20s"};
    }

    /** As systemd starts a service with a stored fd: the fd at 3, LISTEN_FDS/LISTEN_FDNAMES, LISTEN_PID = its pid. */
    private int spawnWithStoredSocket(NotifyReceiver.Message stored, List<String> env) throws Exception {
        Map<String, String> childEnv = new HashMap<>(System.getenv());
        for (String kv : env) {
            childEnv.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        childEnv.put("LISTEN_FDS", "1");
        childEnv.put("LISTEN_FDNAMES", stored.get("FDNAME"));
        childEnv.put("CM_TEST_LOG", dir.resolve("master2.log").toString());
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c",
                "LISTEN_PID=$$; export LISTEN_PID; exec \"$@\" >\"$CM_TEST_LOG\" 2>&1", "sh"));
        argv.addAll(MasterProcess.command(args("run2")));
        return new ProcessSpawner().spawn(argv, childEnv, Map.of(3, stored.fds()[0]));
    }

    private static void stop(int pid) {
        Posix.get().kill(pid, 15);
        Reaper reaper = new Reaper();
        long deadline = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < deadline) {
            ExitStatus st = reaper.reap(List.of(pid)).get(pid);
            if (st != null) {
                return;
            }
            Wait.pause(50);
        }
        ProcessGroups.signalGroup(pid, 9);
        reaper.reap(List.of(pid));
        assertTrue(false, "second master did not stop on SIGTERM");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
