package dev.clustermaster.os;

import dev.clustermaster.core.Signal;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** Signal names and numbers for Linux x86_64/aarch64 (both use the generic numbering). */
public final class Signals {
    private Signals() {}

    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGQUIT = 3;
    public static final int SIGKILL = 9;
    public static final int SIGUSR1 = 10;
    public static final int SIGUSR2 = 12;
    public static final int SIGTERM = 15;
    public static final int SIGCHLD = 17;
    public static final int SIGCONT = 18;
    public static final int SIGSTOP = 19;
    public static final int SIGTTIN = 21;
    public static final int SIGTTOU = 22;

    /** glibc reserves 32 and 33 for itself, so user-visible SIGRTMIN is 34. */
    private static final int RTMIN = 34;
    private static final int RTMAX = 64;

    private static final Signal[] ALL = Signal.values();
    private static final Map<String, Integer> BY_NAME = new TreeMap<>();

    static {
        for (int n = SIGHUP; n < 32; n++) {
            BY_NAME.put(signal(n).shortName(), n);
        }
        BY_NAME.put("IOT", 6);
        BY_NAME.put("CLD", 17);
        BY_NAME.put("POLL", 29);
        BY_NAME.put("RTMIN", RTMIN);
        BY_NAME.put("RTMAX", RTMAX);
    }

    /** The core's name of a number: {@link Signal} lists Linux's signals in their order from 1. */
    public static Signal signal(int number) {
        if (number < 1 || number > ALL.length) {
            throw new IllegalArgumentException("unknown signal: " + number);
        }
        return ALL[number - 1];
    }

    public static int number(Signal signal) {
        return signal.ordinal() + 1;
    }

    /** "TERM", "SIGTERM", "15", "RTMIN+2" -> the core's name; not 0 (no signal). */
    public static Signal signal(String name) {
        int n = number(name);
        if (n == 0) {
            throw new IllegalArgumentException("unknown signal: " + name);
        }
        return signal(n);
    }

    /**
     * "TERM", "SIGTERM", "term", "15", "RTMIN+2" -> number. "0" is accepted (the existence probe of kill(2)).
     * @throws IllegalArgumentException "unknown signal: X"
     */
    public static int number(String name) {
        if (name == null) {
            throw new IllegalArgumentException("unknown signal: null");
        }
        String s = name.trim().toUpperCase(Locale.ROOT);
        if (s.startsWith("SIG")) {
            s = s.substring(3);   // also "SIG32", as name(32) spells it
        }
        if (!s.isEmpty() && s.chars().allMatch(Character::isDigit)) {
            if (s.length() <= 2) {
                int n = Integer.parseInt(s);
                if (n <= RTMAX) {
                    return n;
                }
            }
            throw new IllegalArgumentException("unknown signal: " + name);
        }
        Integer n = BY_NAME.get(s);
        if (n != null) {
            return n;
        }
        int plus = s.indexOf('+');
        int minus = s.indexOf('-');
        try {
            if (s.startsWith("RTMIN+") && plus == 5) {
                int v = RTMIN + Integer.parseInt(s.substring(6));
                if (v >= RTMIN && v <= RTMAX) {
                    return v;
                }
            } else if (s.startsWith("RTMAX-") && minus == 5) {
                int v = RTMAX - Integer.parseInt(s.substring(6));
                if (v >= RTMIN && v <= RTMAX) {
                    return v;
                }
            }
        } catch (NumberFormatException ignored) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("unknown signal: " + name);
    }

    /** 15 -> "SIGTERM"; 36 -> "SIGRTMIN+2"; anything else -> "SIG&lt;n&gt;". */
    public static String name(int number) {
        return number > 0 && number <= ALL.length ? signal(number).label() : "SIG" + number;
    }

    /** "SIGHUP"/"hup"/"1" -> "HUP": the form sun.misc.Signal expects. */
    public static String shortName(String name) {
        String full = name(number(name));
        return full.startsWith("SIG") ? full.substring(3) : full;
    }
}
