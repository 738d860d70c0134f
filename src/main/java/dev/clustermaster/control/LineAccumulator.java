package dev.clustermaster.control;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a byte stream into lines ending in '\n' (a trailing '\r' is dropped), never holding more than
 * {@code maxLineBytes} of an unfinished line: the memory bound for hostile clients.
 */
final class LineAccumulator {

    /** The current line grew past the limit; the connection should be dropped. */
    static final class LineTooLongException extends Exception {
        LineTooLongException(int limit) {
            super("line too long (limit " + limit + " bytes)");
        }
    }

    private final int maxLineBytes;
    private byte[] pending = new byte[256];
    private int length;

    LineAccumulator(int maxLineBytes) {
        this.maxLineBytes = maxLineBytes;
    }

    /** Feeds bytes; returns the lines completed by them (without line terminators). */
    List<byte[]> feed(byte[] data, int count) throws LineTooLongException {
        List<byte[]> lines = new ArrayList<>(1);
        int start = 0;
        for (int i = 0; i < count; i++) {
            if (data[i] == '\n') {
                append(data, start, i - start);
                int end = length > 0 && pending[length - 1] == '\r' ? length - 1 : length;
                lines.add(Arrays.copyOf(pending, end));
                length = 0;
                start = i + 1;
            }
        }
        append(data, start, count - start);
        if (pending.length > 4096 && length == 0) {
            pending = new byte[256]; // give back the room a long line needed
        }
        return lines;
    }

    /** Bytes of a line that has begun but not ended. */
    int pendingBytes() {
        return length;
    }

    private void append(byte[] data, int offset, int n) throws LineTooLongException {
        if (n == 0) {
            return;
        }
        if (length + n > maxLineBytes) {
            length = 0;
            throw new LineTooLongException(maxLineBytes);
        }
        if (length + n > pending.length) {
            pending = Arrays.copyOf(pending, Math.min(maxLineBytes, Math.max(pending.length * 2, length + n)));
        }
        System.arraycopy(data, offset, pending, length, n);
        length += n;
    }
}
