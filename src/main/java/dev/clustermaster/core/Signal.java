package dev.clustermaster.core;

/**
 * A Linux signal, as the core speaks of it. The numbers are the os edge's business ({@code os.Signals} maps
 * both ways); here a signal is only a name, so a decision can never mix up a signal with a count or a code.
 * Every signal 1..64 has a value, so nothing the kernel reports is lost on the way in.
 */
public enum Signal {
    HUP, INT, QUIT, ILL, TRAP, ABRT, BUS, FPE, KILL, USR1, SEGV, USR2, PIPE, ALRM, TERM, STKFLT,
    CHLD, CONT, STOP, TSTP, TTIN, TTOU, URG, XCPU, XFSZ, VTALRM, PROF, WINCH, IO, PWR, SYS,
    /** 32 and 33: glibc keeps them for its threads; named as {@code kill -l} would if it showed them. */
    SIG32, SIG33,
    RTMIN, RTMIN_PLUS_1, RTMIN_PLUS_2, RTMIN_PLUS_3, RTMIN_PLUS_4, RTMIN_PLUS_5, RTMIN_PLUS_6, RTMIN_PLUS_7,
    RTMIN_PLUS_8, RTMIN_PLUS_9, RTMIN_PLUS_10, RTMIN_PLUS_11, RTMIN_PLUS_12, RTMIN_PLUS_13, RTMIN_PLUS_14,
    RTMIN_PLUS_15, RTMIN_PLUS_16, RTMIN_PLUS_17, RTMIN_PLUS_18, RTMIN_PLUS_19, RTMIN_PLUS_20, RTMIN_PLUS_21,
    RTMIN_PLUS_22, RTMIN_PLUS_23, RTMIN_PLUS_24, RTMIN_PLUS_25, RTMIN_PLUS_26, RTMIN_PLUS_27, RTMIN_PLUS_28,
    RTMIN_PLUS_29, RTMIN_PLUS_30;

    private final String label = name().startsWith("SIG") ? name() : "SIG" + name().replace("_PLUS_", "+");

    /** "SIGTERM", "SIGRTMIN+2", "SIG32": the name people and logs use. */
    public String label() {
        return label;
    }

    /** The name without "SIG": "TERM", "RTMIN+2". */
    public String shortName() {
        return label.substring(3);
    }
}
