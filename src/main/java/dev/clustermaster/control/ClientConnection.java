package dev.clustermaster.control;

import java.io.IOException;

/**
 * One accepted REPL connection, whatever the transport. Reads and the final close happen on the session's own
 * thread; {@link #write} may come from the session or the broadcaster (callers serialize); {@link #abort} from anywhere.
 */
interface ClientConnection {

    /** Thrown when the peer accepted no bytes for the whole write timeout. */
    final class WriteTimeoutException extends IOException {
        WriteTimeoutException(String message) {
            super(message);
        }
    }

    /**
     * Reads into {@code buffer}. Returns the byte count, -1 at end of stream, or 0 when no byte came within the
     * read timeout (the caller decides whether a deadline has passed).
     */
    int read(byte[] buffer) throws IOException;

    /** How long the next {@link #read} may wait for a byte; zero waits forever. */
    void readTimeout(java.time.Duration timeout) throws IOException;

    /** Writes all bytes or throws; a peer that does not read makes this fail within the write timeout. */
    void write(byte[] bytes) throws IOException;

    /** Wakes a blocked read/write and makes further I/O fail; safe from any thread, idempotent. */
    void abort();

    /** Releases the descriptor; only the session thread calls this, after its last read. */
    void close();

    /** "uid 1000 pid 4242" or "127.0.0.1:53122", for logs. */
    String describe();
}
