package dev.clustermaster.worker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The worker end of the IPC line protocol ({@link IpcFrame}) over a connected stream channel.
 *
 * <p>One daemon thread reads frames; handlers run on a second daemon thread so a handler that itself waits
 * for a reply from the master cannot block the reader. Writes from any thread are serialised.
 */
final class IpcChannel implements AutoCloseable {

    /** What the channel hands up. Called on the handler thread, except {@link #onClosed}. */
    interface Peer {
        /** Answer to a message from the master; null means an empty reply. */
        String onMessage(String text) throws Exception;

        void onLogLevel(String level);

        /** The channel is gone (EOF, I/O error or protocol error); called once, on the reader thread. */
        void onClosed(String reason);
    }

    /** Reply payload prefix when the worker could not answer; the rest is a one-line reason. */
    static final String ERROR_PREFIX = "ERR ";

    private static final int MAX_LINE_BYTES = IpcFrame.MAX_LINE_CHARS * 4;

    private final ByteChannel channel;
    private final Peer peer;
    private final Object writeLock = new Object();
    private final AtomicLong nextId = new AtomicLong(1);
    private final Map<Long, CompletableFuture<String>> pending = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ExecutorService handlers = Executors.newSingleThreadExecutor(r -> daemon(r, "cm-ipc-handler"));

    IpcChannel(ByteChannel channel, Peer peer) {
        this.channel = channel;
        this.peer = peer;
    }

    void start() {
        daemon(this::readLoop, "cm-ipc-reader").start();
    }

    /** Sends MSG with a fresh id; the future completes with the master's REPLY payload. */
    CompletableFuture<String> send(String text) {
        long id = nextId.getAndIncrement();
        CompletableFuture<String> reply = new CompletableFuture<>();
        pending.put(id, reply);
        try {
            write(new IpcFrame(IpcFrame.Kind.MSG, id, text));
        } catch (IOException e) {
            pending.remove(id);
            reply.completeExceptionally(e);
        }
        if (closed.get() && pending.remove(id) != null) {
            reply.completeExceptionally(new IOException("IPC channel to the master is closed"));
        }
        return reply;
    }

    /** Sends an sd_notify state (READY=1, STATUS=..., ...) as a NOTIFY frame; false when the channel is closed. */
    boolean notifyMaster(String state) {
        try {
            write(new IpcFrame(IpcFrame.Kind.NOTIFY, 0, state));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    boolean isOpen() {
        return !closed.get();
    }

    @Override
    public void close() {
        shutDown("closed by the worker", false);
    }

    /** A warm spare tells the master it waits to be promoted; false when the channel is closed. */
    boolean held() {
        try {
            write(new IpcFrame(IpcFrame.Kind.HELD, 0, ""));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void write(IpcFrame frame) throws IOException {
        if (closed.get()) {
            throw new IOException("IPC channel to the master is closed");
        }
        ByteBuffer bytes = ByteBuffer.wrap((frame.encode() + '\n').getBytes(StandardCharsets.UTF_8));
        synchronized (writeLock) {
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        }
    }

    private void readLoop() {
        ByteBuffer in = ByteBuffer.allocate(16 * 1024);
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        String reason = "end of stream: the master is gone";
        try {
            while (!closed.get()) {
                in.clear();
                int n = channel.read(in);
                if (n < 0) {
                    break;
                }
                in.flip();
                while (in.hasRemaining()) {
                    byte b = in.get();
                    if (b != '\n') {
                        line.write(b);
                        if (line.size() > MAX_LINE_BYTES) {
                            throw new IOException("IPC line longer than " + IpcFrame.MAX_LINE_CHARS + " characters");
                        }
                        continue;
                    }
                    dispatch(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                }
            }
        } catch (IOException | RuntimeException e) {
            reason = closed.get() ? "closed by the worker" : "read failed: " + e.getMessage();
        }
        shutDown(reason, true);
    }

    private void dispatch(String line) {
        IpcFrame frame;
        try {
            frame = IpcFrame.decode(line);
        } catch (IllegalArgumentException e) {
            WorkerLog.warn("ignoring " + e.getMessage());
            return;
        }
        switch (frame.kind()) {
            case REPLY -> {
                CompletableFuture<String> reply = pending.remove(frame.id());
                if (reply != null) {
                    reply.complete(frame.payload());
                }
            }
            case MSG -> runHandler(() -> answer(frame));
            case LOGLEVEL -> runHandler(() -> peer.onLogLevel(frame.payload()));
            // on the reader thread: a slow message handler must not delay a promotion
            case PROMOTE -> SpareHold.promote(frame.payload());
            case STOP -> SpareHold.stop();
            default -> WorkerLog.warn("ignoring IPC frame of kind " + frame.kind() + " (not one for a worker)");
        }
    }

    private void answer(IpcFrame msg) {
        String answer;
        try {
            String result = peer.onMessage(msg.payload());
            answer = result == null ? "" : result;
        } catch (Exception | LinkageError e) {
            answer = ERROR_PREFIX + e;
        }
        if (msg.id() == 0) {
            return;
        }
        try {
            write(new IpcFrame(IpcFrame.Kind.REPLY, msg.id(), answer));
        } catch (IOException e) {
            // The reader sees the same failure and closes the channel.
        }
    }

    private void runHandler(Runnable task) {
        try {
            handlers.execute(task);
        } catch (RejectedExecutionException e) {
            // Closing: nobody waits for this answer any more.
        }
    }

    private void shutDown(String reason, boolean notifyPeer) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        handlers.shutdown();
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing left to do with it.
        }
        IOException failure = new IOException("IPC channel to the master closed: " + reason);
        pending.values().forEach(f -> f.completeExceptionally(failure));
        pending.clear();
        if (notifyPeer) {
            peer.onClosed(reason);
        }
    }

    private static Thread daemon(Runnable body, String name) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    }
}
