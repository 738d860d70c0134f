package dev.clustermaster.os;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signals a master has no use for but whose default action would end or stop it (USR1, ALRM, TSTP, ...): a typo or
 * a neighbour's stray kill must not take every worker down, so they are handled and only reported.
 * Left alone on purpose: QUIT (HotSpot's thread dump), PIPE and XFSZ (HotSpot ignores them), CONT, URG, WINCH
 * (harmless by default), and SEGV, BUS, ILL, FPE: HotSpot needs those for its own operation (implicit null checks,
 * safepoint polls, mapped-file errors) and treats any it did not cause as a crash; a JVM cannot ignore them.
 */
public final class StraySignals {
    private static final Logger log = LoggerFactory.getLogger(StraySignals.class);

    static final List<String> NAMES = List.of("USR1", "ALRM", "TRAP", "ABRT", "STKFLT", "TSTP", "XCPU", "VTALRM",
            "PROF", "IO", "PWR", "SYS");

    private StraySignals() {}

    /**
     * Traps the stray signals; each one received goes to onStray (short name) and is otherwise ignored.
     * SIGUSR2 is included only when HotSpot does not use it for thread suspend/resume: the JVM must be started
     * with {@code _JAVA_SR_SIGNUM} set to another signal (the cluster-master launcher sets 39), because trapping
     * it over the VM's handler would break the VM, and leaving the VM's handler means a stray USR2 crashes it.
     * ABRT is safe to trap: glibc's abort() restores the default and raises it again if a handler returns.
     * @return the names trapped
     */
    public static List<String> install(Consumer<String> onStray) {
        List<String> names = new ArrayList<>(NAMES);
        if (SignalTrap.nativeHandlerOn(Signals.SIGUSR2)) {
            log.info("SIGUSR2 is HotSpot's suspend/resume signal in this JVM, so a stray kill -USR2 would crash it: "
                    + "start the JVM with _JAVA_SR_SIGNUM=39 in its environment (the cluster-master launcher does)");
        } else {
            names.add("USR2");
        }
        List<String> failed = SignalTrap.install(names, onStray);
        names.removeAll(failed);
        return names;
    }
}
