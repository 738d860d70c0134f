package dev.clustermaster.demo;

import dev.clustermaster.worker.ClusterWorker;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * Demo worker: a tiny HTTP server answering {@code GET /} with "pid P worker N restart R".
 *
 * <p>Serves the listener inherited from the master when there is one, else binds 127.0.0.1 on the port given
 * as first argument, or {@code PORT}, or 8080 ({@code CM_REUSEPORT=1} adds SO_REUSEPORT, for masters that let
 * every worker bind). {@code DEMO_STARTUP_DELAY_MS} delays serving and READY=1 to imitate a slow start.
 * On SIGTERM (or SIGINT) it stops accepting, finishes the requests in flight and exits 0
 * (at most {@code DEMO_DRAIN_TIMEOUT_MS}, default 30000, later; then exit 1).
 */
public final class DemoHttpWorker {

    private DemoHttpWorker() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        TermSignal.onTerm(stop::countDown);

        long startupDelay = envMillis("DEMO_STARTUP_DELAY_MS", 0);
        if (startupDelay > 0) {
            Thread.sleep(startupDelay);
        }
        // all start-up work first: in a warm spare, what is left after the promotion is only to accept
        DemoHttpServer server = new DemoHttpServer(DemoHttpWorker::body);
        if (ClusterWorker.spare()) {
            server.warmUp();  // a spare has the time; a worker that is to serve now would only start later
        }
        server.start(() -> {
            // on the accept thread: in a warm spare (spare=N) it is held here until the master promotes it
            Optional<ServerSocketChannel> inherited = ClusterWorker.inheritedListener();
            return new DemoHttpServer.Listener(inherited.isPresent() ? inherited.get() : bind(port(args)), inherited.isEmpty());
        });
        DemoHttpServer.Listener listener;
        try {
            listener = server.awaitAccepting();
        } catch (IOException e) {
            if (!ClusterWorker.stopping()) {
                throw e;
            }
            System.out.println("demo: stopped as a spare, before serving");  // its own SIGTERM handler only counts down
            System.exit(0);
            return;
        }
        ClusterWorker.ready();
        System.out.println("demo: serving on " + listener.channel().getLocalAddress()
                + (listener.owned() ? "" : " (inherited)") + " as " + body().trim());

        stop.await();
        System.out.println("demo: draining");
        boolean drained = server.drain(envMillis("DEMO_DRAIN_TIMEOUT_MS", 30_000));
        System.out.println(drained ? "demo: drained, exiting" : "demo: drain timed out, exiting");
        System.exit(drained ? 0 : 1);
    }

    /** Read when the accept thread has its listener: a promoted spare's slot and restart count are known then. */
    private static String body() {
        return "pid " + ProcessHandle.current().pid() + " worker " + ClusterWorker.id()
                + " restart " + ClusterWorker.restartCount() + "\n";
    }

    private static ServerSocketChannel bind(int port) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open();
        channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        if ("1".equals(System.getenv("CM_REUSEPORT"))) {
            channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        }
        channel.bind(new InetSocketAddress("127.0.0.1", port), 1024);
        return channel;
    }

    private static int port(String[] args) {
        String value = args.length > 0 ? args[0] : System.getenv().getOrDefault("PORT", "8080");
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port must be a number, got: " + value, e);
        }
    }

    private static long envMillis(String name, long fallback) {
        String value = System.getenv(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Math.max(0, Long.parseLong(value.trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be milliseconds, got: " + value, e);
        }
    }
}
