package dev.clustermaster.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A master started through the CLI in its own JVM, as an operator would run it. */
public final class MasterProcess implements AutoCloseable {
    /** The value packaging/cluster-master exports as _JAVA_SR_SIGNUM (HotSpot's suspend/resume signal). */
    static final String LAUNCHER_SR_SIGNUM = "39";
    private static final List<String> JVM_FLAGS = List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1", "-Djnr.ffi.asm.enabled=false");

    public final Process process;
    public final Path log;
    /** True when process is a shell that runs the master as its only child (e.g. {@code sh -c 'java ... &'}). */
    private final boolean masterIsChild;

    private MasterProcess(Process process, Path log, boolean masterIsChild) {
        this.process = process;
        this.log = log;
        this.masterIsChild = masterIsChild;
    }

    /**
     * Runs {@code cluster-master run <args>} with the shaded jar when it exists, else the test class path, with the
     * environment the packaged launcher gives it.
     */
    public static MasterProcess start(Path dir, List<String> env, String... args) throws IOException {
        return start(dir, env, List.of(), false, command(args));
    }

    /** Runs {@code java -jar masterJar run <args>}: a master jar installed somewhere else than target/. */
    public static MasterProcess startJar(Path dir, Path masterJar, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.addAll(List.of("-jar", masterJar.toString(), "run"));
        cmd.addAll(List.of(args));
        return start(dir, List.of(), List.of(), false, cmd);
    }

    /** Runs the packaged launcher script packaging/cluster-master with the built jar and this JDK. */
    public static MasterProcess startWithLauncher(Path dir, List<String> env, String... args) throws IOException {
        String jar = System.getProperty("cm.jar");
        if (jar == null || !Files.exists(Path.of(jar))) {
            throw new IllegalStateException("the launcher needs the shaded jar (cm.jar): run through mvn verify");
        }
        List<String> all = new ArrayList<>(env);
        all.addAll(List.of("CLUSTER_MASTER_JAR=" + jar, "JAVA_HOME=" + System.getProperty("java.home"),
                "JAVA_OPTS=" + String.join(" ", JVM_FLAGS)));
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", launcher().toString(), "run"));
        cmd.addAll(List.of(args));
        return start(dir, all, List.of(), false, cmd);
    }

    /**
     * Runs the master behind a wrapper command, e.g. {@code nohup} (which execs it: same pid) or
     * {@code sh -c '"$@" & wait $!' sh} (the master is the shell's child: masterIsChild).
     */
    public static MasterProcess startWrapped(Path dir, List<String> env, List<String> wrapper, boolean masterIsChild,
                                             String... args) throws IOException {
        return start(dir, env, wrapper, masterIsChild, command(args));
    }

    /** packaging/cluster-master in this checkout (tests run in the project directory). */
    static Path launcher() {
        return Path.of("packaging", "cluster-master").toAbsolutePath();
    }

    /** The command line of {@code cluster-master run <args>}, for tests that spawn it themselves. */
    public static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        String jar = System.getProperty("cm.jar");
        if (jar != null && Files.exists(Path.of(jar))) {
            cmd.addAll(List.of("-jar", jar));
        } else {
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.clustermaster.cli.Main"));
        }
        cmd.add("run");
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static MasterProcess start(Path dir, List<String> env, List<String> wrapper, boolean masterIsChild,
                                       List<String> command) throws IOException {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.addAll(command);
        Path log = logFile(dir);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        // as packaging/cluster-master starts it: HotSpot's suspend/resume signal off SIGUSR2
        pb.environment().put("_JAVA_SR_SIGNUM", LAUNCHER_SR_SIGNUM);
        // a test runner under systemd must not hand its cache directory (and so AppCDS archives) to every test
        pb.environment().remove("CACHE_DIRECTORY");
        for (String kv : env) {
            int eq = kv.indexOf('=');
            pb.environment().put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return new MasterProcess(pb.start(), log, masterIsChild);
    }

    private static final java.util.concurrent.atomic.AtomicInteger LOGS = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Under failsafe, target/test-logs/CLASS-N.log (kept for a look after a failure; .ci/run prints the tails of a
     * failed class's logs); else master.log in dir.
     */
    private static Path logFile(Path dir) throws IOException {
        String logs = System.getProperty("cm.testLogs");
        if (logs == null) {
            return dir.resolve("master.log");
        }
        String test = StackWalker.getInstance().walk(frames -> frames.map(StackWalker.StackFrame::getClassName)
                .filter(c -> c.endsWith("IT") || c.endsWith("Test")).findFirst()).orElse("master");
        Path out = Path.of(logs);
        Files.createDirectories(out);
        return out.resolve(test.substring(test.lastIndexOf('.') + 1) + "-" + LOGS.incrementAndGet() + ".log");
    }

    /** The master's pid (waits for the wrapper's child to appear when the master is not process itself). */
    public int pid() {
        if (!masterIsChild) {
            return (int) process.pid();
        }
        return Wait.value("the master under its wrapper shell", Duration.ofSeconds(30),
                () -> Procs.liveChildren(process.pid()), l -> l.size() == 1).get(0);
    }

    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    public List<Integer> workers() {
        return Procs.liveChildren(pid());
    }

    public void waitForOutput(String text, Duration timeout) {
        Wait.until("'" + text + "' in the master log", timeout, () -> output().contains(text));
    }

    public int waitForExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("master did not exit within " + timeout + "; log:\n" + output());
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            int master = masterIsChild ? Procs.liveChildren(process.pid()).stream().findFirst().orElse(0)
                    : (int) process.pid();
            List<Integer> kids = master > 0 ? Procs.liveChildren(master) : List.of();
            if (master > 0) {
                dev.clustermaster.os.ProcessGroups.signalProcess(master, 9);
            }
            process.destroyForcibly();
            kids.forEach(pid -> dev.clustermaster.os.ProcessGroups.signalGroup(pid, 9));
        }
    }
}
