package dev.clustermaster.control;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A TCP REPL connection. Java sockets have no send timeout, so a watchdog closes the socket when one write
 * takes longer than the write timeout.
 */
final class TcpClientConnection implements ClientConnection {

    private static final Logger log = LoggerFactory.getLogger(TcpClientConnection.class);

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final ScheduledExecutorService watchdog;
    private final Duration writeTimeout;
    private final AtomicBoolean aborted = new AtomicBoolean();
    private volatile boolean writeTimedOut;

    TcpClientConnection(Socket socket, Duration writeTimeout, ScheduledExecutorService watchdog) throws IOException {
        this.socket = socket;
        this.watchdog = watchdog;
        this.writeTimeout = writeTimeout;
        socket.setTcpNoDelay(true);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    @Override
    public int read(byte[] buffer) throws IOException {
        try {
            return in.read(buffer);
        } catch (SocketTimeoutException e) {
            return 0;
        }
    }

    @Override
    public void readTimeout(Duration timeout) throws IOException {
        socket.setSoTimeout(timeout.isZero() ? 0 : (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
    }

    @Override
    public void write(byte[] bytes) throws IOException {
        ScheduledFuture<?> guard = watchdog.schedule(() -> {
            writeTimedOut = true;
            abort();
        }, writeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            if (writeTimedOut) {
                throw new WriteTimeoutException("client accepted no data for " + writeTimeout.toMillis() + " ms");
            }
            throw e;
        } finally {
            guard.cancel(false);
        }
    }

    @Override
    public void abort() {
        if (aborted.compareAndSet(false, true)) {
            try {
                socket.close(); // Java sockets wake blocked readers/writers on close
            } catch (IOException e) {
                log.debug("aborting {}", describe(), e);
            }
        }
    }

    @Override
    public void close() {
        abort();
    }

    @Override
    public String describe() {
        return "tcp " + socket.getRemoteSocketAddress();
    }
}
