package dev.clustermaster.worker;

import java.util.Objects;

/**
 * One line on the master/worker IPC channel (a socketpair whose worker end is fd {@code $CM_IPC_FD}).
 *
 * <p>Wire form: {@code KIND SP ID SP PAYLOAD LF}, UTF-8. The payload is escaped so a frame is always one line:
 * backslash becomes {@code \\}, LF {@code \n}, CR {@code \r}. Kinds are listed in {@link Kind}; a peer that
 * meets a kind it does not know ignores that frame (decode throws, the reader logs and goes on), so new kinds
 * can be added without breaking an older worker or master.
 * Kept free of dependencies: Java workers load it without the master's libraries.
 */
public record IpcFrame(Kind kind, long id, String payload) {

    /** What a frame is; the enum name is its word on the wire. */
    public enum Kind {
        /** A message (either direction); a non-zero id asks for a reply. */
        MSG,
        /** The answer to MSG id. */
        REPLY,
        /** Master to worker: set the root log level (payload TRACE..ERROR, OFF). */
        LOGLEVEL,
        /**
         * Worker to master: an sd_notify state (READY=1, STATUS=..., WATCHDOG=1, RECYCLE=1; several lines allowed),
         * for JVM workers, which cannot send AF_UNIX datagrams with the JDK alone.
         */
        NOTIFY,
        /** Worker to master: a warm spare (CM_SPARE=1) waits in ClusterWorker.inheritedListener() to be promoted. */
        HELD,
        /** Master to worker: the spare serves now; payload "SLOT RESTARTS" (its slot id and restart count from now on). */
        PROMOTE,
        /**
         * Master to worker: a spare is stopped before it was promoted (the stop signal follows): its hold ends, and
         * ClusterWorker.inheritedListener() throws, so an app that handles the stop signal itself can exit.
         */
        STOP;

        static Kind parse(String word) {
            for (Kind k : values()) {
                if (k.name().equals(word)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("IPC frame of unknown kind " + abbreviate(word));
        }
    }

    /** Longest accepted line; a longer one is a protocol error (the channel is then closed). */
    public static final int MAX_LINE_CHARS = 1 << 20;

    public IpcFrame {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(payload, "payload");
    }

    /** The line to write, without the trailing LF. */
    public String encode() {
        return kind.name() + ' ' + id + ' ' + escape(payload);
    }

    /** Parses a line (without LF). */
    public static IpcFrame decode(String line) {
        int a = line.indexOf(' ');
        int b = a < 0 ? -1 : line.indexOf(' ', a + 1);
        if (a <= 0 || b < 0) {
            throw new IllegalArgumentException("malformed IPC frame: " + abbreviate(line));
        }
        long id;
        try {
            id = Long.parseLong(line.substring(a + 1, b));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("malformed IPC frame id: " + abbreviate(line));
        }
        return new IpcFrame(Kind.parse(line.substring(0, a)), id, unescape(line.substring(b + 1)));
    }

    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    static String unescape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                out.append(n == 'n' ? '\n' : n == 'r' ? '\r' : n);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }
}
