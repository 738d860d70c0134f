package dev.clustermaster.it;

import dev.clustermaster.os.Posix;
import dev.clustermaster.os.ProcessGroups;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command shown in README.md and docs/*.md (each line of a ```sh, ```console, ```bash or unlabelled block,
 * and each inline `command line`) is classified in {@link #HOW}, the one place that says how it is proven to work:
 * run here in a sandbox (a temp dir, free ports, the built jar behind a {@code cluster-master} launcher), run by
 * another named test that extracts it from the doc, run by a named script (an e2e check under systemd, CI, a bench
 * script) that contains it, or not runnable here, with the reason. A command in no class fails the test, and so does
 * a sandboxed command that exits with another code or does not print what the doc says.
 */
class DocsCommandsIT {
    private static final Duration T = Duration.ofSeconds(90);
    private static final Path REPO = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final Pattern FENCE = Pattern.compile("(?m)^([ \\t]*)```(\\w*)\\n(.*?)^\\1```", Pattern.DOTALL);
    private static final Set<String> SHELL = Set.of("sh", "console", "bash", "shell", "");
    /** An inline `...` that is a whole command line: a known program and at least two more words, no placeholder. */
    private static final Pattern SPAN = Pattern.compile("`([^`\\n]+)`");
    private static final Pattern INLINE = Pattern.compile("(?:\\S+=\\S+ )*(?:sudo|cluster-master|systemctl|journalctl|curl|socat"
            + "|mvn|python3|taskset|bash|sh|java|javac|git|kill|packaging/\\S+|bench/\\S+|\\./\\S+) .+");

    /** A command of a doc: its file, its line, its text (trailing comment removed). */
    record DocCommand(String doc, int line, String text) {
        String key() {
            return doc + " | " + text;
        }
    }

    // ---- extraction ---------------------------------------------------------------------------------------------

    static List<String> docs() throws IOException {
        List<String> docs = new ArrayList<>(List.of("README.md"));
        try (Stream<Path> files = Files.list(REPO.resolve("docs"))) {
            files.map(p -> "docs/" + p.getFileName()).filter(n -> n.endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }

    static List<DocCommand> commands() throws IOException {
        List<DocCommand> out = new ArrayList<>();
        for (String doc : docs()) {
            String text = Files.readString(REPO.resolve(doc));
            Matcher m = FENCE.matcher(text);
            StringBuilder prose = new StringBuilder();
            int last = 0;
            while (m.find()) {
                prose.append(text, last, m.start()).append("\n".repeat(lines(m.group())));
                last = m.end();
                if (!SHELL.contains(m.group(2))) {
                    continue;
                }
                int line = lines(text.substring(0, m.start())) + 2;
                for (String l : m.group(3).split("\n", -1)) {
                    String cmd = l.replaceFirst("\\s{2,}#.*", "").strip();
                    if (!cmd.isEmpty() && !cmd.startsWith("#")) {
                        out.add(new DocCommand(doc, line, cmd));
                    }
                    line++;
                }
            }
            prose.append(text.substring(last));
            Matcher inline = SPAN.matcher(prose);
            while (inline.find()) {
                String cmd = inline.group(1);
                if (INLINE.matcher(cmd).matches() && cmd.split("\\s+").length >= 3 && !cmd.matches(".*(\\.\\.\\.|…|<).*")) {
                    out.add(new DocCommand(doc, lines(prose.substring(0, inline.start())) + 1, cmd));
                }
            }
        }
        return out;
    }

    private static int lines(String s) {
        return (int) s.chars().filter(c -> c == '\n').count();
    }

    // ---- the one classification ---------------------------------------------------------------------------------

    /** Where a sandboxed command runs: each scenario is one test below, its commands run in the docs' order. */
    enum Scenario { CONTROL, DEMO, JAVA, SERVICE, CHECKOUT, JOURNAL }

    /** What a sandboxed command must do. */
    enum Kind {
        /** exits with the code, its output matches (find) the pattern; stdin given, kept open until the output matched. */
        RUN,
        /** a master: starts, prints the pattern, keeps running for the scenario's other commands, then quits with 0. */
        SERVE,
        /** a master on its own: starts, prints the pattern, quits with 0 on SIGTERM. */
        START_STOP,
        /** never ends by itself (journalctl -f): still running after 2 s. */
        FOLLOW
    }

    sealed interface How permits Sandbox, ByTest, ByScript, NotHere {
    }

    /** Run here; {@code stdin} for interactive commands; the doc's text after {@link #substitutions}. */
    record Sandbox(Scenario scenario, Kind kind, String expect, int exit, String stdin) implements How {
    }

    /** Run by another test, which extracts these lines from the doc itself (and says so in its source). */
    record ByTest(Class<?> test, String evidence, Callable<List<String>> extracted) implements How {
    }

    /** Run by a script of this repository (an e2e check under systemd, CI, a bench script) that contains evidence. */
    record ByScript(String script, String evidence) implements How {
    }

    /** Not runnable on a build machine: the reason; optionally a file that must hold evidence. */
    record NotHere(String reason, String file, String evidence) implements How {
    }

    private static final Map<String, How> HOW = new LinkedHashMap<>();

    private static void put(String doc, String command, How how) {
        if (HOW.put(doc + " | " + command, how) != null) {
            throw new IllegalStateException("classified twice: " + doc + " | " + command);
        }
    }

    private static Sandbox sandbox(Scenario s, Kind k, String expect) {
        return new Sandbox(s, k, expect, 0, null);
    }

    private static Sandbox run(Scenario s, String expect) {
        return new Sandbox(s, Kind.RUN, expect, 0, null);
    }

    private static Sandbox interactive(Scenario s, String stdin, String expect) {
        return new Sandbox(s, Kind.RUN, expect, 0, stdin);
    }

    private static ByScript e2e(String check, String evidence) {
        return new ByScript("packaging/e2e/checks/" + check, evidence);
    }

    private static NotHere notHere(String reason) {
        return new NotHere(reason, null, null);
    }

    private static ByTest examples(String tag) {
        return new ByTest(DocsExamplesIT.class, "runExample(\"" + tag + "\"", () -> {
            DocsExamplesIT.Example e = DocsExamplesIT.example(tag);
            return List.of(e.run(), e.curl().replaceFirst("\\s{2,}#.*", "").strip());
        });
    }

    private static ByTest recipe(String className) {
        return new ByTest(JavaServerRecipesIT.class, "recipe(\"" + className + "\")",
                () -> List.of(JavaServerRecipesIT.recipe(className).command()));
    }

    private static final String MASTER_READY = "all 2 workers ready";

    static {
        String readme = "README.md";
        String ops = "docs/operations.md";
        String ex = "docs/examples.md";
        String java = "docs/java-servers.md";
        String bench = "docs/benchmarks.md";
        // README.md
        put(readme, "./demo.sh", sandbox(Scenario.DEMO, Kind.SERVE, "cluster-master pid \\d+: 2 HTTP workers"));
        put(readme, "mvn -B verify", new ByScript(".ci/run", "if ! mvn -B verify; then"));
        put(readme, "curl -s http://127.0.0.1:8080/", run(Scenario.DEMO, "^pid \\d+ worker \\d+ restart 0"));
        put(readme, "curl -s http://127.0.0.1:8081/metrics", run(Scenario.DEMO, "cluster_master_workers"));
        put(readme, "cluster-master run --exec CMD [--size N] [--env K=V]... [-- ARGS]", sandbox(Scenario.CONTROL, Kind.SERVE, MASTER_READY));
        put(readme, "cluster-master run --main com.example.Server --classpath app.jar", sandbox(Scenario.JAVA, Kind.START_STOP, "all \\d+ workers ready"));
        put(readme, "cluster-master run --jar app.jar", sandbox(Scenario.JAVA, Kind.START_STOP, "all \\d+ workers ready"));
        put(readme, "cluster-master run --config /etc/cluster-master/cluster-master.conf", sandbox(Scenario.JAVA, Kind.START_STOP, MASTER_READY));
        put(readme, "CLUSTER_MASTER_JAR=target/cluster-master-0.1.0-all.jar sh packaging/cluster-master", run(Scenario.CHECKOUT, "^cluster-master "));
        put(readme, "_JAVA_SR_SIGNUM=39 java -jar target/cluster-master-0.1.0-all.jar", run(Scenario.CHECKOUT, "^cluster-master "));
        put(readme, "javac -cp /usr/share/cluster-master/cluster-master-worker.jar -d classes Server.java",
                new ByTest(DocsJavaExampleIT.class, "readmeCommands()", DocsJavaExampleIT::readmeCommands));
        put(readme, "cluster-master run --main Server --classpath classes --ready notify --listen tcp://127.0.0.1:8080 --size 4",
                new ByTest(DocsJavaExampleIT.class, "readmeCommands()", DocsJavaExampleIT::readmeCommands));
        put(readme, "socat - UNIX-CONNECT:/run/cluster-master/cluster-master.sock", interactive(Scenario.CONTROL, "status\n", "2/2 ready"));
        put(readme, "echo 'restart()' | socat -t 120 - UNIX-CONNECT:/run/cluster-master/cluster-master.sock", run(Scenario.CONTROL, "restart"));
        put(readme, "cluster-master ctl status", run(Scenario.CONTROL, "2/2 ready"));
        put(readme, "cluster-master ctl --json workers", run(Scenario.CONTROL, "\"pid\""));
        put(readme, "cluster-master ctl reload", run(Scenario.CONTROL, "^reloaded: "));
        put(readme, "curl -X POST http://127.0.0.1:9090/children/exit", run(Scenario.CONTROL, "stopping \\d+ workers"));
        put(readme, "journalctl -u cluster-master CM_CHILD_ID=2", e2e("20-unit.sh", "journalctl --no-pager -o cat -u cluster-master CM_CHILD_ID=2"));
        put(readme, "cluster-master ctl upgrade", new ByScript("src/test/java/dev/clustermaster/it/UpgradeIT.java", "ctl(sock, \"upgrade\")"));
        // docs/examples.md: DocsExamplesIT runs each run block as shown
        put(ex, "CLUSTER_MASTER_JAR=target/cluster-master-0.1.0-all.jar sh packaging/cluster-master", run(Scenario.CHECKOUT, "^cluster-master "));
        put(ex, "_JAVA_SR_SIGNUM=39 java -jar target/cluster-master-0.1.0-all.jar", run(Scenario.CHECKOUT, "^cluster-master "));
        put(ex, "cluster-master run --exec python3 --ready notify --listen tcp://127.0.0.1:8080 --size 2 -- app.py", examples("python"));
        put(ex, "curl -s http://127.0.0.1:8080/", examples("python"));
        put(ex, "cluster-master run --exec node --ready 'log:^listening' --listen tcp://127.0.0.1:8080 --size 2 -- app.js", examples("node"));
        put(ex, "cluster-master run --exec sh --port-base 8000 --size 2 --ready grace --ready-grace 2s -- -c 'exec python3 -m http.server --bind 127.0.0.1 \"$PORT\"'", examples("sh"));
        put(ex, "curl -s -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:8001/", examples("sh"));
        // docs/java-servers.md: JavaServerRecipesIT compiles and runs each recipe
        put(java, "javac -cp 'lib/*' -d classes App.java", run(Scenario.JAVA, ""));
        put(java, "cluster-master run --main JettyApp --classpath 'classes:lib/*' --ready 'log:Started oejs.Server' --listen tcp://127.0.0.1:8080", recipe("JettyApp"));
        put(java, "cluster-master run --main NettyApp --classpath 'classes:lib/*' --ready 'log:^netty serving' --listen tcp://127.0.0.1:8080", recipe("NettyApp"));
        put(java, "cluster-master run --main JdkApp --classpath classes --port-base 8000 --ready 'http://127.0.0.1:$PORT/' --size 2", recipe("JdkApp"));
        // docs/operations.md
        put(ops, "mvn -B verify", new ByScript(".ci/run", "if ! mvn -B verify; then"));
        put(ops, "mvn -B package -DskipTests", new ByScript("demo.sh", "mvn -B -q package -DskipTests"));
        put(ops, "mvn -B package -DskipPackaging", new NotHere("maven inside the build that runs this test", "pom.xml", "<name>!skipPackaging</name>"));
        put(ops, "sudo apt install ./cluster-master_0.1.0-1_all.deb", e2e("10-install.sh", "apt-get install -y -q /root/cluster-master.deb"));
        put(ops, "sudo dnf install ./cluster-master-0.1.0-1.noarch.rpm", new NotHere("Fedora/RHEL: CI builds the .rpm and lints it", ".ci/run", "rpmlint"));
        put(ops, "sudo systemctl start cluster-master", e2e("20-unit.sh", "systemctl start cluster-master.service"));
        put(ops, "systemctl status cluster-master", e2e("50-app.sh", "systemctl status app --no-pager"));
        put(ops, "sudo systemctl reload cluster-master", e2e("20-unit.sh", "systemctl reload cluster-master.service"));
        put(ops, "sudo systemctl stop cluster-master", e2e("20-unit.sh", "systemctl stop cluster-master.service"));
        put(ops, "sudo systemctl enable cluster-master", e2e("50-app.sh", "systemctl enable --now app"));
        put(ops, "sudo systemctl edit cluster-master", notHere("opens an editor for a drop-in"));
        put(ops, "sudo systemctl edit cluster-master.socket", notHere("opens an editor for a drop-in"));
        put(ops, "sudo systemctl reset-failed cluster-master && sudo systemctl start cluster-master", e2e("25-fd-store.sh", "systemctl reset-failed cluster-master.service"));
        put(ops, "sudo cluster-master service create app --jar /opt/app/app.jar --size 2 --listen tcp://0.0.0.0:8080", run(Scenario.SERVICE, "^wrote \\S+/units/app.service and \\S+/conf/app.conf"));
        put(ops, "sudo adduser --system --group worker", e2e("50-app.sh", "adduser --system --group --quiet app"));
        put(ops, "sudo cluster-master service create worker --exec python3 --user worker --ready grace -- /srv/worker.py", run(Scenario.SERVICE, "^wrote \\S+/units/worker.service"));
        put(ops, "sudo systemctl enable --now app", e2e("50-app.sh", "systemctl enable --now app"));
        put(ops, "systemctl status app", e2e("50-app.sh", "systemctl status app --no-pager"));
        put(ops, "sudo systemctl reload app", e2e("50-app.sh", "reload_under_load app"));
        put(ops, "journalctl -u app", e2e("50-app.sh", "journalctl -u app CM_CHILD_ID=2"));
        put(ops, "sudo socat - UNIX-CONNECT:/run/app/cluster-master.sock", e2e("50-app.sh", "socat -t 5 - UNIX-CONNECT:/run/app/cluster-master.sock"));
        put(ops, "sudo cluster-master ctl app status", e2e("50-app.sh", "cluster-master ctl app status"));
        put(ops, "sudo cluster-master service remove app --purge", run(Scenario.SERVICE, "removed \\S+/conf/app.conf"));
        put(ops, "cluster-master service create APP", e2e("50-app.sh", "cluster-master service create app"));
        put(ops, "packaging/e2e/systemd-e2e.sh target/pkg/cluster-master_*.deb 10-install 50-app", new ByScript(".ci/run", "packaging/e2e/systemd-e2e.sh \"$DEB\""));
        put(ops, "packaging/e2e/systemd-e2e.sh target/pkg/cluster-master_*.deb 10-install 55-dynamic-user", new ByScript(".ci/run", "packaging/e2e/systemd-e2e.sh \"$DEB\""));
        put(ops, "packaging/e2e/systemd-e2e.sh target/pkg/cluster-master_*.deb 95-rpm", new ByScript(".ci/run", "packaging/e2e/systemd-e2e.sh \"$DEB\""));
        put(ops, "journalctl -u cluster-master --grep 'fd store'", e2e("25-fd-store.sh", "grep \"adopted from systemd's fd store\""));
        put(ops, "systemctl show -p NFileDescriptorStore cluster-master", e2e("25-fd-store.sh", "systemctl show -p NFileDescriptorStore --value cluster-master.service"));
        put(ops, "sudo apt-get install ./cluster-master_0.1.1-1_all.deb", e2e("26-package-upgrade.sh", "apt-get install -y -q \"$UP1\""));
        put(ops, "sudo cluster-master ctl upgrade", new ByScript("src/test/java/dev/clustermaster/it/UpgradeIT.java", "ctl(sock, \"upgrade\")"));
        put(ops, "cluster-master ctl upgrade", new ByScript("src/test/java/dev/clustermaster/it/UpgradeIT.java", "ctl(sock, \"upgrade\")"));
        put(ops, "mvn -B -o verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=UpgradeIT", new ByScript(".ci/run", "if ! mvn -B verify; then"));
        put(ops, "journalctl -u cluster-master -n 20", sandbox(Scenario.JOURNAL, Kind.RUN, ""));
        put(ops, "sudo systemctl stop cluster-master.service", e2e("20-unit.sh", "systemctl stop cluster-master.service"));
        put(ops, "sudo systemctl enable --now cluster-master.socket", e2e("30-socket-activation.sh", "systemctl enable --now cluster-master.socket"));
        put(ops, "curl -s http://127.0.0.1:8080/", e2e("30-socket-activation.sh", "curl -sS --max-time 60 \"http://127.0.0.1:$PORT/\""));
        put(ops, "journalctl -u cluster-master --grep 'socket activation'", e2e("30-socket-activation.sh", "grep 'socket activation:'"));
        put(ops, "systemctl stop cluster-master", e2e("30-socket-activation.sh", "systemctl stop cluster-master.service"));
        put(ops, "systemctl stop cluster-master.socket cluster-master.service", notHere("systemd's own verbs on both shipped units; 90-purge checks that removal stops the socket"));
        put(ops, "systemctl disable cluster-master.service", notHere("systemd's own verb; the socket's start on demand is e2e-checked (30-socket-activation)"));
        put(ops, "journalctl -u cluster-master -f", sandbox(Scenario.JOURNAL, Kind.FOLLOW, ""));
        put(ops, "journalctl -u cluster-master -p warning", sandbox(Scenario.JOURNAL, Kind.RUN, ""));
        put(ops, "journalctl -u cluster-master -o verbose", sandbox(Scenario.JOURNAL, Kind.RUN, ""));
        put(ops, "journalctl -u cluster-master -b --since -1h", sandbox(Scenario.JOURNAL, Kind.RUN, ""));
        put(ops, "journalctl -u cluster-master CM_CHILD_ID=2", e2e("20-unit.sh", "journalctl --no-pager -o cat -u cluster-master CM_CHILD_ID=2"));
        put(ops, "journalctl -u cluster-master LOGGER=dev.clustermaster.master -p warning", sandbox(Scenario.JOURNAL, Kind.RUN, ""));
        put(ops, "journalctl -u cluster-master -o json-pretty -n 1", sandbox(Scenario.JOURNAL, Kind.RUN, ""));
        put(ops, "sudo socat - UNIX-CONNECT:/run/cluster-master/cluster-master.sock", interactive(Scenario.CONTROL, "workers\n", "pid"));
        put(ops, "echo workers | sudo socat - UNIX-CONNECT:/run/cluster-master/cluster-master.sock", run(Scenario.CONTROL, "pid"));
        put(ops, "sudo -u cluster-master cluster-master ctl workers", run(Scenario.CONTROL, "pid"));
        put(ops, "sudo -u nobody curl -X POST http://127.0.0.1:9090/children/exit", run(Scenario.CONTROL, "^access denied: uid 65534 \\(gid 65534\\) is not allowed$"));
        put(ops, "curl -X POST http://127.0.0.1:9090/children/exit", run(Scenario.CONTROL, "stopping \\d+ workers"));
        put(ops, "python3 -m http.server", examples("sh"));
        put(ops, "cluster-master ctl reload", run(Scenario.CONTROL, "^reloaded: "));
        put(ops, "sudo apt remove cluster-master", e2e("90-purge.sh", "dpkg --purge cluster-master"));
        put(ops, "sudo apt purge cluster-master", e2e("90-purge.sh", "dpkg --purge cluster-master"));
        put(ops, "sudo dnf remove cluster-master", new NotHere("Fedora/RHEL: CI builds the .rpm and lints it", ".ci/run", "rpmlint"));
        // docs/benchmarks.md: see BENCH; these two scripts print figures that were written into the doc
        put(bench, "python3 bench/spawn-rate.py 256 1", new ByScript("bench/spawn-rate.py", "resize(%d)"));
        put(bench, "python3 bench/spare-kill.py 0 3", new ByScript("bench/spare-kill.py", "\"--spare\", str(SPARE)"));
        put(bench, "python3 bench/spare-kill.py 1 3", new ByScript("bench/spare-kill.py", "\"--spare\", str(SPARE)"));
        put(bench, "python3 bench/spare-kill.py 1 3 1", new ByScript("bench/spare-kill.py", "\"--size\", str(SIZE)"));
        put(bench, "python3 bench/spare-kill.py 0 1 1", new ByScript("bench/spare-kill.py", "\"--size\", str(SIZE)"));
        put(bench, "python3 bench/rolling-restart.py --rounds 3", new ByScript("bench/rolling-restart.py", "CACHE_DIRECTORY=cache"));
        put(bench, "python3 bench/rolling-restart.py --rounds 3 --variant 'auto, 1 s app start|-e DEMO_STARTUP_DELAY_MS=1000' --variant 'surge 4, 1 s app start|--surge 4 -e DEMO_STARTUP_DELAY_MS=1000' --variant 'auto|' --variant 'surge 4|--surge 4'",
                new ByScript("bench/rolling-restart.py", "-e DEMO_STARTUP_DELAY_MS=1000"));
        put(bench, "taskset -c 0 python3 bench/rolling-restart.py --rounds 3 --variant 'auto (1 CPU)|' --variant 'surge 4 (1 CPU)|--surge 4'",
                new ByScript("bench/rolling-restart.py", "Under `taskset -c 0`"));
        put(bench, "python3 bench/worker-classpath.py --rounds 7", new ByScript("bench/worker-classpath.py", "--java-cds\", \"off\""));
        put(bench, "python3 bench/java-worker-start.py --rounds 5 --restarts 3 --variant 'before|/tmp/cm-before/target/cluster-master-0.1.0-all.jar' --variant 'pipes|target/cluster-master-0.1.0-all.jar|--java-cds off' --variant 'pipes+cds|target/cluster-master-0.1.0-all.jar|--java-cds on'",
                new ByScript("bench/java-worker-start.py", "--variant 'before|/tmp/cm-before/target/cluster-master-0.1.0-all.jar'"));
        put(bench, "python3 bench/java-worker-start.py --rounds 5 --restarts 3 --variant 'off|target/cluster-master-0.1.0-all.jar|--java-cds off' --variant 'auto|target/cluster-master-0.1.0-all.jar'",
                new ByScript("bench/java-worker-start.py", "CACHE_DIRECTORY=cache"));
    }

    /** The bench scripts that write docs/benchmarks.md: each writes its own command line and the commands it ran. */
    private static final List<String> BENCH = List.of("bench/compare.py", "bench/footprint.py");

    private static How how(DocCommand c) throws IOException {
        if (c.doc().equals("docs/benchmarks.md") && !HOW.containsKey(c.key())) {
            for (String script : BENCH) {
                if (c.text().startsWith("python3 " + script + " ")) {
                    return new ByScript(script, "--doc");
                }
                Path file = REPO.resolve(script);
                if (Files.exists(file) && Files.readString(file).contains(c.text())) {
                    return new ByScript(script, c.text());
                }
            }
        }
        return HOW.get(c.key());
    }

    // ---- the classification is complete and true ----------------------------------------------------------------

    @Test
    void everyDocCommandIsClassifiedAndEveryClaimHolds() throws Exception {
        List<DocCommand> commands = commands();
        assertTrue(commands.size() > 50, "extracted " + commands.size() + " commands");
        List<String> problems = new ArrayList<>();
        Set<String> used = new LinkedHashSet<>();
        int notHere = 0;
        for (DocCommand c : commands) {
            How how = how(c);
            used.add(c.key());
            if (how == null) {
                problems.add(c.doc() + ":" + c.line() + ": '" + c.text() + "' is in no class: add it to DocsCommandsIT.HOW");
            } else if (how instanceof ByTest t) {
                String source = Files.readString(REPO.resolve("src/test/java/dev/clustermaster/it/" + t.test().getSimpleName() + ".java"));
                List<String> lines = t.extracted().call();
                if (lines.stream().noneMatch(l -> l.contains(c.text()))) {
                    problems.add(c.doc() + ":" + c.line() + ": " + t.test().getSimpleName() + " does not run '" + c.text() + "' (it runs " + lines + ")");
                } else if (!source.contains(t.evidence())) {
                    problems.add(c.doc() + ":" + c.line() + ": " + t.test().getSimpleName() + " has no " + t.evidence());
                }
            } else if (how instanceof ByScript s) {
                Path file = REPO.resolve(s.script());
                String script = Files.exists(file) ? Files.readString(file) : "";
                if (!script.contains(s.evidence())) {
                    problems.add(c.doc() + ":" + c.line() + ": '" + c.text() + "': " + s.script() + " does not contain " + s.evidence());
                }
            } else if (how instanceof NotHere n) {
                notHere++;
                if (n.file() != null && !Files.readString(REPO.resolve(n.file())).contains(n.evidence())) {
                    problems.add(c.doc() + ":" + c.line() + ": '" + c.text() + "': " + n.file() + " does not contain " + n.evidence());
                }
            }
        }
        Set<String> stale = new LinkedHashSet<>(HOW.keySet());
        stale.removeAll(used);
        stale.forEach(k -> problems.add("classified but in no doc any more (remove it from HOW): " + k));
        assertEquals(List.of(), problems, String.join("\n", problems));
        assertTrue(notHere <= 8, "keep 'not runnable here' tiny: " + notHere);
        for (Scenario s : Scenario.values()) {
            assertTrue(!sandboxed(s).isEmpty(), "scenario " + s + " runs no doc command");
        }
    }

    @Test
    void anUnclassifiedOrBrokenCommandIsCaught() throws Exception {
        // the classification is by exact text: an edited command is no longer classified and must be looked at again
        assertEquals(null, how(new DocCommand("README.md", 1, "cluster-master ctl statuss")));
        // a sandboxed command that fails, or does not print what the doc says, is caught by the runner
        AssertionError failed = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> runOne(dir, env(), "false", run(Scenario.CONTROL, "")));
        assertTrue(failed.getMessage().contains("exit 1"), failed.getMessage());
        AssertionError silent = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> runOne(dir, env(), "echo hello", run(Scenario.CONTROL, "goodbye")));
        assertTrue(silent.getMessage().contains("goodbye"), silent.getMessage());
    }

    // ---- the sandbox ---------------------------------------------------------------------------------------------

    @TempDir
    Path dir;
    private int port;

    /** The doc commands of a scenario, in doc order. */
    private static List<Map.Entry<DocCommand, Sandbox>> sandboxed(Scenario s) throws IOException {
        List<Map.Entry<DocCommand, Sandbox>> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (DocCommand c : commands()) {
            if (how(c) instanceof Sandbox b && b.scenario() == s && seen.add(c.key())) {
                out.add(Map.entry(c, b));
            }
        }
        return out;
    }

    /** How a doc command becomes a sandbox command: paths and ports of a real host replaced, sudo dropped (tests run as root or as the owner of everything they touch). */
    private String substitutions(String command) throws IOException {
        String jar = System.getProperty("cm.jar");
        String c = command
                .replace("CMD [--size N] [--env K=V]... [-- ARGS]", "sleep --size 2 --env K=V -- 1000")
                .replace("sudo -u nobody ", "setpriv --reuid=nobody --regid=nogroup --clear-groups ")
                .replace("sudo -u cluster-master ", "")
                .replace("sudo ", "")
                .replace("/run/cluster-master/", dir.resolve("run") + "/")
                .replace("/usr/share/cluster-master/cluster-master.jar", jar == null ? "" : jar)
                .replace("/etc/cluster-master/cluster-master.conf", REPO.resolve("packaging/cluster-master.conf").toString())
                .replace("/opt/app/app.jar", dir.resolve("app.jar").toString())
                .replace("127.0.0.1:8080", "127.0.0.1:" + port)
                .replace("127.0.0.1:8081", "127.0.0.1:" + (port + 1))
                .replace("127.0.0.1:9090", "127.0.0.1:" + (port + 1))
                .replace("./demo.sh", "PORT=" + port + " SIZE=2 " + REPO.resolve("demo.sh"));
        // service create/remove: files into the sandbox, no systemctl, an existing user (the doc's adduser is e2e's)
        c = c.replace("service create worker --exec python3 --user worker ", "service create worker --exec python3 --user root ");
        Matcher service = Pattern.compile("^cluster-master service (create|remove) (\\S+)").matcher(c);
        if (service.find()) {
            String places = " --unit-dir " + dir.resolve("units") + " --config-dir " + dir.resolve("conf") + " --no-reload";
            c = service.replaceFirst("$0" + places + (service.group(1).equals("create") && !c.contains("--user") ? " --user root" : ""));
        }
        return c;
    }

    private Map<String, String> env() throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", TestLauncher.install(dir) + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("RUNTIME_DIRECTORY", dir.resolve("run").toString());
        env.put("TMPDIR", dir.toString());
        env.put("CM_LOG_JOURNAL", "off");
        env.put("JOURNAL_STREAM", "");
        env.put("XDG_RUNTIME_DIR", "");
        env.put("CM_PROBATION", "0");   // reloads and restarts of the sandbox's sleeping workers: no need to wait 5 s a slot
        return env;
    }

    private static Process start(Path cwd, Map<String, String> env, String command, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", command).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    private static final java.util.concurrent.atomic.AtomicInteger LOGS = new java.util.concurrent.atomic.AtomicInteger();

    /** Runs one command to its end (RUN) and checks its exit code and output; returns the output. */
    private static String runOne(Path cwd, Map<String, String> env, String command, Sandbox how) throws Exception {
        Path log = Files.createTempFile(cwd, "cmd-" + LOGS.incrementAndGet() + "-", ".log");
        Process p = start(cwd, env, command, log);
        Pattern expect = Pattern.compile(how.expect(), Pattern.MULTILINE);
        try (OutputStream in = p.getOutputStream()) {
            if (how.stdin() != null) {
                in.write(how.stdin().getBytes(StandardCharsets.UTF_8));
                in.flush();
                // interactive: the answer arrives before the session ends
                Wait.until("'" + how.expect() + "' from " + command, T, () -> expect.matcher(read(log)).find() || !p.isAlive());
            }
        }
        if (!p.waitFor(T.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + ": still running after " + T + ":\n" + read(log));
        }
        String out = read(log);
        if (p.exitValue() != how.exit()) {
            throw new AssertionError(command + ": exit " + p.exitValue() + " (the doc means " + how.exit() + "):\n" + out);
        }
        if (!expect.matcher(out).find()) {
            throw new AssertionError(command + ": no '" + how.expect() + "' in its output:\n" + out);
        }
        return out;
    }

    /** A master of the scenario, with its log. */
    private record Master(String command, Process process, Path log) {
    }

    private Master startMaster(Path cwd, Map<String, String> env, String command, Sandbox how) throws IOException {
        Path log = Files.createTempFile(dir, "master-", ".log");
        Process p = start(cwd, env, command, log);
        Pattern expect = Pattern.compile(how.expect(), Pattern.MULTILINE);
        Wait.until("'" + how.expect() + "' from " + command, T, () -> expect.matcher(read(log)).find() || !p.isAlive());
        assertTrue(p.isAlive(), command + " exited " + (p.isAlive() ? "" : p.exitValue()) + ":\n" + read(log));
        return new Master(command, p, log);
    }

    /** A graceful end: the demo's REPL session ends with its stdin, a master quits on SIGTERM; either exits 0. */
    private static void stopMaster(Master m) throws Exception {
        Process p = m.process();
        List<Integer> kids = new ArrayList<>(Procs.liveChildren(p.pid()));
        try {
            p.getOutputStream().close();
            if (!p.waitFor(m.command().contains("demo.sh") ? 30 : 0, TimeUnit.SECONDS)) {
                assertEquals(0, Posix.get().kill((int) p.pid(), 15));
            }
            assertTrue(p.waitFor(T.toSeconds(), TimeUnit.SECONDS), m.command() + ": graceful quit:\n" + read(m.log()));
            assertEquals(0, p.exitValue(), m.command() + ":\n" + read(m.log()));
        } finally {
            if (p.isAlive()) {
                kids.addAll(Procs.liveChildren(p.pid()));
                p.destroyForcibly();
            }
            kids.forEach(pid -> ProcessGroups.signalGroup(pid, 9));
        }
    }

    /** Runs every doc command of the scenario: masters first (they stay up), then the others in doc order. */
    private void runScenario(Scenario s, Path cwd, Map<String, String> env) throws Exception {
        port = Http.freePorts(2);
        env.put("CM_WEBSERVER_PORT", Integer.toString(port + 1));
        List<Map.Entry<DocCommand, Sandbox>> commands = sandboxed(s);
        List<Master> masters = new ArrayList<>();
        try {
            for (Map.Entry<DocCommand, Sandbox> e : commands) {
                if (e.getValue().kind() == Kind.SERVE) {
                    masters.add(startMaster(cwd, env, substitutions(e.getKey().text()), e.getValue()));
                }
            }
            for (Map.Entry<DocCommand, Sandbox> e : commands) {
                DocCommand c = e.getKey();
                Sandbox how = e.getValue();
                String command = substitutions(c.text());
                switch (how.kind()) {
                    case SERVE -> { }
                    case RUN -> runOne(cwd, env, command, how);
                    case START_STOP -> stopMaster(startMaster(cwd, env, command, how));
                    case FOLLOW -> {
                        Process p = start(cwd, env, command, Files.createTempFile(dir, "follow-", ".log"));
                        boolean ended = p.waitFor(2, TimeUnit.SECONDS);
                        assertTrue(!ended, command + " ended by itself: exit " + (ended ? p.exitValue() : 0));
                        p.destroyForcibly().waitFor();
                    }
                }
                System.out.printf("DocsCommandsIT %s %s:%d ran: %s%n", s, c.doc(), c.line(), c.text());
            }
        } finally {
            for (Master m : masters) {
                stopMaster(m);
            }
        }
    }

    @Test
    void controlSurfaceCommandsRunAsShown() throws Exception {
        runScenario(Scenario.CONTROL, dir, env());
    }

    @Test
    void theDemoRunsAsShown() throws Exception {
        String jar = System.getProperty("cm.jar");
        Assumptions.assumeTrue(jar != null && Files.exists(Path.of(jar)), "demo.sh needs the built jar (mvn verify)");
        try (Stream<Path> newer = Stream.concat(Files.walk(REPO.resolve("src")), Stream.of(REPO.resolve("pom.xml")))) {
            long built = Files.getLastModifiedTime(Path.of(jar)).toMillis();
            // demo.sh would run maven itself then: not inside this build
            Assumptions.assumeTrue(newer.noneMatch(p -> p.toFile().lastModified() > built), "sources newer than the jar");
        }
        runScenario(Scenario.DEMO, dir, env());
    }

    @Test
    void javaAppCommandsRunAsShown() throws Exception {
        writeJavaApp();
        runScenario(Scenario.JAVA, dir, env());
    }

    @Test
    void serviceCommandsWriteAndRemoveTheFiles() throws Exception {
        writeJavaApp();
        runScenario(Scenario.SERVICE, dir, env());
    }

    @Test
    void fromACheckoutTheLauncherLinesRun() throws Exception {
        Assumptions.assumeTrue(Files.exists(REPO.resolve("target/cluster-master-0.1.0-all.jar")), "the built jar (mvn verify)");
        Map<String, String> env = env();
        List<Map.Entry<DocCommand, Sandbox>> commands = sandboxed(Scenario.CHECKOUT);
        for (Map.Entry<DocCommand, Sandbox> e : commands) {
            // a launcher prefix: what follows it in the doc is a subcommand; --version shows it starts the jar
            runOne(REPO, env, e.getKey().text() + " --version", e.getValue());
            System.out.printf("DocsCommandsIT CHECKOUT %s:%d ran: %s --version%n", e.getKey().doc(), e.getKey().line(), e.getKey().text());
        }
    }

    @Test
    void journalctlLinesParse() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/journalctl")) || Files.isExecutable(Path.of("/bin/journalctl")),
                "journalctl is not installed");
        runScenario(Scenario.JOURNAL, dir, env());
    }

    private static final Pattern PROPERTIES = Pattern.compile("(?m)^[ \\t]*```properties\\n(.*?)^[ \\t]*```", Pattern.DOTALL);

    /**
     * The conf files of docs/operations.md: the "Configure" one runs here with the Python worker of docs/examples.md it
     * names (its comment says so); the socket activation one is 30-socket-activation.sh's conf under systemd.
     */
    @Test
    void theConfigureExampleServesWithTheExamplesPythonWorker() throws Exception {
        Matcher m = PROPERTIES.matcher(Files.readString(REPO.resolve("docs/operations.md")));
        List<String> confs = new ArrayList<>();
        while (m.find()) {
            confs.add(m.group(1));
        }
        assertEquals(2, confs.size(), "a new conf block of docs/operations.md needs its check here: " + confs);
        String socketActivation = confs.get(1).lines().map(String::strip).filter(l -> !l.isEmpty()).reduce((a, b) -> a + "\n" + b).orElse("");
        assertTrue(Files.readString(REPO.resolve("packaging/e2e/checks/30-socket-activation.sh")).contains(socketActivation.lines().findFirst().orElse("?")),
                "30-socket-activation.sh runs the socket activation conf: " + socketActivation);
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "the conf names /usr/bin/python3");
        port = Http.freePort();
        String conf = confs.get(0);
        assertTrue(conf.contains("exec=/usr/bin/python3 /opt/app/app.py") && conf.contains("listen=tcp://0.0.0.0:8080"), conf);
        Files.writeString(dir.resolve("app.py"), DocsExamplesIT.docFile("app.py"));
        Files.writeString(dir.resolve("app.conf"), conf.replace("/opt/app/app.py", dir.resolve("app.py").toString())
                .replace("tcp://0.0.0.0:8080", "tcp://127.0.0.1:" + port));
        Master master = startMaster(dir, env(), "cluster-master run --config " + dir.resolve("app.conf"),
                sandbox(Scenario.JAVA, Kind.START_STOP, "all 4 workers ready"));
        try {
            assertTrue(Http.get(port, "/").matches("hello from python worker [1-4]\n"), "the doc's conf serves");
        } finally {
            stopMaster(master);
        }
    }

    /** app.jar of the README's Java lines: com.example.Server (a main that idles until SIGTERM), Main-Class set; App.java of the javac line. */
    private void writeJavaApp() throws IOException {
        Path src = Files.createDirectories(dir.resolve("src/com/example")).resolve("Server.java");
        Files.writeString(src, "package com.example;\npublic class Server {\n    public static void main(String[] a) throws Exception {\n"
                + "        Thread.sleep(Long.MAX_VALUE);\n    }\n}\n");
        Path classes = Files.createDirectories(dir.resolve("app-classes"));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, err, err, "-d", classes.toString(), src.toString()), err.toString());
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "com.example.Server");
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(dir.resolve("app.jar")), mf)) {
            jar.putNextEntry(new JarEntry("com/example/Server.class"));
            jar.write(Files.readAllBytes(classes.resolve("com/example/Server.class")));
            jar.closeEntry();
        }
        Files.createDirectories(dir.resolve("lib"));
        Files.writeString(dir.resolve("App.java"), "public class App {\n}\n");
    }
}
