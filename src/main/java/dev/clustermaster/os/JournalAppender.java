package dev.clustermaster.os;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.spi.AppenderAttachable;
import ch.qos.logback.core.spi.AppenderAttachableImpl;

import java.io.ByteArrayOutputStream;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Logback appender speaking journald's native protocol: one datagram per event to
 * {@code /run/systemd/journal/socket}, with structured fields (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, LOGGER,
 * THREAD, optionally CODE_FILE/CODE_LINE/CODE_FUNC, and every MDC entry as an upper-case field, e.g.
 * CM_CHILD_ID on worker output), so {@code journalctl CM_CHILD_ID=2} selects one worker's lines and a stack
 * trace stays one entry.
 *
 * <p>{@code mode}: {@code auto} (default) sends natively when our stdout/stderr is the journal stream
 * (JOURNAL_STREAM, see {@link Journal#outputIsJournal}) and the socket exists; {@code on} whenever the socket
 * exists; {@code off} never. Events not sent natively (other modes, or a failed send such as a datagram over
 * the socket's size limit) go to the nested appenders, normally the {@code <N>}-prefixed stdout one.
 */
public class JournalAppender extends AppenderBase<ILoggingEvent> implements AppenderAttachable<ILoggingEvent> {

    private static final Set<String> OWN_FIELDS = Set.of("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "LOGGER", "THREAD",
            "CODE_FILE", "CODE_LINE", "CODE_FUNC");
    /** journald drops field names longer than this. */
    private static final int MAX_FIELD_NAME = 64;
    /** A stalled journald must not stall the master: after this the event goes to stdout instead. */
    private static final long SEND_TIMEOUT_MILLIS = 500;

    private final AppenderAttachableImpl<ILoggingEvent> fallback = new AppenderAttachableImpl<>();
    private final Map<String, String> env;
    private String socket = Journal.NATIVE_SOCKET;
    private String identifier = "cluster-master";
    private String mode = "auto";
    private boolean includeCallerData;

    private int fd = -1;
    private UnixAddress address;
    private boolean warnedSendFailure;

    public JournalAppender() {
        this(System.getenv());
    }

    JournalAppender(Map<String, String> env) {
        this.env = env;
    }

    public void setSocket(String socket) {
        this.socket = socket;
    }

    public void setIdentifier(String identifier) {
        this.identifier = identifier;
    }

    /** auto, on or off (case-insensitive); anything else counts as auto, with a warning. */
    public void setMode(String mode) {
        this.mode = mode == null ? "auto" : mode.trim().toLowerCase(Locale.ROOT);
    }

    public void setIncludeCallerData(boolean includeCallerData) {
        this.includeCallerData = includeCallerData;
    }

    /** True once started with a socket to send to. */
    public boolean isNative() {
        return fd >= 0;
    }

    @Override
    public void start() {
        boolean wanted = switch (mode) {
            case "off", "false", "no" -> false;
            case "on", "true", "yes" -> true;
            default -> {
                if (!mode.equals("auto")) {
                    addWarn("mode '" + mode + "' is not auto, on or off: using auto");
                }
                yield Journal.outputIsJournal(env);
            }
        };
        if (wanted && Files.exists(Path.of(socket))) {
            openSocket();
        }
        super.start();
    }

    private void openSocket() {
        try {
            UnixAddress addr = UnixAddress.of(socket);
            int s = Libc.api().socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
            if (s < 0) {
                addWarn("journal socket(): " + Libc.strerror(Libc.errno()) + "; logging to stdout");
                return;
            }
            try {
                Libc.setSocketTimeout(s, Libc.SO_SNDTIMEO, SEND_TIMEOUT_MILLIS);
            } catch (java.io.IOException e) {
                addWarn(e.getMessage());
            }
            address = addr;
            fd = s;
        } catch (RuntimeException | LinkageError e) {
            // no native access (odd platform): stdout still works
            addWarn("journal socket unusable, logging to stdout", e);
        }
    }

    @Override
    public void stop() {
        super.stop();
        int s = fd;
        fd = -1;
        Libc.closeQuietly(s);
        fallback.detachAndStopAllAppenders();
    }

    @Override
    protected void append(ILoggingEvent event) {
        // AppenderBase.doAppend is synchronized: one event at a time
        if (fd >= 0 && send(encode(fields(event)))) {
            return;
        }
        fallback.appendLoopOnAppenders(event);
    }

    private boolean send(byte[] datagram) {
        long n = Libc.api().sendto(fd, datagram, datagram.length, Libc.MSG_NOSIGNAL, address.pointer, address.length);
        int err = Libc.errno();
        Reference.reachabilityFence(address);
        if (n == datagram.length) {
            return true;
        }
        if (!warnedSendFailure) {
            // once: the status manager is bounded, and a recurring cause (size, journald down) would flood it
            warnedSendFailure = true;
            addWarn("send to " + socket + " failed (" + (n < 0 ? Libc.strerror(err) : "short send") + ", "
                    + datagram.length + " bytes); this and later failures fall back to stdout");
        }
        return false;
    }

    /** The journal fields of one event, in sending order. */
    Map<String, String> fields(ILoggingEvent event) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("PRIORITY", Integer.toString(priority(event.getLevel())));
        f.put("MESSAGE", message(event));
        f.put("SYSLOG_IDENTIFIER", identifier);
        f.put("LOGGER", event.getLoggerName());
        f.put("THREAD", event.getThreadName());
        if (includeCallerData) {
            StackTraceElement[] caller = event.getCallerData();
            if (caller != null && caller.length > 0) {
                StackTraceElement c = caller[0];
                if (c.getFileName() != null) {
                    f.put("CODE_FILE", c.getFileName());
                }
                if (c.getLineNumber() > 0) {
                    f.put("CODE_LINE", Integer.toString(c.getLineNumber()));
                }
                f.put("CODE_FUNC", c.getClassName() + "." + c.getMethodName());
            }
        }
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc != null) {
            for (Map.Entry<String, String> e : mdc.entrySet()) {
                String name = fieldName(e.getKey());
                if (name != null && e.getValue() != null && !OWN_FIELDS.contains(name)) {
                    f.put(name, e.getValue());
                }
            }
        }
        // a Java worker logging natively itself (not through the master) still names its slot
        String slot = env.get("CM_CHILD_ID");
        if (slot != null && !slot.isEmpty()) {
            f.putIfAbsent("CM_CHILD_ID", slot);
        }
        return f;
    }

    private static String message(ILoggingEvent event) {
        String msg = event.getFormattedMessage();
        if (msg == null) {
            msg = "";
        }
        IThrowableProxy tp = event.getThrowableProxy();
        if (tp == null) {
            return msg;
        }
        String trace = ThrowableProxyUtil.asString(tp).stripTrailing();
        return msg.isEmpty() ? trace : msg + "\n" + trace;
    }

    /** Syslog priority: 3 err, 4 warning, 6 info, 7 debug (the same as the stdout prefix). */
    static int priority(Level level) {
        return switch (level.toInt()) {
            case Level.ERROR_INT -> 3;
            case Level.WARN_INT -> 4;
            case Level.INFO_INT -> 6;
            default -> 7;
        };
    }

    /**
     * A journal field name for an MDC key: upper case, [A-Z0-9_] only, no leading underscore (those are
     * journald's trusted fields), not starting with a digit, at most 64 characters; null when nothing is left.
     */
    static String fieldName(String key) {
        if (key == null) {
            return null;
        }
        StringBuilder b = new StringBuilder(key.length());
        for (char ch : key.toUpperCase(Locale.ROOT).toCharArray()) {
            b.append((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ? ch : '_');
        }
        int start = 0;
        while (start < b.length() && b.charAt(start) == '_') {
            start++;
        }
        String name = b.substring(start);
        if (name.isEmpty()) {
            return null;
        }
        if (Character.isDigit(name.charAt(0))) {
            name = "MDC_" + name;
        }
        return name.length() > MAX_FIELD_NAME ? name.substring(0, MAX_FIELD_NAME) : name;
    }

    /**
     * The datagram: KEY=VALUE lines, except that a value containing a newline is sent in the binary-safe form
     * KEY, newline, its length as a 64-bit little-endian integer, the value, newline.
     */
    static byte[] encode(Map<String, String> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        for (Map.Entry<String, String> e : fields.entrySet()) {
            byte[] key = e.getKey().getBytes(StandardCharsets.US_ASCII);
            byte[] value = e.getValue().getBytes(StandardCharsets.UTF_8);
            out.writeBytes(key);
            if (e.getValue().indexOf('\n') < 0) {
                out.write('=');
                out.writeBytes(value);
            } else {
                out.write('\n');
                long len = value.length;
                for (int i = 0; i < 8; i++) {
                    out.write((int) (len >>> (8 * i)) & 0xff);
                }
                out.writeBytes(value);
            }
            out.write('\n');
        }
        return out.toByteArray();
    }

    // --- the fallback appenders (LogSetup adds STDOUT; in a logback.xml, <appender-ref ref="STDOUT"/>) ---

    @Override
    public void addAppender(Appender<ILoggingEvent> newAppender) {
        fallback.addAppender(newAppender);
    }

    @Override
    public Iterator<Appender<ILoggingEvent>> iteratorForAppenders() {
        return fallback.iteratorForAppenders();
    }

    @Override
    public Appender<ILoggingEvent> getAppender(String name) {
        return fallback.getAppender(name);
    }

    @Override
    public boolean isAttached(Appender<ILoggingEvent> appender) {
        return fallback.isAttached(appender);
    }

    @Override
    public void detachAndStopAllAppenders() {
        fallback.detachAndStopAllAppenders();
    }

    @Override
    public boolean detachAppender(Appender<ILoggingEvent> appender) {
        return fallback.detachAppender(appender);
    }

    @Override
    public boolean detachAppender(String name) {
        return fallback.detachAppender(name);
    }
}
