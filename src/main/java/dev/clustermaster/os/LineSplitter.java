package dev.clustermaster.os;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Turns a byte stream into UTF-8 lines without the LF (invalid bytes become U+FFFD). A line longer than maxLine
 * bytes is reported through onOverlong, which decides: cut it (deliver the piece and go on) or stop.
 * Not thread-safe: one reader thread feeds it.
 */
final class LineSplitter {
    private final int maxLine;
    private final Consumer<String> onLine;
    private byte[] buf = new byte[256];
    private int len;

    LineSplitter(int maxLine, Consumer<String> onLine) {
        this.maxLine = maxLine;
        this.onLine = onLine;
    }

    /**
     * Feeds bytes. With cutOverlong, an overlong line is delivered in maxLine-sized pieces (cut on a UTF-8
     * character boundary when possible); otherwise feed returns false at the first overlong line.
     */
    boolean feed(byte[] data, int off, int n, boolean cutOverlong) {
        int end = off + n;
        int start = off;
        for (int i = off; i < end; i++) {
            if (data[i] == '\n') {
                if (!append(data, start, i - start, cutOverlong)) {
                    return false;
                }
                emit(len);
                start = i + 1;
            }
        }
        return append(data, start, end - start, cutOverlong);
    }

    /** Delivers a last unterminated line, if any. */
    void finish() {
        if (len > 0) {
            emit(len);
        }
    }

    private boolean append(byte[] data, int off, int n, boolean cutOverlong) {
        while (n > 0) {
            int room = maxLine - len;
            if (room == 0) {
                if (!cutOverlong) {
                    return false;
                }
                emit(cutPoint());
                continue;
            }
            int take = Math.min(room, n);
            ensure(len + take);
            System.arraycopy(data, off, buf, len, take);
            len += take;
            off += take;
            n -= take;
        }
        return true;  // a line of exactly maxLine bytes is fine; only a further byte makes it overlong
    }

    /** Where to cut a full buffer: before a UTF-8 sequence that started but may not be complete. */
    private int cutPoint() {
        for (int back = 1; back <= 3 && back <= len; back++) {
            int b = buf[len - back] & 0xff;
            if ((b & 0xc0) == 0x80) {
                continue;  // continuation byte, keep looking for the lead byte
            }
            int need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
            return need > back && back < len ? len - back : len;
        }
        return len;
    }

    private void emit(int n) {
        String line = new String(buf, 0, n, StandardCharsets.UTF_8);
        System.arraycopy(buf, n, buf, 0, len - n);
        len -= n;
        onLine.accept(line);
    }

    private void ensure(int capacity) {
        if (capacity > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(capacity, Math.min(maxLine, buf.length * 2)));
        }
    }
}
