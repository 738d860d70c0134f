package dev.clustermaster.cli;

import dev.clustermaster.config.Config;
import dev.clustermaster.config.ConfigException;
import dev.clustermaster.config.ConfigLoader;
import dev.clustermaster.config.ConfigSource;
import dev.clustermaster.config.Words;
import dev.clustermaster.runtime.ClusterMaster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code cluster-master run}: starts a master in the foreground and exits with its exit code. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Start a master and its workers in the foreground (under systemd: Type=notify).",
        footerHeading = "%nEnvironment:%n",
        footer = {"Every setting can also come from CM_<KEY> (CM_SIZE, CM_EXEC, CM_READY_GRACE, ...) or a --config "
                + "properties file (size=4, exec=..., env.NAME=value). MAX_CHILD_PROCESSES / CM_MAX_CHILD_PROCESSES cap the "
                + "size, CM_WEBSERVER_PORT sets --http-port, CLUSTER_MASTER_REPL sets --repl. Command line > environment > "
                + "config file > defaults.",
                "",
                "Signals: HUP reload (re-read the config, then a rolling restart), INT/TERM graceful quit (second INT: "
                        + "hard quit), TTIN/TTOU one worker more/less (TTOU never below one); QUIT thread dump; USR1, USR2, ALRM, TSTP and the "
                        + "other fatal-by-default ones are logged and ignored."})
public final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger("dev.clustermaster.master");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE", description = "Properties file with settings (keys as in the man page).")
    Path configFile;

    @Option(names = "--name", paramLabel = "APP", description = "Service name: the REPL lives at /run/APP/cluster-master.sock (default: cluster-master).")
    String name;

    @Option(names = "--exec", paramLabel = "CMD", description = "Program each worker runs (found in PATH); its arguments follow --.")
    String exec;

    @Option(names = "--main", paramLabel = "CLASS", description = "Java main class each worker runs in its own JVM.")
    String mainClass;

    @Option(names = "--jar", paramLabel = "JAR", description = "Java application jar each worker runs in its own JVM: its Main-Class (or --main) with its manifest Class-Path.")
    String jar;

    @Option(names = "--classpath", paramLabel = "CP", description = "Class path of --main workers (default: the master's); the master's worker bootstrap is appended after it.")
    String classpath;

    @Option(names = "--jvm-arg", paramLabel = "ARG", description = "JVM option for --main workers (repeatable).")
    List<String> jvmArgs;

    @Option(names = {"-n", "--size"}, paramLabel = "N", description = "Number of workers (default: CPUs, capped by MAX_CHILD_PROCESSES and the cgroup memory limit / --worker-memory).")
    String size;

    @Option(names = "--max-children", paramLabel = "N", description = "Upper bound for the size (MAX_CHILD_PROCESSES).")
    String maxChildren;

    @Option(names = "--worker-memory", paramLabel = "SIZE", description = "Memory budget per worker used for the default size (default 512M).")
    String workerMemory;

    @Option(names = {"-e", "--env"}, paramLabel = "KEY=VALUE", description = "Extra environment for workers (repeatable).")
    List<String> env;

    @Option(names = "--silent", description = "Capture worker stdout/stderr and log it with the worker id (default: workers inherit them).")
    Boolean silent;

    @Option(names = "--no-signals", description = "Do not handle HUP/INT/TERM/TTIN/TTOU.")
    boolean noSignals;

    @Option(names = "--ready", paramLabel = "MODE", description = "When a new worker is ready (READY=1 counts in every mode): grace (default): after --ready-grace uptime; "
            + "notify: on READY=1 only; log:REGEX: a line of its output matches; tcp://HOST:PORT or http://HOST:PORT/PATH: a probe passes; with --port-base the master fills in each worker's port for '$PORT' (single-quoted, so the shell leaves it alone): --ready 'http://127.0.0.1:$PORT/health'.")
    String ready;

    @Option(names = "--ready-log", paramLabel = "REGEX", description = "Regex for --ready log (same as --ready log:REGEX).")
    String readyLog;

    @Option(names = "--ready-probe", paramLabel = "URL", description = "Probe for --ready probe, single-quoted so the master fills in each worker's port: --ready-probe 'tcp://127.0.0.1:$PORT' or 'http://127.0.0.1:$PORT/health' (2xx/3xx passes).")
    String readyProbe;

    @Option(names = "--port-base", paramLabel = "N", description = "Give each worker its own PORT: the lowest port from N up that no other live worker holds (N..N+size-1 at start).")
    String portBase;

    @Option(names = "--ready-grace", paramLabel = "DURATION", description = "Uptime after which a non-notifying worker is ready (default 1s).")
    String readyGrace;

    @Option(names = "--ready-timeout", paramLabel = "DURATION", description = "How long a worker may take to become ready in notify, log and probe modes (default 60s).")
    String readyTimeout;

    @Option(names = "--stop-timeout", paramLabel = "DURATION", description = "SIGTERM to SIGKILL (default 10s).")
    String stopTimeout;

    @Option(names = "--surge", paramLabel = "N|auto", description = "Slots replaced at once in a rolling restart (default auto: one per CPU or a quarter of the workers, whichever is more, at most all).")
    String surge;

    @Option(names = "--spare", paramLabel = "N", description = "Warm spares: Java workers started and held from accepting (in ClusterWorker.inheritedListener()) until a worker dies (default 0; a rolling restart restarts them after it).")
    String spare;

    @Option(names = "--backoff-initial", paramLabel = "DURATION", description = "First delay of a crash loop (default 500ms).")
    String backoffInitial;

    @Option(names = "--backoff-max", paramLabel = "DURATION", description = "Longest delay of a crash loop (default 30s).")
    String backoffMax;

    @Option(names = "--probation", paramLabel = "DURATION", description = "In a rolling restart or recycling, how long a new worker must stay up after READY before the worker it replaces is stopped and the restart moves on; a death inside it fails the restart with the old workers still serving (default 5s; 0: none).")
    String probation;

    @Option(names = "--stop-signal", paramLabel = "SIG", description = "Signal of a graceful worker stop (quit, restart, resize, recycling): TERM (default; keep it for --main workers, whose ClusterWorker.onStop drains on TERM), QUIT for nginx-like workers, INT, ...; SIGKILL follows after --stop-timeout.")
    String stopSignal;

    @Option(names = "--crash-loop-failures", paramLabel = "N", description = "Give up and exit with code 69 when every slot failed N times in a row within --crash-loop-window and none serves, so systemd's Restart=/StartLimit*/OnFailure= take over; one failing slot alone never does (default 5; 0: never).")
    String crashLoopFailures;

    @Option(names = "--crash-loop-window", paramLabel = "DURATION", description = "Window of --crash-loop-failures (default 5m).")
    String crashLoopWindow;

    @Option(names = "--worker-watchdog", paramLabel = "DURATION", description = "WATCHDOG_USEC for workers: one that sent WATCHDOG=1 and then stays silent this long gets SIGQUIT (a JVM prints a thread dump), the stop signal, SIGKILL after --stop-timeout, and is replaced (default off).")
    String workerWatchdog;

    @Option(names = "--max-rss", paramLabel = "SIZE", description = "Recycle a worker (its replacement ready first) whose resident memory exceeds SIZE, e.g. 1G (default off).")
    String maxRss;

    @Option(names = "--max-age", paramLabel = "DURATION", description = "Recycle a worker older than DURATION plus a jitter of up to a tenth of it, one at a time (default off).")
    String maxAge;

    @Option(names = "--listen", paramLabel = "SPEC", description = "Listening socket shared with workers: tcp://127.0.0.1:8080, tcp://[::1]:8080, unix:/run/app/http.sock (repeatable).")
    List<String> listen;

    @Option(names = "--reuse-port", description = "Bind nothing in the master; workers bind with SO_REUSEPORT themselves.")
    Boolean reusePort;

    @Option(names = "--runtime-dir", paramLabel = "DIR", description = "Where sockets live (default: $RUNTIME_DIRECTORY, /run/APP, or a private temp dir).")
    String runtimeDir;

    @Option(names = "--repl", paramLabel = "PATH|false", description = "Control socket path, or false to disable it.")
    String repl;

    @Option(names = "--repl-group", paramLabel = "GROUP", description = "Group allowed to use the control socket (mode 0660).")
    String replGroup;

    @Option(names = "--repl-tcp", paramLabel = "HOST:PORT", description = "Also serve the REPL on TCP (no peer check: keep it on loopback).")
    String replTcp;

    @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP status port (off by default).")
    String httpPort;

    @Option(names = "--http-address", paramLabel = "ADDR", description = "HTTP status address (default 127.0.0.1).")
    String httpAddress;

    @Option(names = "--java-cds", paramLabel = "auto|on|off|DIR", description = "Per-app AppCDS archive for --main/--jar workers: the first worker's JVM writes one when it exits, later workers map it and start faster; made again when the class path, a jar, the JDK or the JVM options change. auto (default): only in systemd's CacheDirectory= ($CACHE_DIRECTORY), which the packaged and `service create` units set; on: there, else ~/.cache/cluster-master/NAME; DIR: that directory.")
    String javaCds;

    @Option(names = "--no-pdeathsig", description = "Let workers outlive the master: no SIGTERM from the kernel (PR_SET_PDEATHSIG) and no orphan guard SIGKILLing their process groups when the master dies.")
    boolean noPdeathsig;

    @Parameters(paramLabel = "ARGS", description = "Arguments for each worker (after --).")
    List<String> args;

    @Override
    public Integer call() {
        Config config;
        Map<String, String> environment = System.getenv();
        Map<String, String> cli;
        try {
            cli = settings();
        } catch (ConfigException e) {
            return oneLineError(e);
        }
        // reload (ctl reload, systemctl reload, SIGHUP) reads the same layers again
        ConfigSource source = () -> new ConfigLoader().load(configFile, environment, cli).build();
        try {
            config = source.load();
        } catch (ConfigException e) {
            return oneLineError(e);
        }
        log.debug("{}", config);
        ClusterMaster master;
        try {
            warnIfUnitNameDiffers(config, environment);
            master = ClusterMaster.start(config, source);
        } catch (IOException | RuntimeException e) {
            log.error("cannot start: {}", e.getMessage());
            return 1;
        }
        return master.exitCode().join();
    }

    /** One line naming the setting, the cause and the fix: no usage text (it would bury the line in a journal). */
    private int oneLineError(ConfigException e) {
        PrintWriter err = spec == null ? new PrintWriter(System.err) : spec.commandLine().getErr();
        err.println("cluster-master: " + e.getMessage());
        err.flush();
        return CommandLine.ExitCode.USAGE;
    }

    /**
     * The usual {@code run} command lines read without picocli, whose classes CDS cannot archive (Java 5 class
     * files): reading them took a third of the master's start. Knows the options declared above: a value option as
     * {@code --size 4}, {@code --size=4} or {@code -n 4}, a flag alone, the worker's arguments before or after
     * {@code --}. Anything else (help, version, an @file, an unknown, repeated or clustered option, a flag with a
     * value, a value picocli would take for an option) returns null: picocli then reads the command line and
     * answers as it always did. RunQuickParseTest checks both readings agree for every option picocli knows.
     */
    static RunCommand quickParse(List<String> argv) {
        RunCommand c = new RunCommand();
        try {
            boolean positional = false;
            for (int i = 0; i < argv.size(); i++) {
                String a = argv.get(i);
                if (a.startsWith("@")) {
                    return null;    // picocli's argument file
                }
                if (positional || !a.startsWith("-") || a.equals("-")) {
                    c.args = add(c.args, a);
                } else if (a.equals("--")) {
                    positional = true;
                } else if (c.flag(a)) {
                    continue;
                } else {
                    int eq = a.startsWith("--") ? a.indexOf('=') : -1;
                    String name = eq > 0 ? a.substring(0, eq) : a;
                    String value;
                    if (eq > 0) {
                        value = a.substring(eq + 1);
                    } else if (i + 1 < argv.size() && !looksLikeAnOption(argv.get(i + 1))) {
                        value = argv.get(++i);
                    } else {
                        return null;
                    }
                    if (!c.option(name, value)) {
                        return null;
                    }
                }
            }
        } catch (Fallback | InvalidPathException e) {
            return null;
        }
        return c;
    }

    /** Sets a flag given once; false when {@code a} is no flag of this command. */
    private boolean flag(String a) {
        switch (a) {
            case "--silent" -> silent = once(silent, Boolean.TRUE);
            case "--no-signals" -> noSignals = once(noSignals ? Boolean.TRUE : null, Boolean.TRUE);
            case "--reuse-port" -> reusePort = once(reusePort, Boolean.TRUE);
            case "--no-pdeathsig" -> noPdeathsig = once(noPdeathsig ? Boolean.TRUE : null, Boolean.TRUE);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Sets a value option; false when {@code name} is no value option of this command. */
    private boolean option(String name, String v) {
        switch (name) {
            case "--config" -> configFile = once(configFile, Path.of(v));
            case "--name" -> this.name = once(this.name, v);
            case "--exec" -> exec = once(exec, v);
            case "--main" -> mainClass = once(mainClass, v);
            case "--jar" -> jar = once(jar, v);
            case "--classpath" -> classpath = once(classpath, v);
            case "--jvm-arg" -> jvmArgs = add(jvmArgs, v);
            case "-n", "--size" -> size = once(size, v);
            case "--max-children" -> maxChildren = once(maxChildren, v);
            case "--worker-memory" -> workerMemory = once(workerMemory, v);
            case "-e", "--env" -> env = add(env, v);
            case "--ready" -> ready = once(ready, v);
            case "--ready-log" -> readyLog = once(readyLog, v);
            case "--ready-probe" -> readyProbe = once(readyProbe, v);
            case "--port-base" -> portBase = once(portBase, v);
            case "--ready-grace" -> readyGrace = once(readyGrace, v);
            case "--ready-timeout" -> readyTimeout = once(readyTimeout, v);
            case "--stop-timeout" -> stopTimeout = once(stopTimeout, v);
            case "--surge" -> surge = once(surge, v);
            case "--spare" -> spare = once(spare, v);
            case "--backoff-initial" -> backoffInitial = once(backoffInitial, v);
            case "--backoff-max" -> backoffMax = once(backoffMax, v);
            case "--probation" -> probation = once(probation, v);
            case "--stop-signal" -> stopSignal = once(stopSignal, v);
            case "--crash-loop-failures" -> crashLoopFailures = once(crashLoopFailures, v);
            case "--crash-loop-window" -> crashLoopWindow = once(crashLoopWindow, v);
            case "--worker-watchdog" -> workerWatchdog = once(workerWatchdog, v);
            case "--max-rss" -> maxRss = once(maxRss, v);
            case "--max-age" -> maxAge = once(maxAge, v);
            case "--listen" -> listen = add(listen, v);
            case "--runtime-dir" -> runtimeDir = once(runtimeDir, v);
            case "--repl" -> repl = once(repl, v);
            case "--repl-group" -> replGroup = once(replGroup, v);
            case "--repl-tcp" -> replTcp = once(replTcp, v);
            case "--http-port" -> httpPort = once(httpPort, v);
            case "--http-address" -> httpAddress = once(httpAddress, v);
            case "--java-cds" -> javaCds = once(javaCds, v);
            default -> {
                return false;
            }
        }
        return true;
    }

    /**
     * What picocli would read as an option rather than a value: a name of ours (with or without =VALUE), or a
     * short option with its value attached (-n4, -eK=V; -h and -V too).
     */
    private static boolean looksLikeAnOption(String a) {
        if (!a.startsWith("-") || a.equals("-")) {
            return false;
        }
        int eq = a.indexOf('=');
        String name = eq > 0 ? a.substring(0, eq) : a;
        RunCommand probe = new RunCommand();
        return name.equals("--") || name.equals("-h") || name.equals("--help") || name.equals("-V") || name.equals("--version")
                || probe.flag(name) || probe.option(name, "")
                || a.length() > 2 && "neVh".indexOf(a.charAt(1)) >= 0;
    }

    /** Thrown for an option given twice: picocli's message then says so. */
    private static final class Fallback extends RuntimeException {
        Fallback() {
            super(null, null, false, false);
        }
    }

    private static <T> T once(T current, T value) {
        if (current != null) {
            throw new Fallback();
        }
        return value;
    }

    private static List<String> add(List<String> list, String value) {
        List<String> l = list == null ? new ArrayList<>() : list;
        l.add(value);
        return l;
    }

    /** Under a unit whose RuntimeDirectory is not /run/NAME, `ctl NAME` cannot find this master: say how to fix it. */
    private static void warnIfUnitNameDiffers(Config config, Map<String, String> environment) {
        String dirs = environment.get("RUNTIME_DIRECTORY");
        Path dir = config.runtimeDir().getFileName();
        if (dirs != null && !dirs.isBlank() && dir != null && !dir.toString().equals(config.name())) {
            log.warn("name={} but this unit's RuntimeDirectory is {}: 'cluster-master ctl {}' will not find it; give the app "
                    + "its own unit: cluster-master service create {} ...", config.name(), config.runtimeDir(), config.name(), config.name());
        }
    }

    /**
     * The options given, as config keys, so the command line overrides environment and file the same way.
     *
     * @throws ConfigException for a malformed --env
     */
    Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        put(s, "name", name);
        if (exec != null) {
            s.put("exec", Words.join(List.of(exec)));
        }
        put(s, "main", mainClass);
        put(s, "classpath", classpath);
        put(s, "jar", jar);
        if (jvmArgs != null) {
            s.put("jvm.args", Words.join(jvmArgs));
        }
        put(s, "size", size);
        put(s, "max.children", maxChildren);
        put(s, "worker.memory", workerMemory);
        if (env != null) {
            for (String e : env) {
                int eq = e.indexOf('=');
                if (eq < 0) {   // an empty NAME is StartChecks' to refuse, as for env. keys of a config file
                    // picocli's own message for a Map option reads "Value for option option '--env' ..."
                    throw new ConfigException("--env '" + e + "': no '=': give --env NAME=VALUE, e.g. --env APP_MODE=production");
                }
                s.put("env." + e.substring(0, eq), e.substring(eq + 1));
            }
        }
        put(s, "silent", silent == null ? null : silent.toString());
        if (noSignals) {
            s.put("signals", "false");
        }
        put(s, "ready", ready);
        put(s, "ready.log", readyLog);
        put(s, "ready.probe", readyProbe);
        put(s, "port.base", portBase);
        put(s, "ready.grace", readyGrace);
        put(s, "ready.timeout", readyTimeout);
        put(s, "stop.timeout", stopTimeout);
        put(s, "surge", surge);
        put(s, "spare", spare);
        put(s, "backoff.initial", backoffInitial);
        put(s, "backoff.max", backoffMax);
        put(s, "probation", probation);
        put(s, "stop.signal", stopSignal);
        put(s, "crash-loop.failures", crashLoopFailures);
        put(s, "crash-loop.window", crashLoopWindow);
        put(s, "worker.watchdog", workerWatchdog);
        put(s, "worker.max-rss", maxRss);
        put(s, "worker.max-age", maxAge);
        if (listen != null) {
            s.put("listen", String.join(",", listen));
        }
        put(s, "reuse.port", reusePort == null ? null : reusePort.toString());
        put(s, "runtime.dir", runtimeDir);
        put(s, "repl", repl);
        put(s, "repl.group", replGroup);
        put(s, "repl.tcp", replTcp);
        put(s, "http.port", httpPort);
        put(s, "http.address", httpAddress);
        if (noPdeathsig) {
            s.put("pdeathsig", "false");
        }
        put(s, "java.cds", javaCds);
        if (args != null && !args.isEmpty()) {
            s.put("args", Words.join(args));
        }
        return s;
    }

    private static void put(Map<String, String> s, String key, String value) {
        if (value != null) {
            s.put(key, value);
        }
    }
}
