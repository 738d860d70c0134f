package dev.clustermaster.config;

import dev.clustermaster.core.Policy;
import dev.clustermaster.os.CgroupLimits;
import dev.clustermaster.os.Signals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Builds a {@link Config} from three layers, later ones winning: a properties file, the environment
 * ({@code CM_SIZE}, {@code CM_EXEC}, {@code MAX_CHILD_PROCESSES}, ...), then command-line settings.
 * Every layer uses the same keys (see {@link #KEYS}); the environment name of key {@code ready.grace} is {@code CM_READY_GRACE}
 * ({@code worker.max-rss}: {@code CM_WORKER_MAX_RSS}).
 */
public final class ConfigLoader {

    static final Set<String> KEYS = Set.of(
            "name", "exec", "main", "jar", "classpath", "jvm.args", "args", "size", "max.children", "worker.memory",
            "silent", "signals", "ready", "ready.log", "ready.probe", "ready.grace", "port.base", "ready.timeout", "stop.timeout", "surge", "spare",
            "backoff.initial", "backoff.max", "healthy.uptime", "listen", "reuse.port", "runtime.dir",
            "repl", "repl.group", "repl.tcp", "http.port", "http.address", "pdeathsig",
            "probation", "stop.signal", "crash-loop.failures", "crash-loop.window", "worker.watchdog", "worker.max-rss",
            "worker.max-age", "java.cds");

    private static final long DEFAULT_WORKER_MEMORY = 512L << 20;

    private final Supplier<OptionalLong> memoryLimit;
    private final int cpus;

    public ConfigLoader() {
        this(CgroupLimits::memoryLimitBytes, Runtime.getRuntime().availableProcessors());
    }

    ConfigLoader(Supplier<OptionalLong> memoryLimit, int cpus) {
        this.memoryLimit = memoryLimit;
        this.cpus = cpus;
    }

    /**
     * @param file optional properties file
     * @param env  the process environment
     * @param cli  settings given on the command line, by key
     */
    public Config.Builder load(Path file, Map<String, String> env, Map<String, String> cli) {
        Map<String, String> settings = new LinkedHashMap<>();
        if (file != null) {
            settings.putAll(readFile(file));
        }
        settings.putAll(fromEnvironment(env));
        settings.putAll(cli);
        try {
            return toBuilder(settings);
        } catch (ConfigException e) {
            if (settings.values().stream().anyMatch(v -> v.contains(" #") && e.getMessage().contains(v))) {
                throw new ConfigException(e.getMessage() + "; in a properties file a '#' after a value is part of it:"
                        + " put the comment on a line of its own");
            }
            throw e;
        }
    }

    static Map<String, String> readFile(Path file) {
        Properties p = new Properties();
        try (java.io.BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            r.mark(1);
            if (r.read() != '\uFEFF') { // a byte order mark (Windows editors) would be part of the first key
                r.reset();
            }
            p.load(r);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + reason(e)
                    + "; fix the --config path or the file's permissions");
        } catch (IllegalArgumentException e) {
            throw new ConfigException("malformed config file " + file + ": " + e.getMessage());
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : p.stringPropertyNames()) {
            if (!KEYS.contains(key) && !key.startsWith("env.")) {
                throw new ConfigException("unknown setting '" + key + "' in " + file + " (known: " + String.join(", ", KEYS.stream().sorted().toList()) + ", env.NAME)");
            }
            out.put(key, p.getProperty(key).trim());
        }
        return out;
    }

    /** The errno text of a failed file access (NIO puts only the path in getMessage()). */
    private static String reason(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage();
    }

    static Map<String, String> fromEnvironment(Map<String, String> env) {
        Map<String, String> out = new LinkedHashMap<>();
        putIfSet(out, "max.children", env.get("MAX_CHILD_PROCESSES"));
        for (String key : KEYS) {
            putIfSet(out, key, env.get(envName(key)));
        }
        putIfSet(out, "max.children", env.get("CM_MAX_CHILD_PROCESSES"));
        putIfSet(out, "http.port", env.get("CM_WEBSERVER_PORT"));
        putIfSet(out, "repl", env.get(ReplSetting.ENV));
        return out;
    }

    /** CM_ and the key in upper case with '.' and '-' as '_': the master's own settings, never passed to workers. */
    public static String envName(String key) {
        return "CM_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static void putIfSet(Map<String, String> out, String key, String value) {
        if (value != null && !value.isBlank()) {
            out.put(key, value.trim());
        }
    }

    Config.Builder toBuilder(Map<String, String> s) {
        Config.Builder b = Config.builder();
        s.forEach((key, value) -> {
            if (key.startsWith("env.")) {
                b.env(key.substring(4), value);
            } else if (!KEYS.contains(key)) {
                throw new ConfigException("unknown setting '" + key + "'");
            }
        });
        str(s, "name").ifPresent(b::name);
        str(s, "exec").map(Words::split).ifPresent(b::exec);
        str(s, "main").ifPresent(b::mainClass);
        str(s, "classpath").ifPresent(b::classpath);
        str(s, "jar").ifPresent(b::jar);
        str(s, "jvm.args").map(Words::split).ifPresent(b::jvmArgs);
        str(s, "args").map(Words::split).ifPresent(b::args);
        OptionalInt maxChildren = str(s, "max.children").map(v -> OptionalInt.of(intValue("max.children", v, 0)))
                .orElse(OptionalInt.empty());
        maxChildren.ifPresent(b::maxSize);
        long workerMemory = str(s, "worker.memory").map(v -> Durations.parseBytes("worker.memory", v)).orElse(DEFAULT_WORKER_MEMORY);
        b.cpus(cpus);
        b.size(str(s, "size").map(v -> intValue("size", v, 0))
                .orElseGet(() -> DefaultSize.compute(cpus, maxChildren, memoryLimit.get(), workerMemory)));
        str(s, "silent").map(v -> bool("silent", v)).ifPresent(b::silent);
        str(s, "signals").map(v -> bool("signals", v)).ifPresent(b::signals);
        b.readiness(Readiness.parse(str(s, "ready").orElse(null), str(s, "ready.log").orElse(null),
                str(s, "ready.probe").orElse(null)));
        str(s, "port.base").map(v -> intValue("port.base", v, 1)).ifPresent(b::portBase);
        str(s, "ready.grace").map(v -> Durations.parseMillis("ready.grace", v)).ifPresent(b::readyGraceMillis);
        str(s, "ready.timeout").map(v -> Durations.parseMillis("ready.timeout", v)).ifPresent(b::readyTimeoutMillis);
        str(s, "stop.timeout").map(v -> Durations.parseMillis("stop.timeout", v)).ifPresent(b::stopTimeoutMillis);
        str(s, "surge").map(ConfigLoader::surge).ifPresent(b::surge);
        str(s, "spare").map(v -> intValue("spare", v, 0)).ifPresent(b::spare);
        long initial = str(s, "backoff.initial").map(v -> Durations.parseMillis("backoff.initial", v)).orElse(500L);
        long max = str(s, "backoff.max").map(v -> Durations.parseMillis("backoff.max", v)).orElse(Math.max(30_000L, initial));
        b.backoff(initial, max);
        str(s, "healthy.uptime").map(v -> Durations.parseMillis("healthy.uptime", v)).ifPresent(b::healthyUptimeMillis);
        str(s, "probation").map(v -> Durations.parseMillis("probation", v)).ifPresent(b::probationMillis);
        str(s, "stop.signal").map(v -> signal("stop.signal", v)).ifPresent(b::stopSignal);
        str(s, "crash-loop.failures").map(v -> intValue("crash-loop.failures", v, 0)).ifPresent(b::crashLoopFailures);
        str(s, "crash-loop.window").map(v -> Durations.parseMillis("crash-loop.window", v)).ifPresent(b::crashLoopWindowMillis);
        str(s, "worker.watchdog").map(v -> off(v) ? 0L : Durations.parseMillis("worker.watchdog", v)).ifPresent(b::workerWatchdogMillis);
        str(s, "worker.max-rss").map(v -> off(v) ? 0L : Durations.parseBytes("worker.max-rss", v)).ifPresent(b::maxRssBytes);
        str(s, "worker.max-age").map(v -> off(v) ? 0L : Durations.parseMillis("worker.max-age", v)).ifPresent(b::maxAgeMillis);
        str(s, "listen").map(v -> List.of(v.split("[,\\s]+"))).ifPresent(b::listen);
        str(s, "reuse.port").map(v -> bool("reuse.port", v)).ifPresent(b::reusePort);
        str(s, "runtime.dir").map(Path::of).ifPresent(b::runtimeDir);
        str(s, "repl").map(ReplSetting::parse).ifPresent(r -> b.repl(r.enabled()).replSocket(r.socket()));
        str(s, "repl.group").ifPresent(b::replGroup);
        str(s, "repl.tcp").ifPresent(b::replTcp);
        str(s, "http.port").map(v -> intValue("http.port", v, 0)).ifPresent(p -> {
            if (p > 65535) {
                throw new ConfigException("http.port: expected 0-65535, got " + p);
            }
            b.httpPort(p);
        });
        str(s, "http.address").ifPresent(b::httpAddress);
        str(s, "pdeathsig").map(v -> bool("pdeathsig", v)).ifPresent(b::parentDeathSignal);
        str(s, "java.cds").map(JavaCdsSetting::parse).ifPresent(b::javaCds);
        return b;
    }

    private static java.util.Optional<String> str(Map<String, String> s, String key) {
        String v = s.get(key);
        return v == null || v.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(v.trim());
    }

    /** auto (the default rule, {@link Policy#surgeFor}) or a whole number >= 1. */
    static int surge(String v) {
        if (v.trim().equalsIgnoreCase("auto")) {
            return Policy.AUTO_SURGE;
        }
        try {
            return intValue("surge", v, 1);
        } catch (ConfigException e) {
            throw new ConfigException("surge: expected auto or a whole number >= 1, got '" + v + "'");
        }
    }

    static int intValue(String key, String v, int min) {
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigException(key + ": expected a whole number >= " + min + ", got '" + v + "'");
        }
    }

    private static boolean off(String v) {
        return List.of("0", "off", "false", "no").contains(v.trim().toLowerCase(Locale.ROOT));
    }

    static int signal(String key, String v) {
        try {
            return Signals.number(v.trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key + ": expected a signal name such as TERM, QUIT or INT, got '" + v + "'");
        }
    }

    static boolean bool(String key, String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new ConfigException(key + ": expected true or false, got '" + v + "'");
        };
    }
}
