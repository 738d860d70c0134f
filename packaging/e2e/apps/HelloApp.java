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
 * The e2e's "unmodified Java app": JDK only, knows nothing of cluster-master. Serves HTTP on the socket a
 * supervisor passes at fd 0 (System.inheritedChannel(), as inetd/systemd do), else on 127.0.0.1:$PORT; answers
 * "pid P worker N greeting G"; on SIGTERM stops accepting and finishes what it accepted (a shutdown hook).
 */
public final class HelloApp {
    public static void main(String[] args) throws Exception {
        Channel inherited = System.inheritedChannel();
        ServerSocketChannel listener;
        if (inherited instanceof ServerSocketChannel s) {
            listener = s;
        } else {
            listener = ServerSocketChannel.open();
            listener.bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(System.getenv("PORT"))), 512);
        }
        byte[] body = ("pid " + ProcessHandle.current().pid() + " worker " + System.getenv("CM_CHILD_ID")
                + " greeting " + System.getenv().getOrDefault("GREETING", "-") + "\n").getBytes(StandardCharsets.UTF_8);
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
            System.out.println("HelloApp drained");
        }));
        System.out.println("HelloApp started, serving");
        while (!Thread.currentThread().isInterrupted()) {
            SocketChannel c;
            try {
                c = listener.accept();
            } catch (IOException e) {
                break;
            }
            try {
                pool.execute(() -> serve(c, body));
            } catch (RejectedExecutionException e) {
                serve(c, body);
            }
        }
    }

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
