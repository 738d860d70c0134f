package dev.clustermaster.worker;

import java.util.Objects;

/**
 * One line on the master/worker IPC channel (a socketpair whose worker end is fd {@code $CM_IPC_FD}).
 *
 * <p>Wire form: {@code VERB SP ID SP PAYLOAD LF}, UTF-8. The payload is escaped so a frame is always one line:
 * backslash becomes {@code \\}, LF {@code \n}, CR {@code \r}. Verbs:
 * <ul>
 *   <li>{@code MSG id text}: a message (either direction). A non-zero id asks for a reply.</li>
 *   <li>{@code REPLY id text}: the answer to MSG id.</li>
 *   <li>{@code LOGLEVEL 0 level}: master to worker, set the root log level.</li>
 * </ul>
 * Kept free of dependencies: Java workers load it without the master's libraries.
 */
public record IpcFrame(String verb, long id, String payload) {

    public static final String MSG = "MSG";
    public static final String REPLY = "REPLY";
    public static final String LOGLEVEL = "LOGLEVEL";

    /** Longest accepted line; a longer one is a protocol error (the channel is then closed). */
    public static final int MAX_LINE_CHARS = 1 << 20;

    public IpcFrame {
        Objects.requireNonNull(verb, "verb");
        Objects.requireNonNull(payload, "payload");
        if (verb.isEmpty() || verb.indexOf(' ') >= 0) {
            throw new IllegalArgumentException("bad verb: " + verb);
        }
    }

    /** The line to write, without the trailing LF. */
    public String encode() {
        return verb + ' ' + id + ' ' + escape(payload);
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
        return new IpcFrame(line.substring(0, a), id, unescape(line.substring(b + 1)));
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
