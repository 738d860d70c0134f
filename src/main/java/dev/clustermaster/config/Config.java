package dev.clustermaster.config;

import dev.clustermaster.core.Backoff;
import dev.clustermaster.core.Policy;
import dev.clustermaster.core.Signal;
import dev.clustermaster.os.Signals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * Everything a master needs to run, validated. Build one with {@link #builder()} (library use)
 * or {@link ConfigLoader} (CLI, environment, properties file).
 */
public final class Config {

    /** How often worker memory is sampled when worker.max-rss is set. */
    static final long RSS_CHECK_MILLIS = 5_000;

    private final String name;
    private final List<String> exec;
    private final String mainClass;
    private final JavaLaunch java;
    private final List<String> jvmArgs;
    private final String javaBin;
    private final List<String> args;
    private final Map<String, String> env;
    private final int size;
    private final int maxSize;
    private final boolean silent;
    private final boolean signals;
    private final Policy policy;
    private final Readiness readiness;
    private final Integer portBase;
    private final List<String> listen;
    private final boolean reusePort;
    private final Path runtimeDir;
    private final boolean repl;
    private final Path replSocket;
    private final String replGroup;
    private final String replTcp;
    private final Integer httpPort;
    private final String httpAddress;
    private final boolean parentDeathSignal;
    private final JavaCdsSetting javaCds;
    private final BiFunction<WorkerInfo, String, String> onMessage;

    private Config(Builder b) {
        this.name = b.name;
        this.exec = List.copyOf(b.exec);
        this.mainClass = b.mainClass;
        this.java = b.java;
        this.jvmArgs = List.copyOf(b.jvmArgs);
        this.javaBin = b.javaBin;
        this.args = List.copyOf(b.args);
        this.env = Map.copyOf(b.env);
        this.size = b.size;
        this.maxSize = b.maxSize;
        this.silent = b.silent;
        this.signals = b.signals;
        this.policy = new Policy(b.requireNotify, b.readyGraceMillis, b.readyTimeoutMillis, b.stopTimeoutMillis,
                b.surge, new Backoff(b.backoffInitialMillis, b.backoffMaxMillis), b.healthyUptimeMillis,
                b.probationMillis, Signals.signal(b.stopSignal), new Policy.CrashLoop(b.crashLoopFailures, b.crashLoopWindowMillis),
                b.workerWatchdogMillis, b.mainClass != null || b.jar != null ? Signal.QUIT : null,
                new Policy.Recycling(b.maxRssBytes, b.maxAgeMillis, RSS_CHECK_MILLIS), b.spare, b.cpus);
        this.readiness = b.readiness;
        this.portBase = b.portBase;
        this.listen = List.copyOf(b.listen);
        this.reusePort = b.reusePort;
        this.runtimeDir = b.runtimeDir;
        this.repl = b.repl;
        this.replSocket = b.replSocket;
        this.replGroup = b.replGroup;
        this.replTcp = b.replTcp;
        this.httpPort = b.httpPort;
        this.httpAddress = b.httpAddress;
        this.parentDeathSignal = b.parentDeathSignal;
        this.javaCds = b.javaCds;
        this.onMessage = b.onMessage;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The worker's argv before the master adds anything (java launcher for a main class, else exec + args). */
    public List<String> workerArgv() {
        List<String> argv = new ArrayList<>();
        if (mainClass != null) {
            argv.add(javaBin);
            argv.addAll(jvmArgs);
            argv.add("-cp");
            argv.add(java.classpathString());
            argv.add(JavaLaunch.WORKER_MAIN);
            argv.add(java.mainClass());
        } else {
            argv.addAll(exec);
        }
        argv.addAll(args);
        return argv;
    }

    public boolean javaWorker() {
        return mainClass != null;
    }

    public String name() { return name; }
    public List<String> exec() { return exec; }
    public String mainClass() { return mainClass; }
    /** The Java worker's main class and class path; null for an exec worker. */
    public JavaLaunch javaLaunch() { return java; }
    public List<String> args() { return args; }
    public Map<String, String> env() { return env; }
    public int size() { return size; }
    public int maxSize() { return maxSize; }
    public boolean silent() { return silent; }
    public boolean signals() { return signals; }
    public Policy policy() { return policy; }
    public Readiness readiness() { return readiness; }
    /** First port of the per-worker PORT variable, or null when workers get no PORT of their own. */
    public Integer portBase() { return portBase; }
    /** Worker output goes through the master: silent mode, or readiness watches it. */
    public boolean captureOutput() { return silent || readiness.mode() == Readiness.Mode.LOG; }
    public List<String> listen() { return listen; }
    public boolean reusePort() { return reusePort; }
    public Path runtimeDir() { return runtimeDir; }
    public boolean repl() { return repl; }
    public Path replSocket() { return new ReplSetting(repl, replSocket).socketIn(runtimeDir); }
    public String replGroup() { return replGroup; }
    public String replTcp() { return replTcp; }
    public Integer httpPort() { return httpPort; }
    public String httpAddress() { return httpAddress; }
    public boolean parentDeathSignal() { return parentDeathSignal; }
    /** Where Java workers' per-app AppCDS archive lives ({@code java.cds}, default auto: only in systemd's CacheDirectory=). */
    public JavaCdsSetting javaCds() { return javaCds; }
    /** The user's JVM options for a Java worker ({@code jvm.args}). */
    public List<String> jvmArgs() { return jvmArgs; }
    /** The java launcher of Java workers. */
    public String javaBin() { return javaBin; }
    public BiFunction<WorkerInfo, String, String> onMessage() { return onMessage; }

    @Override
    public String toString() {
        return "Config{name=" + name + ", worker=" + workerArgv() + ", size=" + size + ", max=" + maxSize
                + ", silent=" + silent + ", signals=" + signals + ", policy=" + policy + ", ready=" + readiness
                + (portBase != null ? ", port.base=" + portBase : "") + ", listen=" + listen
                + ", runtimeDir=" + runtimeDir + ", repl=" + (repl ? replSocket() : "off")
                + (httpPort != null ? ", http=" + httpAddress + ":" + httpPort : "") + "}";
    }

    /** Library-friendly builder; {@link #build()} validates. */
    public static final class Builder {
        private String name = "cluster-master";
        private List<String> exec = List.of();
        private String mainClass;
        private String classpath;
        private String jar;
        private JavaLaunch java;
        private List<String> jvmArgs = List.of();
        private String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        private List<String> args = List.of();
        private final Map<String, String> env = new LinkedHashMap<>();
        private int size = -1;
        private int maxSize = 1024;
        private boolean silent;
        private boolean signals = true;
        private Boolean requireNotifyChoice;
        private boolean requireNotify;
        private Readiness readiness;
        private Integer portBase;
        private long readyGraceMillis = 1_000;
        private long readyTimeoutMillis = 60_000;
        private long stopTimeoutMillis = 10_000;
        /** {@link Policy#AUTO_SURGE}: one per CPU or a quarter of the workers, whichever is more. */
        private int surge = Policy.AUTO_SURGE;
        private int spare;
        private int cpus = Math.max(1, Runtime.getRuntime().availableProcessors());
        private long backoffInitialMillis = 500;
        private long backoffMaxMillis = 30_000;
        private long healthyUptimeMillis = 10_000;
        private long probationMillis = 5_000;
        private int stopSignal = Signals.SIGTERM;
        private int crashLoopFailures = 5;
        private long crashLoopWindowMillis = 300_000;
        private long workerWatchdogMillis;
        private long maxRssBytes;
        private long maxAgeMillis;
        private List<String> listen = List.of();
        private boolean reusePort;
        private Path runtimeDir;
        private boolean repl = true;
        private Path replSocket;
        private String replGroup;
        private String replTcp;
        private Integer httpPort;
        private String httpAddress = "127.0.0.1";
        private boolean parentDeathSignal = true;
        private JavaCdsSetting javaCds = JavaCdsSetting.DEFAULT;
        private BiFunction<WorkerInfo, String, String> onMessage;

        public Builder name(String v) { name = v; return this; }
        /** Program and its first arguments, e.g. ["python3", "-m", "http.server"]. */
        public Builder exec(List<String> v) { exec = List.copyOf(v); return this; }
        public Builder exec(String... v) { return exec(List.of(v)); }
        /** A Java main class run in its own JVM through {@code dev.clustermaster.worker.WorkerMain}. */
        public Builder mainClass(String v) { mainClass = v; return this; }
        /** The main class's class path; the master's own when neither this nor {@link #jar} is given. */
        public Builder classpath(String v) { classpath = v; return this; }
        /** An application jar: its Main-Class runs (unless {@link #mainClass} says otherwise), its Class-Path is used. */
        public Builder jar(String v) { jar = v; return this; }
        public Builder jvmArgs(List<String> v) { jvmArgs = List.copyOf(v); return this; }
        public Builder javaBin(String v) { javaBin = v; return this; }
        public Builder args(List<String> v) { args = List.copyOf(v); return this; }
        public Builder env(String key, String value) { env.put(key, value); return this; }
        public Builder env(Map<String, String> v) { env.putAll(v); return this; }
        public Builder size(int v) { size = v; return this; }
        public Builder maxSize(int v) { maxSize = v; return this; }
        public Builder silent(boolean v) { silent = v; return this; }
        public Builder signals(boolean v) { signals = v; return this; }
        /** true: ready only on READY=1 (notify); false: READY=1 or the grace period (grace, the default). */
        public Builder requireNotify(boolean v) { requireNotifyChoice = v; return this; }
        /** How a new worker is known to be ready (see {@link Readiness}); default grace. */
        public Builder readiness(Readiness v) { readiness = v; return this; }
        /** Each worker gets PORT: the lowest port from this one up that no other live worker holds. */
        public Builder portBase(Integer v) { portBase = v; return this; }
        public Builder readyGraceMillis(long v) { readyGraceMillis = v; return this; }
        public Builder readyTimeoutMillis(long v) { readyTimeoutMillis = v; return this; }
        public Builder stopTimeoutMillis(long v) { stopTimeoutMillis = v; return this; }
        public Builder surge(int v) { surge = v; return this; }
        public Builder spare(int v) { spare = v; return this; }
        public Builder cpus(int v) { cpus = Math.max(1, v); return this; }
        public Builder backoff(long initialMillis, long maxMillis) { backoffInitialMillis = initialMillis; backoffMaxMillis = maxMillis; return this; }
        public Builder healthyUptimeMillis(long v) { healthyUptimeMillis = v; return this; }
        /** How long a replacement must stay up after READY before the worker it replaces is stopped (default 5 s; 0: none). */
        public Builder probationMillis(long v) { probationMillis = v; return this; }
        /** Signal number of a graceful stop (default SIGTERM, 15). */
        public Builder stopSignal(int v) { stopSignal = v; return this; }
        /** Exit (code 69) when every slot failed this many times in a row within the crash-loop window; 0: never (default 5). */
        public Builder crashLoopFailures(int v) { crashLoopFailures = v; return this; }
        /** The window of {@link #crashLoopFailures} (default 5 min). */
        public Builder crashLoopWindowMillis(long v) { crashLoopWindowMillis = v; return this; }
        /** WATCHDOG_USEC given to each worker; a worker that sent WATCHDOG=1 and then stays silent this long is replaced. 0 (default): off. */
        public Builder workerWatchdogMillis(long v) { workerWatchdogMillis = v; return this; }
        /** Recycle a worker whose RSS exceeds this; 0 (default): off. */
        public Builder maxRssBytes(long v) { maxRssBytes = v; return this; }
        /** Recycle a worker older than this (plus up to a tenth of it as jitter); 0 (default): off. */
        public Builder maxAgeMillis(long v) { maxAgeMillis = v; return this; }
        public Builder listen(List<String> v) { listen = List.copyOf(v); return this; }
        public Builder reusePort(boolean v) { reusePort = v; return this; }
        public Builder runtimeDir(Path v) { runtimeDir = v; return this; }
        public Builder repl(boolean v) { repl = v; return this; }
        public Builder replSocket(Path v) { replSocket = v; return this; }
        public Builder replGroup(String v) { replGroup = v; return this; }
        /** "host:port" for a TCP REPL (no peer check: loopback only unless you mean it). */
        public Builder replTcp(String v) { replTcp = v; return this; }
        public Builder httpPort(Integer v) { httpPort = v; return this; }
        public Builder httpAddress(String v) { httpAddress = v; return this; }
        /** Workers get SIGTERM if the master dies (PR_SET_PDEATHSIG through setpriv), default on. */
        public Builder parentDeathSignal(boolean v) { parentDeathSignal = v; return this; }
        public Builder javaCds(JavaCdsSetting v) { javaCds = v; return this; }
        public Builder onMessage(BiFunction<WorkerInfo, String, String> v) { onMessage = v; return this; }

        public Config build() {
            if (name == null || !name.matches("[A-Za-z0-9_.@-]{1,64}")) {
                throw new ConfigException("name: expected 1-64 letters, digits, '.', '_', '-', '@', got '" + name + "'");
            }
            if (mainClass == null && jar == null && exec.isEmpty()) {
                throw new ConfigException("missing worker: give --exec CMD, --main CLASS or --jar JAR (exec=, main=, jar= in a config file)");
            }
            if ((mainClass != null || jar != null) && !exec.isEmpty()) {
                throw new ConfigException("give either --exec or --main/--jar, not both (exec= or main=/jar= in a config file)");
            }
            if (maxSize < 0) {
                throw new ConfigException("max children must be >= 0, got " + maxSize);
            }
            if (size < -1) {
                throw new ConfigException("size must be >= 0, got " + size);
            }
            if (size == -1) {
                size = Math.min(maxSize, Math.max(1, Runtime.getRuntime().availableProcessors()));
            }
            if (size > maxSize) {
                throw new ConfigException("size " + size + " exceeds the limit of " + maxSize + " (MAX_CHILD_PROCESSES)");
            }
            if (surge < 0) {
                throw new ConfigException("surge must be >= 1 (or auto), got " + surge);
            }
            if (spare < 0) {
                throw new ConfigException("spare must be >= 0, got " + spare);
            }
            if (readyTimeoutMillis <= 0) {
                throw new ConfigException("ready timeout must be > 0");
            }
            if (stopSignal < 1 || stopSignal > 64) {
                throw new ConfigException("stop.signal: expected a signal such as TERM, QUIT or INT, got " + stopSignal);
            }
            if (probationMillis < 0 || workerWatchdogMillis < 0 || maxRssBytes < 0 || maxAgeMillis < 0
                    || crashLoopFailures < 0 || crashLoopWindowMillis < 0) {
                throw new ConfigException("probation, worker.watchdog, worker.max-rss, worker.max-age and crash-loop.* must not be negative");
            }
            if (backoffMaxMillis < backoffInitialMillis) {
                throw new ConfigException("backoff max must be >= backoff initial");
            }
            if (mainClass != null || jar != null) {
                java = JavaLaunch.resolve(mainClass, classpath, jar, System.getProperty("java.class.path"));
                mainClass = java.mainClass();
            }
            StartChecks.check(exec, javaBin, mainClass != null, env, listen, reusePort);
            StartChecks.checkGroup(replGroup);
            if (spare > 0 && (mainClass == null || reusePort || portBase != null)) {
                // only the worker API can hold a started worker back from accepting until it is promoted
                throw new ConfigException("spare=" + spare + " needs a Java worker (--main or --jar) that takes the listener "
                        + "the master shares from ClusterWorker.inheritedListener(); "
                        + (mainClass == null ? "a plain command" : "a worker binding its own port (reuse.port, port.base)")
                        + " cannot be held from accepting until promoted: remove spare");
            }
            if (readiness == null) {
                readiness = Boolean.TRUE.equals(requireNotifyChoice) ? Readiness.NOTIFY : Readiness.GRACE;
            }
            requireNotify = !readiness.uptimeIsEnough();
            if (portBase != null && (portBase < 1 || portBase > 65535)) {
                throw new ConfigException("port.base: expected 1-65535, got " + portBase);
            }
            if (portBase != null && reusePort) {
                throw new ConfigException("port.base and reuse.port both set the workers' PORT: keep one");
            }
            if (readiness.probe() != null && readiness.probe().perWorkerPort() && portBase == null && !reusePort) {
                throw new ConfigException("ready.probe: $PORT needs port.base=N (each worker its own PORT), or a fixed port");
            }
            if (runtimeDir == null) {
                runtimeDir = RuntimeDirs.choose(name, System.getenv());
            }
            Objects.requireNonNull(httpAddress, "httpAddress");
            return new Config(this);
        }
    }
}
