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

/**
 * An application that knows nothing of cluster-master (JDK only, no worker API): an HTTP server on the socket
 * systemd-style supervisors pass at fd 0 ({@link System#inheritedChannel()}), else on 127.0.0.1:$PORT.
 * Each answer is "pid P worker N restart R" from the environment; it prints "PlainHttpApp started in N ms"
 * once it serves. {@code APP_STARTUP_DELAY_MS} imitates a slow start.
 */
public final class PlainHttpApp {
    private PlainHttpApp() {
    }

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        long delay = Long.parseLong(System.getenv().getOrDefault("APP_STARTUP_DELAY_MS", "0"));
        Thread.sleep(delay);
        Channel inherited = System.inheritedChannel();
        ServerSocketChannel listener;
        if (inherited instanceof ServerSocketChannel s) {
            listener = s;
        } else {
            listener = ServerSocketChannel.open();
            listener.bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(System.getenv("PORT"))), 512);
        }
        byte[] body = ("pid " + ProcessHandle.current().pid() + " worker " + System.getenv("CM_CHILD_ID")
                + " restart " + System.getenv("CM_RESTART") + "\n").getBytes(StandardCharsets.UTF_8);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        System.out.println("PlainHttpApp started in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        while (true) {
            SocketChannel c = listener.accept();
            pool.execute(() -> serve(c, body));
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
