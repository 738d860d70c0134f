package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LinePumpTest {
    private final Kids kids = new Kids();

    @AfterEach
    void cleanup() {
        kids.close();
    }

    @Test
    void pipeEndsAreCloseOnExecAndCloseIsIdempotent() throws Exception {
        Pipe p = Pipe.open();
        assertTrue(Libc.isCloexec(p.readFd()));
        assertTrue(Libc.isCloexec(p.writeFd()));
        int w = p.writeFd();
        p.closeWriteEnd();
        assertFalse(Files.exists(Path.of("/proc/self/fd/" + w)));
        assertThrows(IllegalStateException.class, p::writeFd);
        p.close();
        p.close();
    }

    @Test
    void deliversChildOutputLinesThenEofAndClosesTheFd() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        CountDownLatch eof = new CountDownLatch(1);
        int readFd;
        int pid;
        String pipeLink;
        try (Pipe pipe = Pipe.open()) {
            // stdout and stderr into the same pipe, an overlong line, invalid UTF-8 and no final LF
            pid = kids.sh("echo out; echo err >&2; head -c 70000 /dev/zero | tr '\\0' x; echo;"
                    + " printf 'bad\\377\\n'; printf tail", Map.of(1, pipe.writeFd(), 2, pipe.writeFd()));
            pipe.closeWriteEnd();
            readFd = pipe.detachReadFd();
            pipeLink = link(readFd);
            LinePump.start(readFd, "pump-test", lines::add, eof::countDown);
        }
        assertTrue(eof.await(5, TimeUnit.SECONDS), "EOF");
        assertTrue(kids.awaitExit(pid).success());
        assertEquals(List.of("out", "err", "x".repeat(LinePump.MAX_LINE), "x".repeat(70000 - LinePump.MAX_LINE),
                "bad\uFFFD", "tail"), lines);
        // closed: the number is free, or already reused for something other than our pipe
        Kids.await("pump closes its fd", () -> !pipeLink.equals(link(readFd)));
    }

    private static String link(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void threadIsDaemonAndNamed() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            CountDownLatch eof = new CountDownLatch(1);
            Thread t = LinePump.start(pipe.detachReadFd(), "pump-name", l -> { }, eof::countDown);
            assertTrue(t.isDaemon());
            assertEquals("pump-name", t.getName());
            pipe.closeWriteEnd();
            assertTrue(eof.await(5, TimeUnit.SECONDS));
            t.join(5000);
            assertFalse(t.isAlive());
        }
    }
}
