package dev.clustermaster.runtime;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.clustermaster.config.Config;
import dev.clustermaster.os.ListenSockets;
import dev.clustermaster.os.ListenSockets.Listener;
import dev.clustermaster.os.NotifyReceiver;
import dev.clustermaster.os.SdNotify;
import dev.clustermaster.os.SocketActivation.Passed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sockets stored in systemd's fd store come back to the next master: adopted when they match, else dropped. */
class ListenerSetupTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private NotifyReceiver systemd;
    private SdNotify notify;
    private final List<InheritedSocket> opened = new ArrayList<>();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger("dev.clustermaster.master");

    @BeforeEach
    void setUp() throws IOException {
        systemd = NotifyReceiver.bind(dir.resolve("notify.sock"));
        notify = SdNotify.to(systemd.path());
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void tearDown() {
        logger.detachAppender(logs);
        ListenerSetup.close(opened);
        systemd.close();
    }

    @Test
    void adoptsAStoredSocketThatMatchesListenAndStoresItAgain() throws Exception {
        Listener old = ListenSockets.bind(List.of("tcp://127.0.0.1:0")).get(0);
        int port = port(old.spec());
        List<InheritedSocket> got = open(List.of("tcp://127.0.0.1:" + port), List.of(new Passed("cm-listen.tcp-" + port, old.fd())));
        assertEquals(List.of(new InheritedSocket("tcp-" + port, old.spec(), old.fd(), true, false)), got, "the same fd, nothing bound anew");
        NotifyReceiver.Message stored = systemd.await("FDSTORE", T, m -> m.get("FDSTORE") != null);
        assertEquals("cm-listen.tcp-" + port, stored.get("FDNAME"));
        assertEquals(old.spec(), ListenSockets.describe(stored.fds()[0]));
        assertTrue(logged("adopted from systemd's fd store: [tcp-" + port + "=" + old.spec() + "]"), logs.list.toString());
        assertFalse(logged("listening on"), "nothing bound: " + logs.list);
    }

    @Test
    void portZeroAdoptsTheStoredPort() throws Exception {
        Listener old = ListenSockets.bind(List.of("tcp://127.0.0.1:0")).get(0);
        List<InheritedSocket> got = open(List.of("tcp://127.0.0.1:0"), List.of(new Passed("cm-listen.tcp-0", old.fd())));
        assertEquals(old.fd(), got.get(0).fd());
        assertEquals(old.spec(), got.get(0).spec());
    }

    @Test
    void aStoredSocketListenNoLongerAsksForIsClosedDroppedAndLogged() throws Exception {
        Path oldPath = dir.resolve("old.sock");
        Listener old = ListenSockets.bind(List.of("unix:" + oldPath)).get(0);
        Path newPath = dir.resolve("new.sock");
        List<InheritedSocket> got = open(List.of("unix:" + newPath), List.of(new Passed("cm-listen.unix-old.sock", old.fd())));
        assertEquals("unix:" + newPath, got.get(0).spec());
        assertTrue(connects(newPath));
        assertFalse(connects(oldPath), "the stale socket is closed, not kept listening");
        NotifyReceiver.Message removed = systemd.await("FDSTOREREMOVE", T, m -> m.get("FDSTOREREMOVE") != null);
        assertEquals("cm-listen.unix-old.sock", removed.get("FDNAME"));
        NotifyReceiver.Message stored = systemd.await("FDSTORE", T, m -> m.get("FDSTORE") != null);
        assertEquals("cm-listen.unix-new.sock", stored.get("FDNAME"));
        assertTrue(systemd.seen().indexOf(removed) < systemd.seen().indexOf(stored), "removed before storing: " + systemd.seen());
        assertTrue(logged("WARN closing stored socket cm-listen.unix-old.sock (unix:" + oldPath + ") from systemd's fd store:"
                + " listen= no longer asks for it"), logs.list.toString());
    }

    @Test
    void aChangedAddressOnTheSameNameIsNotReused() throws Exception {
        Listener old = ListenSockets.bind(List.of("tcp://127.0.0.1:0")).get(0);
        int port = port(old.spec());
        // same default name (tcp-PORT), another address: the wildcard one must be bound afresh on the freed port
        List<InheritedSocket> got = open(List.of("tcp://0.0.0.0:" + port), List.of(new Passed("cm-listen.tcp-" + port, old.fd())));
        assertEquals("tcp://0.0.0.0:" + port, got.get(0).spec());
        assertEquals("cm-listen.tcp-" + port, systemd.await("FDSTOREREMOVE", T, m -> m.get("FDSTOREREMOVE") != null).get("FDNAME"));
        assertEquals("tcp://0.0.0.0:" + port, ListenSockets.describe(
                systemd.await("FDSTORE", T, m -> m.get("FDSTORE") != null).fds()[0]));
    }

    @Test
    void aStoredUnixSocketWhoseFileWasRemovedIsReplaced() throws Exception {
        Path path = dir.resolve("app.sock");
        Listener old = ListenSockets.bind(List.of("unix:" + path)).get(0);
        Files.delete(path);   // e.g. RuntimeDirectory= removed on restart: nobody could connect to the old one
        List<InheritedSocket> got = open(List.of("unix:" + path), List.of(new Passed("cm-listen.unix-app.sock", old.fd())));
        assertTrue(connects(path));
        assertFalse(logged("adopted from"), "not adopted: " + logs.list);
        assertTrue(logged("closing stored socket cm-listen.unix-app.sock"), logs.list.toString());
    }

    @Test
    void aStoredFdThatIsNoListeningSocketIsDropped() throws Exception {
        Path file = dir.resolve("plain");
        Files.writeString(file, "x");
        int fd = dev.clustermaster.os.Posix.get().open(file.toString(), 0, 0);
        assertTrue(fd > 2, "opened " + file);
        List<InheritedSocket> got = open(List.of("tcp://127.0.0.1:0"), List.of(new Passed("cm-listen.tcp-0", fd)));
        assertEquals(1, got.size());
        assertTrue(logged("closing stored socket cm-listen.tcp-0 (unusable"), logs.list.toString());
        assertEquals("cm-listen.tcp-0", systemd.await("FDSTOREREMOVE", T, m -> m.get("FDSTOREREMOVE") != null).get("FDNAME"));
    }

    @Test
    void socketActivationWinsAndStoredSocketsAreDropped() throws Exception {
        Listener unit = ListenSockets.bind(List.of("tcp://127.0.0.1:0")).get(0);
        Listener stale = ListenSockets.bind(List.of("tcp://127.0.0.1:0")).get(0);
        List<InheritedSocket> got = open(List.of(), List.of(new Passed("http", unit.fd()), new Passed("cm-listen.tcp-0", stale.fd())));
        assertEquals(List.of(new InheritedSocket("http", unit.spec(), unit.fd(), true, true)), got);
        assertFalse(connects(port(stale.spec())));
        assertEquals("cm-listen.tcp-0", systemd.await("FDSTOREREMOVE", T, m -> m.get("FDSTOREREMOVE") != null).get("FDNAME"));
        assertTrue(systemd.seen().stream().noneMatch(m -> m.get("FDSTORE") != null), "the socket unit holds its own: " + systemd.seen());
    }

    @Test
    void withoutSystemdNothingIsStoredAndFilesAreOurs() throws Exception {
        notify = SdNotify.to(null);
        List<InheritedSocket> got = open(List.of("tcp://127.0.0.1:0"), List.of());
        assertFalse(got.get(0).fromSystemd());
        assertThrows(AssertionError.class, () -> systemd.await("anything", Duration.ofMillis(600), m -> true));
    }

    private List<InheritedSocket> open(List<String> listen, List<Passed> passed) throws IOException {
        Config config = Config.builder().exec("true").listen(listen).runtimeDir(dir.resolve("run")).build();
        List<InheritedSocket> got = ListenerSetup.open(config, passed, notify);
        opened.addAll(got);
        return got;
    }

    private boolean logged(String fragment) {
        return logs.list.stream().anyMatch(e -> (e.getLevel() + " " + e.getFormattedMessage()).contains(fragment));
    }

    private static int port(String spec) {
        return Integer.parseInt(spec.substring(spec.lastIndexOf(':') + 1));
    }

    private static boolean connects(Path path) {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return c.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean connects(int port) {
        try (SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
            return c.isConnected();
        } catch (IOException e) {
            return false;
        }
    }
}
