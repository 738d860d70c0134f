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
    public final Process process;
    public final Path log;

    private MasterProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Runs {@code cluster-master run <args>} with the shaded jar when it exists, else the test class path. */
    public static MasterProcess start(Path dir, List<String> env, String... args) throws IOException {
        List<String> cmd = command(args);
        Path log = dir.resolve("master.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        for (String kv : env) {
            int eq = kv.indexOf('=');
            pb.environment().put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return new MasterProcess(pb.start(), log);
    }

    /** The command line of {@code cluster-master run <args>}, for tests that spawn it themselves. */
    public static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xshare:auto");
        cmd.add("-XX:TieredStopAtLevel=1");
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

    public int pid() {
        return (int) process.pid();
    }

    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    public List<Integer> workers() {
        return Procs.liveChildren(process.pid());
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
            List<Integer> kids = workers();
            process.destroyForcibly();
            kids.forEach(pid -> dev.clustermaster.os.ProcessGroups.signalGroup(pid, 9));
        }
    }
}
