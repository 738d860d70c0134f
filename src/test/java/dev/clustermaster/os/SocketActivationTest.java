package dev.clustermaster.os;

import dev.clustermaster.os.ListenSockets.Listener;
import dev.clustermaster.os.SocketActivation.Passed;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketActivationTest {

    private static final long PID = 4242;

    @Test
    void readsFdsAndNamesMeantForUs() {
        Map<String, String> env = Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "3", "LISTEN_FDNAMES", "http:admin:metrics");
        assertEquals(List.of(new Passed("http", 3), new Passed("admin", 4), new Passed("metrics", 5)),
                SocketActivation.passed(env, PID));
    }

    @Test
    void ignoresFdsMeantForAnotherProcess() {
        assertEquals(List.of(), SocketActivation.passed(Map.of("LISTEN_PID", "1", "LISTEN_FDS", "2"), PID));
        assertEquals(List.of(), SocketActivation.passed(Map.of("LISTEN_FDS", "2"), PID));
        assertEquals(List.of(), SocketActivation.passed(Map.of("LISTEN_PID", "4242"), PID));
        assertEquals(List.of(), SocketActivation.passed(Map.of(), PID));
    }

    @Test
    void missingOrMismatchedNamesAreUnknown() {
        assertEquals(List.of(new Passed("unknown", 3), new Passed("unknown", 4)),
                SocketActivation.passed(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "2"), PID));
        assertEquals(List.of(new Passed("unknown", 3), new Passed("unknown", 4)),
                SocketActivation.passed(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "only-one"), PID));
        assertEquals(List.of(new Passed("unknown", 3), new Passed("b", 4)),
                SocketActivation.passed(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "2", "LISTEN_FDNAMES", ":b"), PID));
        assertEquals(List.of(), SocketActivation.passed(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "0"), PID));
    }

    @Test
    void garbageIsAnError() {
        assertThrows(IllegalArgumentException.class,
                () -> SocketActivation.passed(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "two"), PID));
        assertThrows(IllegalArgumentException.class,
                () -> SocketActivation.passed(Map.of("LISTEN_PID", "me", "LISTEN_FDS", "1"), PID));
        assertThrows(IllegalArgumentException.class,
                () -> SocketActivation.passed(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "-1"), PID));
    }

    @Test
    void theVariablesAreNotForWorkers() {
        Map<String, String> env = Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "1", "LISTEN_FDNAMES", "http", "HOME", "/root");
        assertEquals(Map.of("HOME", "/root"), SocketActivation.withoutActivationEnv(env));
    }

    @Test
    void adoptsAListeningSocketAndMarksItCloexec() throws IOException {
        List<Listener> bound = ListenSockets.bind(List.of("tcp://127.0.0.1:0"));
        try {
            int fd = bound.get(0).fd();
            clearCloexec(fd);
            List<Listener> adopted = SocketActivation.adopt(List.of(new Passed("web", fd)));
            assertEquals(List.of(new Listener("web", bound.get(0).spec(), fd)), adopted);
            assertTrue(ListenSocketsTest.cloexec(fd));
        } finally {
            ListenSockets.close(bound);
        }
    }

    @Test
    void refusesWhatIsNotAListeningStreamSocket() {
        int notListening = Libc.api().socket(Libc.AF_INET, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
        try {
            IOException e = assertThrows(IOException.class,
                    () -> SocketActivation.adopt(List.of(new Passed("web", notListening))));
            assertTrue(e.getMessage().contains("is not listening"), e.getMessage());
        } finally {
            Libc.api().close(notListening);
        }
        IOException closed = assertThrows(IOException.class, () -> SocketActivation.adopt(List.of(new Passed("gone", 999_999))));
        assertTrue(closed.getMessage().contains("not a usable socket"), closed.getMessage());
    }

    private static void clearCloexec(int fd) {
        Libc.api().fcntl(fd, Libc.F_SETFD, 0);
    }
}
