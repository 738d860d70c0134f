package dev.clustermaster.os;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Signal handlers via sun.misc.Signal: HotSpot catches the signal natively and runs the Java handler on an ordinary
 * thread, so the callback is safe Java (unlike a jnr signal() callback invoked in signal context).
 * The callback gets the short name ("HUP") and must only enqueue or hand off: it runs on the JVM's signal thread.
 */
public final class SignalTrap {
    private static final Logger log = LoggerFactory.getLogger(SignalTrap.class);

    /** HotSpot silently skips installing these if they were ignored when the JVM started (e.g. under nohup). */
    private static final Set<String> SHUTDOWN_SIGNALS = Set.of("HUP", "INT", "TERM");

    /** Handlers we replaced, so tests (and shutdown) can put them back. */
    private static final Map<String, SignalHandler> previous = new LinkedHashMap<>();

    private SignalTrap() {}

    /**
     * Installs onSignal for each name ("HUP", "SIGTERM", "usr2", ...).
     * @return the names that could not be installed (each logged with the reason), e.g. KILL, an unknown name,
     *     HUP/INT/TERM under -Xrs or when ignored since JVM start
     */
    public static synchronized List<String> install(Collection<String> names, Consumer<String> onSignal) {
        List<String> failed = new ArrayList<>();
        for (String raw : names) {
            String name;
            try {
                name = Signals.shortName(raw);
            } catch (IllegalArgumentException e) {
                log.warn("cannot trap {}: {}", raw, e.getMessage());
                failed.add(raw);
                continue;
            }
            SignalHandler handler = sig -> {
                try {
                    onSignal.accept(name);
                } catch (RuntimeException | Error e) {
                    log.error("signal handler for SIG{} failed", name, e);
                }
            };
            boolean wasIgnored = unignore(name);
            try {
                SignalHandler old = Signal.handle(new Signal(name), handler);
                if (wasIgnored) {
                    old = SignalHandler.SIG_IGN;  // what restore() must put back
                }
                if (old == SignalHandler.SIG_IGN && !wasIgnored && SHUTDOWN_SIGNALS.contains(name)) {
                    // The VM reported success but left the signal ignored; put the bookkeeping back.
                    Signal.handle(new Signal(name), old);
                    log.warn("cannot trap SIG{}: it was ignored when the JVM started (nohup/background shell?) and "
                            + "HotSpot keeps it ignored", name);
                    failed.add(raw);
                    continue;
                }
                if (old != SignalHandler.SIG_DFL && old != SignalHandler.SIG_IGN
                        && old.toString().contains("NativeHandler")) {
                    // HotSpot/Linux uses SIGUSR2 for thread suspend/resume (JFR sampling): we now see those as
                    // phantom signals and the VM's sampler fails. -> start the JVM with _JAVA_SR_SIGNUM=39.
                    log.warn("trapped SIG{} over a native JVM handler; the VM uses it internally (set "
                            + "_JAVA_SR_SIGNUM=39 in the JVM's environment to move HotSpot off SIGUSR2)", name);
                }
                previous.putIfAbsent(name, old);
                log.debug("trapped SIG{}", name);
            } catch (IllegalArgumentException e) {
                // e.g. "Signal already used by VM or OS: SIGUSR2", or -Xrs for HUP/INT/TERM.
                log.warn("cannot trap SIG{}: {}", name, e.getMessage());
                failed.add(raw);
            }
        }
        return failed;
    }

    /**
     * A signal ignored when the JVM started (nohup ignores HUP, a non-interactive shell's {@code &} ignores INT and
     * QUIT) stays ignored: HotSpot refuses to install a handler over SIG_IGN for HUP/INT/TERM. Asking to trap it
     * means wanting it, so the disposition goes back to SIG_DFL first (natively; Java cannot).
     * @return true if it was ignored
     */
    private static boolean unignore(String name) {
        int number = Signals.number(name);
        if (Libc.signalHandler(number) != Libc.SIG_IGN) {
            return false;
        }
        if (!Libc.resetSignalToDefault(number)) {
            return false;
        }
        log.info("SIG{} was ignored when the master started (nohup or a background job?); handling it", name);
        return true;
    }

    /** True if HotSpot has its own native handler on sig (e.g. SIGUSR2 unless _JAVA_SR_SIGNUM moved it). */
    public static boolean nativeHandlerOn(int sig) {
        long h = Libc.signalHandler(sig);
        return h != Libc.SIG_DFL && h != Libc.SIG_IGN && h != -1;
    }

    /** Puts back the handlers that were in place before the first install() of each signal. */
    public static synchronized void restore() {
        previous.forEach((name, old) -> {
            try {
                Signal.handle(new Signal(name), old);
            } catch (IllegalArgumentException e) {
                log.warn("cannot restore SIG{}: {}", name, e.getMessage());
            }
        });
        previous.clear();
    }
}
