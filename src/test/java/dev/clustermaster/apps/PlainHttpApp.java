package dev.clustermaster.apps;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * An application that knows nothing of cluster-master (JDK only, no worker API): an HTTP server on the socket
 * systemd-style supervisors pass at fd 0 ({@link System#inheritedChannel()}), else on 127.0.0.1:$PORT. Each
 * answer is "pid P worker N greeting G restart R" from the environment ($GREETING, "-" without); it prints
 * "PlainHttpApp started in N ms" once it serves; on SIGTERM it stops accepting and finishes what it accepted (a
 * shutdown hook). {@code APP_STARTUP_DELAY_MS} imitates a slow start.
 *
 * <p>The ITs pack it with {@link AppJars}; the nspawn e2e (packaging/e2e/checks/50-app.sh) compiles this one
 * file with javac into its hello.jar: keep it a single file that needs nothing but the JDK.
 */
public final class PlainHttpApp {
    private PlainHttpApp() {
    }

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        Thread.sleep(Long.parseLong(System.getenv().getOrDefault("APP_STARTUP_DELAY_MS", "0")));
        Channel inherited = System.inheritedChannel();
        ServerSocketChannel listener;
        if (inherited instanceof ServerSocketChannel s) {
            listener = s;
        } else {
            listener = ServerSocketChannel.open();
            listener.bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(System.getenv("PORT"))), 512);
        }
        byte[] body = ("pid " + ProcessHandle.current().pid() + " worker " + System.getenv("CM_CHILD_ID")
                + " greeting " + System.getenv().getOrDefault("GREETING", "-")
                + " restart " + System.getenv("CM_RESTART") + "\n").getBytes(StandardCharsets.UTF_8);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        Thread acceptor = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // close, not interrupt: an interrupted accept() throws away a connection it has just taken (the JDK
            // closes the channel and drops the new socket: a client's reset, seen in CI); an accept() woken by a
            // close returns a connection it completed. Queued connections stay with the socket for other processes.
            try {
                listener.close();
            } catch (IOException e) {
                // closing our descriptor only
            }
            try {
                acceptor.join(10_000); // it may hold a connection it just accepted: let it hand it over (or serve it)
                pool.shutdown();
                pool.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.out.println("PlainHttpApp drained");
        }));
        System.out.println("PlainHttpApp started in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        while (true) {
            SocketChannel c;
            try {
                c = listener.accept();
            } catch (IOException e) {
                break; // closed by the shutdown hook
            }
            try {
                pool.execute(() -> serve(c, body));
            } catch (RejectedExecutionException e) {
                serve(c, body);
            }
        }
    }

    /** One request per connection, answered with Connection: close. */
    static void serve(SocketChannel c, byte[] body) {
        try (c) {
            InputStream in = c.socket().getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    return;
                }
                head.write(b);
                matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            OutputStream out = c.socket().getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
        } catch (IOException e) {
            // the client went away
        }
    }
}
