package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every notify socket and IPC channel is served by the one poller thread. */
class FdPollerTest {
    @TempDir
    Path dir;

    @Test
    void manyWorkerSocketsShareOneThread() throws Exception {
        int n = 64;
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
        // warm up: the shared poller thread itself may start now
        NotifyListener.bind(dir.resolve("warm.sock"), m -> { }).close();
        int before = Thread.activeCount();
        List<NotifyListener> listeners = new ArrayList<>();
        List<WorkerChannel> channels = new ArrayList<>();
        CountDownLatch eofs = new CountDownLatch(n);
        try {
            for (int i = 0; i < n; i++) {
                String id = Integer.toString(i);
                listeners.add(NotifyListener.bind(dir.resolve("w" + i + ".sock"), m -> {
                    threads.add(Thread.currentThread().getName());
                    got.add("notify " + id + " " + m.get("STATUS"));
                }));
                WorkerChannel ch = WorkerChannel.open();
                ch.startReading("test-" + i, line -> {
                    threads.add(Thread.currentThread().getName());
                    got.add("ipc " + id + " " + line);
                }, eofs::countDown);
                channels.add(ch);
            }
            assertTrue(Thread.activeCount() - before <= 1, "threads grew by " + (Thread.activeCount() - before));
            for (int i = 0; i < n; i++) {
                assertTrue(SdNotify.to(dir.resolve("w" + i + ".sock").toString()).send("STATUS=s" + i));
                writeFromWorkerEnd(channels.get(i), "hello " + i + "\n");
            }
            List<String> all = new ArrayList<>();
            for (int i = 0; i < 2 * n; i++) {
                String s = got.poll(10, TimeUnit.SECONDS);
                assertTrue(s != null, "only " + all.size() + " of " + 2 * n + " messages arrived: " + all);
                all.add(s);
            }
            for (int i = 0; i < n; i++) {
                assertTrue(all.contains("notify " + i + " s" + i), all.toString());
                assertTrue(all.contains("ipc " + i + " hello " + i), all.toString());
            }
            assertEquals(Set.of("cm-poller"), threads, "callbacks ran on " + threads);
        } finally {
            listeners.forEach(NotifyListener::close);
            channels.forEach(WorkerChannel::close);
        }
        assertTrue(eofs.await(10, TimeUnit.SECONDS), "every channel saw its end");
        for (int i = 0; i < n; i++) {
            assertTrue(!Files.exists(dir.resolve("w" + i + ".sock")));
        }
    }

    @Test
    void closingAListenerClosesItsSocket() throws Exception {
        Set<String> before = openSockets();
        NotifyListener l = NotifyListener.bind(dir.resolve("c.sock"), m -> { });
        Set<String> added = openSockets();
        added.removeAll(before);
        assertEquals(1, added.size(), "one new socket: " + added);
        l.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (openSockets().containsAll(added) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(!openSockets().containsAll(added), added + " still open");
    }

    /** socket:[inode] of every open fd: unlike fd numbers, inodes are not reused while we look. */
    private static Set<String> openSockets() throws Exception {
        Set<String> out = new java.util.HashSet<>();
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    String t = Files.readSymbolicLink(p).toString();
                    if (t.startsWith("socket:")) {
                        out.add(t);
                    }
                } catch (java.io.IOException gone) {
                    // closed while listing
                }
            }
        }
        return out;
    }

    /** Writes as the worker would, on the child end of the socketpair. */
    private static void writeFromWorkerEnd(WorkerChannel ch, String text) {
        byte[] b = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(b.length, Libc.api().send(ch.childFd(), b, b.length, Libc.MSG_NOSIGNAL));
    }
}
