package dev.clustermaster.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * When a new worker counts as ready (so a rolling restart may stop the one it replaces). READY=1 on the worker's
 * NOTIFY_SOCKET counts in every mode; besides it:
 * <ul>
 * <li>{@code grace}: the worker stayed up {@code ready.grace};</li>
 * <li>{@code notify}: nothing else;</li>
 * <li>{@code log}: a line of the worker's stdout or stderr matches {@code ready.log};</li>
 * <li>{@code probe}: a TCP connect (or an HTTP GET answered 2xx/3xx) to {@code ready.probe} succeeds.</li>
 * </ul>
 * Every mode but grace fails a worker that is not ready within {@code ready.timeout}.
 */
public record Readiness(Mode mode, Pattern logPattern, Probe probe) {

    public enum Mode { NOTIFY, GRACE, LOG, PROBE }

    /**
     * A probe target. {@code port} is a number, or {@code $PORT} / {@code ${PORT}}: the worker's own PORT variable
     * (see {@code port.base}).
     */
    public record Probe(String scheme, String host, String port, String path) {
        public boolean http() {
            return scheme.equals("http");
        }

        public boolean perWorkerPort() {
            return port.equals("$PORT") || port.equals("${PORT}");
        }

        /** The port for a worker with this environment. */
        public int port(Map<String, String> workerEnv) {
            String p = perWorkerPort() ? workerEnv.getOrDefault("PORT", "") : port;
            try {
                return Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalStateException("ready.probe: the worker has no PORT to probe");
            }
        }

        @Override
        public String toString() {
            return scheme + "://" + host + ":" + port + (http() ? path : "");
        }
    }

    public static final Readiness GRACE = new Readiness(Mode.GRACE, null, null);
    public static final Readiness NOTIFY = new Readiness(Mode.NOTIFY, null, null);

    /** The core only needs to know whether uptime alone makes a worker ready. */
    public boolean uptimeIsEnough() {
        return mode == Mode.GRACE;
    }

    /**
     * @param ready {@code notify}, {@code grace}, {@code log}, {@code log:REGEX}, {@code probe}, {@code tcp},
     *              {@code http}, a probe URL ({@code tcp://...}, {@code http://...}), or null
     * @param log   {@code ready.log}, or null
     * @param probe {@code ready.probe}, or null
     */
    public static Readiness parse(String ready, String log, String probe) {
        String mode = ready == null ? null : ready.trim();
        if (mode != null && mode.regionMatches(true, 0, "log:", 0, 4)) {
            if (log != null) {
                throw new ConfigException("ready: give the regex once, as ready=log:REGEX or as ready.log=REGEX");
            }
            log = mode.substring(4);
            mode = "log";
        } else if (mode != null && mode.contains("://")) {
            if (probe != null) {
                throw new ConfigException("ready: give the probe once, as ready=URL or as ready.probe=URL");
            }
            probe = mode;
            mode = "probe";
        }
        if (mode == null) {
            mode = log != null ? "log" : probe != null ? "probe" : "grace";
        }
        switch (mode.toLowerCase(Locale.ROOT)) {
            case "notify", "grace" -> {
                if (log != null || probe != null) {
                    throw new ConfigException("ready: '" + mode + "' does not use " + (log != null ? "ready.log" : "ready.probe")
                            + " (set ready=" + (log != null ? "log" : "probe") + " or remove it)");
                }
                return mode.equalsIgnoreCase("notify") ? NOTIFY : GRACE;
            }
            case "log" -> {
                if (probe != null) {
                    throw new ConfigException("ready: log does not use ready.probe (remove it, or set ready=probe)");
                }
                return new Readiness(Mode.LOG, pattern(log), null);
            }
            case "probe", "tcp", "http" -> {
                if (log != null) {
                    throw new ConfigException("ready: a probe does not use ready.log (remove it, or set ready=log)");
                }
                if (probe == null) {
                    throw new ConfigException("ready: " + mode + " needs ready.probe=" + (mode.equalsIgnoreCase("http")
                            ? "http://127.0.0.1:$PORT/health" : "tcp://127.0.0.1:$PORT"));
                }
                Probe p = probe(probe);
                if (!mode.equalsIgnoreCase("probe") && !p.scheme().equalsIgnoreCase(mode)) {
                    throw new ConfigException("ready: " + mode + " but ready.probe is " + probe);
                }
                return new Readiness(Mode.PROBE, null, p);
            }
            default -> throw new ConfigException("ready: expected notify, grace, log:REGEX or a probe like tcp://127.0.0.1:$PORT, got '"
                    + ready + "'");
        }
    }

    private static Pattern pattern(String regex) {
        if (regex == null || regex.isEmpty()) {
            throw new ConfigException("ready: log needs a regex: ready=log:'Started .* in' or ready.log=Started .* in");
        }
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new ConfigException("ready.log: bad regex '" + regex + "': " + e.getDescription());
        }
    }

    static Probe probe(String url) {
        String shape = " (expected tcp://HOST:PORT or http://HOST:PORT/PATH; PORT may be $PORT)";
        URI uri;
        try {
            uri = new URI(url.replace("${PORT}", "0").replace("$PORT", "0"));
        } catch (URISyntaxException e) {
            throw new ConfigException("ready.probe: cannot parse '" + url + "'" + shape);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("tcp") && !scheme.equals("http")) {
            throw new ConfigException("ready.probe: unsupported scheme in '" + url + "'" + shape);
        }
        String host = uri.getHost();
        if (host == null || uri.getPort() < 0) {
            throw new ConfigException("ready.probe: '" + url + "' needs a host and a port" + shape);
        }
        String port = url.contains("${PORT}") ? "${PORT}" : url.contains("$PORT") ? "$PORT" : Integer.toString(uri.getPort());
        if (!port.startsWith("$") && (uri.getPort() < 1 || uri.getPort() > 65535)) {
            throw new ConfigException("ready.probe: port out of range in '" + url + "'" + shape);
        }
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new Probe(scheme, host, port, path);
    }
}
