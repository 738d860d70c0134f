package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WorkerPipesTest extends WorkerIpcContract {
    @Override
    WorkerIpc open(long sendTimeoutMillis) throws IOException {
        return WorkerPipes.open(sendTimeoutMillis);
    }

    @Override
    int workerWriteFd() {
        return 4;
    }

    @Override
    int bigLineBytes() {
        return 16 * 1024;   // a pipe holds 64 KiB by default, 1 MiB at most
    }

    @Test
    void theWorkerCanReopenItsEndsThroughProc() throws Exception {
        try (WorkerIpc ch = open()) {
            // what a JVM worker does: open /proc/self/fd/N rather than use the number
            int pid = kids.sh("exec 5</proc/self/fd/3 6>/proc/self/fd/4; read l <&5; echo \"re $l\" >&6", ch.childFds(3));
            ch.closeChildEnd();
            ch.startReading("pipes-proc", lines::add, eof::countDown);
            assertTrue(ch.send("opened"));
            assertEquals("re opened", lines.poll(5, TimeUnit.SECONDS));
            assertTrue(kids.awaitExit(pid).success());
            assertTrue(eof.await(5, TimeUnit.SECONDS));
        }
    }
}
