package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LaunchOptionsTest {

    @Test
    void trampolinesStandBeforeTheCommand() {
        List<String> command = List.of("app", "--port", "1");
        assertEquals(command, new LaunchOptions(command, Map.of(), Map.of(), false, false).argv());
        List<String> both = new LaunchOptions(command, Map.of(), Map.of(), true, true).argv();
        assertEquals(List.of("/usr/bin/setpriv", "--pdeathsig", "TERM", "--", "/bin/sh", "-c"), both.subList(0, 6));
        assertEquals(command, both.subList(both.size() - 3, both.size()));
    }

    /** The shell trampoline hands the exec'd command LISTEN_PID equal to its own pid, as sd_listen_fds() checks. */
    @Test
    void listenPidIsTheWorkersOwnPid() throws Exception {
        try (Kids kids = new Kids(); Pipe pipe = Pipe.open()) {
            LaunchOptions options = new LaunchOptions(List.of("sh", "-c", "echo \"$LISTEN_PID $$\" >&3"),
                    Map.of("PATH", System.getenv("PATH"), "LISTEN_PID", "1"), Map.of(3, pipe.writeFd()), false, true);
            int pid = kids.spawner.spawn(options);
            pipe.closeWriteEnd();
            List<String> lines = new CopyOnWriteArrayList<>();
            CountDownLatch eof = new CountDownLatch(1);
            LinePump.start(pipe.detachReadFd(), "listen-pid-pump", lines::add, eof::countDown);
            assertTrue(eof.await(30, TimeUnit.SECONDS));
            assertEquals(List.of(pid + " " + pid), lines);
            assertTrue(kids.awaitExit(pid).success());
        }
    }
}
