package dev.clustermaster.it;

import dev.clustermaster.config.Config;
import dev.clustermaster.os.Posix;
import dev.clustermaster.runtime.ClusterMaster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Java main-class workers: readiness over NOTIFY_SOCKET, messages both ways, exit when the master vanishes. */
class JavaWorkerIT {
    private static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void workersTalkToTheMasterBothWays() throws Exception {
        ClusterMaster master = ClusterMaster.start(Config.builder()
                .mainClass(MessagingWorker.class.getName()).requireNotify(true)
                .size(2).signals(false).repl(false)
                .runtimeDir(dir.resolve("run"))
                .env("OUT", dir.toString())
                .onMessage((worker, msg) -> "ack " + worker.slot() + ": " + msg)
                .build());
        try {
            Wait.until("2 workers ready by READY=1", T, () -> master.snapshot().readyCount() == 2);
            for (int id = 1; id <= 2; id++) {
                Path reply = dir.resolve("reply." + id);
                Wait.until("reply to worker " + id, T, () -> Files.exists(reply));
                assertEquals("ack " + id + ": hello from " + id, Files.readString(reply));
            }
            assertEquals(2, master.broadcast("config changed").get(5, TimeUnit.SECONDS));
            for (int id = 1; id <= 2; id++) {
                Path got = dir.resolve("from-master." + id);
                Wait.until("broadcast reaches worker " + id, T, () -> Files.exists(got));
                assertEquals("config changed", Files.readString(got));
            }
        } finally {
            master.quit();
            assertEquals(0, master.exitCode().get(30, TimeUnit.SECONDS));
        }
    }

    /**
     * The worker API is pure JDK: IPC over pipes reopened through /proc/self/fd, sd_notify states as NOTIFY frames.
     * The worker JVM's class-load log proves jnr (and jffi, and the ASM it generates stubs with) never loads.
     */
    @Test
    void aJavaWorkerLoadsNoJnrYetReportsReadyStatusLogLevelAndDrainsOnStop() throws Exception {
        ClusterMaster master = ClusterMaster.start(Config.builder()
                .mainClass(JdkOnlyWorker.class.getName()).requireNotify(true)
                .jvmArgs(List.of("-Xlog:class+load=info:file=" + dir.resolve("classes-%p.log")))
                .size(1).signals(false).repl(false).workerWatchdogMillis(5_000).stopTimeoutMillis(10_000)
                .runtimeDir(dir.resolve("run"))
                .env("OUT", dir.toString())
                .build());
        int pid;
        try {
            Wait.until("the worker ready by READY=1", T, () -> master.snapshot().readyCount() == 1);
            Wait.until("its STATUS=", T, () -> master.snapshot().workers().get(0).status().equals("jdk only"));
            pid = master.snapshot().workers().get(0).pid();
            assertTrue(Procs.environ(pid).contains("\nCM_IPC_IN_FD="), "a JVM worker gets the pipe pair");
            assertTrue(!Procs.environ(pid).contains("\nCM_IPC_FD="), "and no socketpair");
            master.setLogLevel("debug").get(10, TimeUnit.SECONDS);
            Path level = dir.resolve("level." + pid);
            Wait.until("the worker hears the log level", T, () -> Files.exists(level));
            assertEquals("DEBUG", Files.readString(level));
        } finally {
            master.quit();
        }
        assertEquals(0, master.exitCode().get(30, TimeUnit.SECONDS));
        assertEquals("drained", Files.readString(dir.resolve("drained." + pid)), "onStop ran on the master's stop");
        Path classLog = dir.resolve("classes-" + pid + ".log");
        Wait.until("the worker's class-load log", T, () -> Files.exists(classLog));
        List<String> loaded = Files.readAllLines(classLog);
        List<String> jnr = loaded.stream()
                .filter(l -> l.contains(" jnr.") || l.contains(" com.kenai.jffi.") || l.contains(" org.objectweb.asm."))
                .toList();
        assertEquals(List.of(), jnr.subList(0, Math.min(5, jnr.size())), jnr.size() + " jnr/jffi/asm classes loaded");
        assertTrue(loaded.stream().anyMatch(l -> l.contains(" dev.clustermaster.worker.PipePair ")), "the log is the worker's");
    }

    @Test
    void javaWorkersExitWhenTheMasterIsKilledEvenWithoutParentDeathSignal() throws Exception {
        try (MasterProcess m = MasterProcess.start(dir, List.of("OUT=" + dir), "--main", MessagingWorker.class.getName(), "--ready", "notify",
                "--classpath", System.getProperty("java.class.path"), "--size", "2", "--no-pdeathsig",
                "--repl", "false", "--runtime-dir", dir.resolve("run").toString())) {
            m.waitForOutput("all 2 workers ready", T);
            List<Integer> workers = m.workers();
            assertEquals(2, workers.size(), m.output());
            workers.forEach(pid -> assertTrue(!Procs.environ(pid).contains("setpriv"), "no pdeathsig wrapper"));
            assertEquals(0, Posix.get().kill(m.pid(), 9));
            m.waitForExit(T);
            workers.forEach(pid -> Wait.until("worker " + pid + " exits on IPC EOF", Duration.ofSeconds(10), () -> !Procs.alive(pid)));
        }
    }
}
