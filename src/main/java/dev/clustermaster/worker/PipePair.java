package dev.clustermaster.worker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The worker's IPC channel to the master with the JDK alone: the two inherited pipes, reopened through
 * {@code /proc/self/fd} (a socket cannot be reopened that way, a pipe can; an anonymous pipe's open never waits
 * for the other end). Closing the channel wakes a thread blocked in read.
 */
final class PipePair implements ByteChannel {

    private final FileChannel in;
    private final FileChannel out;

    private PipePair(FileChannel in, FileChannel out) {
        this.in = in;
        this.out = out;
    }

    /** @param inFd the inherited pipe to read from; @param outFd the one to write to */
    static PipePair open(int inFd, int outFd) throws IOException {
        FileChannel in = FileChannel.open(fdPath(inFd), StandardOpenOption.READ);
        try {
            return new PipePair(in, FileChannel.open(fdPath(outFd), StandardOpenOption.WRITE));
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    private static Path fdPath(int fd) {
        return Path.of("/proc/self/fd", Integer.toString(fd));
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return in.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return out.write(src);
    }

    @Override
    public boolean isOpen() {
        return in.isOpen() && out.isOpen();
    }

    @Override
    public void close() throws IOException {
        try {
            out.close();
        } finally {
            in.close();
        }
    }
}
