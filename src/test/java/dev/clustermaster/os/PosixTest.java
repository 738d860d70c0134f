package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PosixTest {
    @Test
    void nativeSingleton() {
        assertTrue(Posix.get().isNative());
        assertSame(Posix.get(), Posix.get());
        assertEquals(ProcessHandle.current().pid(), Posix.get().getpid());
        assertEquals("No such file or directory", Posix.get().strerror(Libc.ENOENT));
    }
}
