package dev.clustermaster.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import sun.misc.Signal;
import sun.misc.SignalHandler;

class SignalTrapTest {
    private final Kids kids = new Kids();
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();

    @AfterEach
    void cleanup() {
        SignalTrap.restore();
        kids.close();
    }

    @Test
    void realKillFromAnotherProcessReachesTheHandler() throws Exception {
        List<String> failed = SignalTrap.install(List.of("HUP", "SIGTTIN"), received::add);
        assertEquals(List.of(), failed);
        long self = ProcessHandle.current().pid();
        assertTrue(kids.awaitExit(kids.spawn("sh", "-c", "kill -HUP " + self)).success());
        assertEquals("HUP", received.poll(5, TimeUnit.SECONDS));
        assertTrue(kids.awaitExit(kids.spawn("sh", "-c", "kill -TTIN " + self)).success());
        assertEquals("TTIN", received.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void childExitRaisesChld() throws Exception {
        assertEquals(List.of(), SignalTrap.install(List.of("CHLD"), received::add));
        kids.awaitExit(kids.spawn("true"));
        assertEquals("CHLD", received.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void uncatchableOrUnknownNamesAreReported() {
        List<String> failed = SignalTrap.install(List.of("KILL", "STOP", "NOPE", "SEGV"), received::add);
        assertEquals(List.of("KILL", "STOP", "NOPE", "SEGV"), failed);
    }

    @Test
    void usr2CanBeTrappedAndGivenBackToTheVm() throws Exception {
        // HotSpot/Linux uses SIGUSR2 itself (suspend/resume); trapping works but replaces the VM's handler.
        String vmHandler = currentHandler("USR2");
        assertTrue(vmHandler.contains("NativeHandler"), "precondition: the VM's own handler, got " + vmHandler);
        assertEquals(List.of(), SignalTrap.install(List.of("USR2"), received::add));
        ProcessGroups.signalProcess((int) ProcessHandle.current().pid(), Signals.SIGUSR2);
        assertEquals("USR2", received.poll(5, TimeUnit.SECONDS));
        SignalTrap.restore();
        // Each query wraps the native address in a new object, so the class is what can be compared; while ours is
        // installed the query returns our Java handler. (No USR2 is sent now: HotSpot's handler would crash on a
        // thread it does not know.)
        assertTrue(currentHandler("USR2").contains("NativeHandler"), "the VM's handler is back");
    }

    @Test
    void aShutdownSignalIgnoredSinceStartIsTrappedAnywayAndIgnoredAgainOnRestore() throws Exception {
        // as under nohup: HUP ignored natively, where HotSpot refuses to install a handler over SIG_IGN
        SignalHandler original = Signal.handle(new Signal("HUP"), SignalHandler.SIG_IGN);
        try {
            assertEquals(Libc.SIG_IGN, Libc.signalHandler(Signals.SIGHUP));
            assertEquals(List.of(), SignalTrap.install(List.of("HUP"), received::add));
            ProcessGroups.signalProcess((int) ProcessHandle.current().pid(), Signals.SIGHUP);
            assertEquals("HUP", received.poll(5, TimeUnit.SECONDS));
            SignalTrap.restore();
            assertEquals(Libc.SIG_IGN, Libc.signalHandler(Signals.SIGHUP), "restore puts the ignored state back");
        } finally {
            Libc.resetSignalToDefault(Signals.SIGHUP);
            Signal.handle(new Signal("HUP"), original);
        }
    }

    @Test
    void restorePutsTheOldHandlerBack() throws Exception {
        // TTOU's default action stops the process: a marker handler stands in for "whatever was there before".
        Signal ttou = new Signal("TTOU");
        SignalHandler original = Signal.handle(ttou, s -> received.add("before"));
        try {
            assertEquals(List.of(), SignalTrap.install(List.of("TTOU"), s -> received.add("trapped")));
            SignalTrap.restore();
            ProcessGroups.signalProcess((int) ProcessHandle.current().pid(), Signals.SIGTTOU);
            assertEquals("before", received.poll(5, TimeUnit.SECONDS));
            assertEquals(null, received.poll(100, TimeUnit.MILLISECONDS), "the trapped handler got it too");
        } finally {
            Signal.handle(ttou, original);
        }
    }

    /** The handler installed for name, by swapping in a no-op and straight back (there is no getter). */
    private static String currentHandler(String name) {
        Signal sig = new Signal(name);
        SignalHandler current = Signal.handle(sig, s -> { });
        Signal.handle(sig, current);
        return current.toString();
    }
}
