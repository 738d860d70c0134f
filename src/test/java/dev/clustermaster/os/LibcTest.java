package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LibcTest {

    /** jnr-constants' Linux table must agree with the kernel ABI the literals were written from. */
    @Test
    void constantsFromJnrConstantsAreLinuxValues() {
        assertEquals(0, Libc.O_RDONLY);
        assertEquals(0x800, Libc.O_NONBLOCK);
        assertEquals(1, Libc.AF_UNIX);
        assertEquals(2, Libc.AF_INET);
        assertEquals(10, Libc.AF_INET6);
        assertEquals(1, Libc.SOCK_STREAM);
        assertEquals(2, Libc.SOCK_DGRAM);
        assertEquals(Libc.O_CLOEXEC, Libc.SOCK_CLOEXEC);
        assertEquals(1, Libc.F_GETFD);
        assertEquals(2, Libc.F_SETFD);
        assertEquals(3, Libc.F_GETFL);
        assertEquals(4, Libc.F_SETFL);
        assertEquals(1, Libc.SOL_SOCKET);
        assertEquals(2, Libc.SO_REUSEADDR);
        assertEquals(3, Libc.SO_TYPE);
        assertEquals(30, Libc.SO_ACCEPTCONN);
        assertEquals(20, Libc.SO_RCVTIMEO);
        assertEquals(21, Libc.SO_SNDTIMEO);
        assertEquals(41, Libc.IPPROTO_IPV6);
        assertEquals(0x4000, Libc.MSG_NOSIGNAL);
        assertEquals(0x8, Libc.MSG_CTRUNC);
        assertEquals(0x40, Libc.MSG_DONTWAIT);
        assertEquals(2, Libc.SHUT_RDWR);
        assertEquals(1, Libc.WNOHANG);
        assertEquals(2, Libc.SC_CLK_TCK);
        assertEquals(30, Libc.SC_PAGESIZE);
        assertEquals(4, Libc.SC_OPEN_MAX);
        assertEquals(2, Libc.ENOENT);
        assertEquals(3, Libc.ESRCH);
        assertEquals(4, Libc.EINTR);
        assertEquals(9, Libc.EBADF);
        assertEquals(10, Libc.ECHILD);
        assertEquals(11, Libc.EAGAIN);
        assertEquals(13, Libc.EACCES);
        assertEquals(21, Libc.EISDIR);
        assertEquals(32, Libc.EPIPE);
        assertEquals(97, Libc.EAFNOSUPPORT);
        assertEquals(1, Libc.X_OK);
    }

    @Test
    void devNullForReadingIsCloseOnExecAndShutdownOfANonSocketFails() {
        int fd = Fds.openDevNullForReading();
        try {
            assertTrue(fd > 2, "fd " + fd);
            assertTrue(Fds.isCloseOnExec(fd));
            assertFalse(Fds.shutdown(fd), "shutdown(2) of a file");
            assertEquals(0, Libc.api().read(fd, new byte[1], 1), "EOF at once");
        } finally {
            Libc.closeQuietly(fd);
        }
    }

    @Test
    void processFunctionsAnswerAsTheJdkDoes() throws Exception {
        assertEquals(ProcessHandle.current().pid(), Libc.api().getpid());
        assertEquals("No such file or directory", Libc.strerror(Libc.ENOENT));
        Process p = new ProcessBuilder("sleep", "60").start();
        try {
            assertTrue(ProcessGroups.signalProcess((int) p.pid(), 9));
            assertEquals(137, p.waitFor());
        } finally {
            p.destroyForcibly();
        }
    }
}
