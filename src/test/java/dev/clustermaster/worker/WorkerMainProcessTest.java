package dev.clustermaster.worker;

import jnr.unixsocket.UnixDatagramChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * WorkerMain in a real child JVM, the test playing the master: a socketpair end at CM_IPC_FD, a datagram socket
 * at NOTIFY_SOCKET. Checks READY=1, both message directions, LOGLEVEL, and exit when the master end closes.
 */
class WorkerMainProcessTest {

    private static final long WAIT_SECONDS = 20; // a cold JVM plus jnr on a busy 2-core box
    private static final int CHILD_IPC_FD = 7;

    @TempDir
    Path dir;

    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    @Test
    void talksToTheMasterAndDiesWithIt() throws Exception {
        Path notifyPath = dir.resolve("w1.notify");
        UnixDatagramChannel notify = UnixDatagramChannel.open();
        cleanup.add(notify);
        notify.bind(new UnixSocketAddress(notifyPath.toString()));
        BlockingQueue<String> datagrams = new LinkedBlockingQueue<>();
        daemon(() -> {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            while (notify.isOpen()) {
                buf.clear();
                notify.receive(buf);
                buf.flip();
                datagrams.add(StandardCharsets.UTF_8.decode(buf).toString());
            }
            return null;
        });

        UnixSocketChannel[] pair = UnixSocketChannel.pair();
        UnixSocketChannel master = pair[0];
        ChildJvm.closeOnExec(pair[0].getFD());
        ChildJvm.closeOnExec(pair[1].getFD());
        cleanup.add(master);
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        daemon(() -> {
            readLines(master, lines);
            return null;
        });

        Map<String, String> env = Map.of(
                "CM_CHILD_ID", "2", "CM_RESTART", "4", "CM_WORKER_ID", "99",
                "CM_MASTER_PID", Long.toString(ProcessHandle.current().pid()),
                "NOTIFY_SOCKET", notifyPath.toString(), "CM_IPC_FD", Integer.toString(CHILD_IPC_FD));
        ChildJvm child = ChildJvm.start(List.of(WorkerMain.class.getName(), EchoWorkerFixture.class.getName(), "a", "b"),
                env, Map.of(CHILD_IPC_FD, pair[1].getFD()), dir.resolve("child.log"));
        cleanup.add(child);
        ChildJvm.closeRaw(pair[1].getFD()); // only the child holds the worker end now

        assertEquals("STATUS=warming up", poll(datagrams, child));
        assertEquals("READY=1", poll(datagrams, child));

        IpcFrame hello = IpcFrame.decode(poll(lines, child));
        assertEquals(new IpcFrame(IpcFrame.Kind.MSG, hello.id(), "hello a,b"), hello);
        write(master, new IpcFrame(IpcFrame.Kind.REPLY, hello.id(), "welcome\nworker"));
        IpcFrame got = IpcFrame.decode(poll(lines, child));
        assertEquals("got welcome\nworker", got.payload());

        write(master, new IpcFrame(IpcFrame.Kind.MSG, 500, "ping ✓"));
        assertEquals(new IpcFrame(IpcFrame.Kind.REPLY, 500, "pong ping ✓ from 2/4"), IpcFrame.decode(poll(lines, child)));

        write(master, new IpcFrame(IpcFrame.Kind.LOGLEVEL, 0, "debug"));
        assertEquals("level debug jul FINE", IpcFrame.decode(poll(lines, child)).payload());

        master.close(); // shutdown + close: like the kernel closing a killed master's fds
        long closedAt = System.nanoTime();
        OptionalInt status = child.awaitExit(Duration.ofSeconds(5));
        assertTrue(status.isPresent(), () -> "worker still runs 5 s after the master end closed\n" + child.output());
        assertEquals(MasterLoss.EXIT_STATUS, status.getAsInt(), child::output);
        assertTrue(System.nanoTime() - closedAt < TimeUnit.SECONDS.toNanos(5));
        assertTrue(child.output().contains("master"), child::output);
    }

    @Test
    void theStopSignalThatComesWithTheMastersDeathDrainsBeforeTheWorkerExits() throws Exception {
        UnixSocketChannel[] pair = UnixSocketChannel.pair();
        UnixSocketChannel master = pair[0];
        ChildJvm.closeOnExec(pair[0].getFD());
        ChildJvm.closeOnExec(pair[1].getFD());
        cleanup.add(master);
        Path drained = dir.resolve("drained");
        Map<String, String> env = Map.of("CM_CHILD_ID", "1", "CM_RESTART", "0", "CM_WORKER_ID", "7",
                "CM_MASTER_PID", Long.toString(ProcessHandle.current().pid()), "CM_IPC_FD", Integer.toString(CHILD_IPC_FD));
        ChildJvm child = ChildJvm.start(List.of(WorkerMain.class.getName(), StopFixture.class.getName(), drained.toString()),
                env, Map.of(CHILD_IPC_FD, pair[1].getFD()), dir.resolve("child.log"));
        cleanup.add(child);
        ChildJvm.closeRaw(pair[1].getFD());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!child.output().contains("armed")) {
            assertTrue(System.nanoTime() < deadline, () -> "the fixture never armed: " + child.output());
            Thread.sleep(20);
        }

        // a kill -9 of the master: the kernel sends PR_SET_PDEATHSIG's SIGTERM and closes the master's end at once
        child.signal(15);
        master.close();
        OptionalInt status = child.awaitExit(Duration.ofSeconds(WAIT_SECONDS));
        assertTrue(status.isPresent(), child::output);
        assertEquals(0, status.getAsInt(), () -> "the drain (300 ms, a request in flight) ended the worker, not the "
                + "master's loss cutting it: " + child.output());
        assertEquals("drained stopping=true", java.nio.file.Files.readString(drained));
    }

    @Test
    void missingMainClassExitsWithStatus2() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", ChildJvm.classPath(), WorkerMain.class.getName(), "no.such.Main")
                .redirectErrorStream(true).start();
        cleanup.add(p::destroyForcibly);
        assertTrue(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains("no.such.Main") && out.contains("not found"), out);
    }

    @Test
    void withoutAMasterTheApiIsHarmless() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", ChildJvm.classPath(), WorkerMain.class.getName(), StandaloneFixture.class.getName())
                .redirectErrorStream(true).start();
        cleanup.add(p::destroyForcibly);
        p.getOutputStream().close();
        assertTrue(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertEquals("id 0 worker false ready false send failed IllegalStateException listener false", out.trim());
    }

    /** Runs a worker main without any master environment. */
    public static final class StandaloneFixture {
        public static void main(String[] args) throws IOException {
            String send;
            try {
                ClusterWorker.send("x").get(5, TimeUnit.SECONDS);
                send = "send answered";
            } catch (Exception e) {
                send = "send failed " + e.getCause().getClass().getSimpleName();
            }
            System.out.println("id " + ClusterWorker.id() + " worker " + ClusterWorker.isWorker()
                    + " ready " + ClusterWorker.ready() + " " + send
                    + " listener " + ClusterWorker.inheritedListener().isPresent());
        }
    }

    private static String poll(BlockingQueue<String> queue, ChildJvm child) throws InterruptedException {
        String item = queue.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(item, () -> "nothing from the worker in " + WAIT_SECONDS + " s; its output:\n" + child.output());
        return item;
    }

    private static void readLines(UnixSocketChannel channel, BlockingQueue<String> lines) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (channel.read(buf) > 0) {
            buf.flip();
            while (buf.hasRemaining()) {
                byte b = buf.get();
                if (b == '\n') {
                    lines.add(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                } else {
                    line.write(b);
                }
            }
            buf.clear();
        }
    }

    private static void write(UnixSocketChannel channel, IpcFrame frame) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap((frame.encode() + "\n").getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    private static void daemon(java.util.concurrent.Callable<Void> body) {
        Thread t = new Thread(() -> {
            try {
                body.call();
            } catch (Exception e) {
                // The test closed the socket.
            }
        }, "test-master-side");
        t.setDaemon(true);
        t.start();
    }
}
