package dev.clustermaster.os;

import java.io.IOException;

/** A child could not be started; the message names the command and the errno text. */
public final class SpawnException extends IOException {
    private final int errno;

    public SpawnException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The errno that posix_spawnp reported, or 0 if the failure was not a libc error. */
    public int errno() {
        return errno;
    }
}
