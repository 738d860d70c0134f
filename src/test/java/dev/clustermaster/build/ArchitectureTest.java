package dev.clustermaster.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering rules of the brief, read from the main sources (imports and fully qualified names in code; comments
 * and string literals do not count):
 * <ul>
 * <li>core uses only java.* and nothing of I/O, threads or clocks (events in, actions out);
 * <li>os depends on no control, runtime, config, cli or demo code;
 * <li>only os makes native calls (jnr, com.kenai, sun.misc, jdk.internal), and the worker's transport classes;
 * <li>worker uses only java.* outside its transport classes (*Transport*), so a worker JVM needs no library;
 * <li>no cycles between packages.
 * </ul>
 */
class ArchitectureTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/clustermaster");
    private static final String NATIVE = "(jnr|com\\.kenai|sun\\.misc|jdk\\.internal)\\.";

    @Test
    void coreIsPureJava() {
        List<String> bad = new ArrayList<>();
        for (Source s : sources("core")) {
            s.references().stream().filter(r -> !r.startsWith("java.") && !r.startsWith("dev.clustermaster.core."))
                    .forEach(r -> bad.add(s.name + ": " + r));
            Matcher m = Pattern.compile("\\b(java\\.(io|nio|net)\\.|java\\.util\\.concurrent\\b|Thread\\b"
                    + "|System\\.(currentTimeMillis|nanoTime)|\\w+\\.now\\(|new Random\\b)").matcher(s.code);
            while (m.find()) {
                bad.add(s.name + ": " + m.group() + " (no I/O, threads or clock reads in core)");
            }
        }
        assertEquals(List.of(), bad);
    }

    @Test
    void osDependsOnNoUpperLayer() {
        assertEquals(List.of(), violations("os", r -> r.matches("dev\\.clustermaster\\.(control|runtime|config|cli|demo)\\..*")));
    }

    @Test
    void onlyOsMakesNativeCalls() {
        List<String> bad = new ArrayList<>();
        for (String pkg : packageDependencies().keySet()) {
            if (!pkg.equals("os") && !pkg.equals("worker")) {   // worker: see workerUsesOnlyTheJdkOutsideItsTransport
                bad.addAll(violations(pkg, r -> r.matches(NATIVE + ".*")));
            }
        }
        assertEquals(List.of(), bad);
    }

    @Test
    void workerUsesOnlyTheJdkOutsideItsTransport() {
        List<String> bad = new ArrayList<>();
        for (Source s : sources("worker")) {
            if (!s.name.contains("Transport")) {
                s.references().stream().filter(r -> !r.startsWith("java.") && !r.startsWith("dev.clustermaster.worker."))
                        .forEach(r -> bad.add(s.name + ": " + r));
            }
        }
        assertEquals(List.of(), bad);
    }

    @Test
    void noPackageCycles() {
        Map<String, Set<String>> deps = packageDependencies();
        List<String> cycles = new ArrayList<>();
        for (String start : deps.keySet()) {
            List<String> path = cycleThrough(start, deps);
            if (path != null && start.equals(path.stream().min(String::compareTo).get())) {
                cycles.add(String.join(" -> ", path) + " -> " + start);   // reported once, from its smallest name
            }
        }
        assertEquals(List.of(), cycles, "package dependencies: " + deps);
    }

    /**
     * Signal numbers are the os edge's: elsewhere no SIG constant holds a number, and core types no signal as an int
     * (it speaks of {@code core.Signal}; os/Signals maps both ways).
     */
    @Test
    void signalNumbersStayAtTheOsEdge() {
        List<String> bad = new ArrayList<>();
        for (String pkg : packageDependencies().keySet()) {
            if (pkg.equals("os")) {
                continue;
            }
            for (Source s : sources(pkg)) {
                bad.addAll(s.find(SIGNAL_CONSTANT));
                if (pkg.equals("core")) {
                    bad.addAll(s.find(INT_SIGNAL));
                }
            }
        }
        assertEquals(List.of(), bad);
        assertEquals(List.of("core/X.java: int SIGKILL =", "core/X.java: int stopSignal"), new Source("core/X.java",
                "class X { static final int SIGKILL = 9; Signal kill; void f(int stopSignal) {} } // int signal").find(
                SIGNAL_CONSTANT, INT_SIGNAL));
    }

    private static final Pattern SIGNAL_CONSTANT = Pattern.compile("\\bint\\s+SIG[A-Z0-9_]+\\s*=");
    private static final Pattern INT_SIGNAL = Pattern.compile("\\bint\\s+\\w*(?:signal|Signal)\\w*");

    /** The rules catch what they should: a native import in control, a cycle, a stray type in core. */
    @Test
    void theRulesSeeImportsQualifiedNamesAndCycles() {
        Source s = new Source("control/X.java", "package dev.clustermaster.control;\n"
                + "import jnr.posix.POSIX; // jnr.ignored in a comment\n"
                + "class X { String a = \"sun.misc.Signal\"; void f() { jnr.enxio.channels.Native.shutdown(1, 2); } }");
        assertEquals(Set.of("jnr.posix.POSIX", "jnr.enxio.channels.Native.shutdown"), s.references());
        assertEquals(List.of("a", "b"), cycleThrough("a", Map.of("a", Set.of("b"), "b", Set.of("a"))));
        assertEquals(null, cycleThrough("a", Map.of("a", Set.of("b"), "b", Set.of())));
    }

    // ---- reading the sources -------------------------------------------------------------------------------------

    private static List<String> violations(String pkg, java.util.function.Predicate<String> forbidden) {
        List<String> bad = new ArrayList<>();
        for (Source s : sources(pkg)) {
            for (String r : s.references()) {
                if (forbidden.test(r)) {
                    bad.add(s.name + ": " + r);
                }
            }
        }
        return bad;
    }

    private static Map<String, Set<String>> packageDependencies() {
        Map<String, Set<String>> deps = new TreeMap<>();
        try (Stream<Path> dirs = Files.list(SOURCES)) {
            for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                String pkg = dir.getFileName().toString();
                Set<String> to = new TreeSet<>();
                for (Source s : sources(pkg)) {
                    for (String r : s.references()) {
                        Matcher m = Pattern.compile("dev\\.clustermaster\\.(\\w+)\\..*").matcher(r);
                        if (m.matches() && !m.group(1).equals(pkg)) {
                            to.add(m.group(1));
                        }
                    }
                }
                deps.put(pkg, to);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertTrue(deps.containsKey("core") && deps.containsKey("os"), "sources found under " + SOURCES.toAbsolutePath());
        return deps;
    }

    /** A dependency path from start back to start (without repeating start at the end), or null. */
    static List<String> cycleThrough(String start, Map<String, Set<String>> deps) {
        return search(start, start, deps, new ArrayList<>(List.of(start)), new TreeSet<>());
    }

    private static List<String> search(String start, String at, Map<String, Set<String>> deps, List<String> path,
                                       Set<String> visited) {
        for (String next : deps.getOrDefault(at, Set.of())) {
            if (next.equals(start)) {
                return path;
            }
            if (visited.add(next)) {
                path.add(next);
                List<String> found = search(start, next, deps, path, visited);
                if (found != null) {
                    return found;
                }
                path.remove(path.size() - 1);
            }
        }
        return null;
    }

    private static List<Source> sources(String pkg) {
        try (Stream<Path> files = Files.walk(SOURCES.resolve(pkg))) {
            List<Source> out = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                out.add(new Source(SOURCES.relativize(f).toString(), Files.readString(f)));
            }
            assertTrue(!out.isEmpty(), "no sources in " + SOURCES.resolve(pkg).toAbsolutePath());
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class Source {
        private static final Pattern COMMENTS_AND_LITERALS = Pattern.compile(
                "//[^\\n]*|/\\*.*?\\*/|\"\"\".*?\"\"\"|\"(\\\\.|[^\"\\\\\\n])*\"|'(\\\\.|[^'\\\\\\n])+'", Pattern.DOTALL);
        private static final Pattern IMPORT = Pattern.compile("(?m)^\\s*import\\s+(?:static\\s+)?([\\w.]+)(?:\\.\\*)?\\s*;");
        /** A qualified name in code: lower-case segments, then a type (Upper-case) and whatever member follows. */
        private static final Pattern QUALIFIED = Pattern.compile("(?<![\\w.])((?:[a-z_][\\w]*\\.)+[A-Z]\\w*(?:\\.\\w+)*)");

        final String name;
        final String code;

        Source(String name, String text) {
            this.name = name;
            this.code = COMMENTS_AND_LITERALS.matcher(text).replaceAll(" ");
        }

        /** Each match of the patterns in code (not in comments or literals), as "file: match". */
        List<String> find(Pattern... patterns) {
            List<String> out = new ArrayList<>();
            for (Pattern p : patterns) {
                Matcher m = p.matcher(code);
                while (m.find()) {
                    out.add(name + ": " + m.group());
                }
            }
            return out;
        }

        /** Imported and fully qualified names (java.*, libraries, other packages of this project). */
        Set<String> references() {
            Set<String> out = new TreeSet<>();
            Matcher i = IMPORT.matcher(code);
            while (i.find()) {
                out.add(i.group(1));
            }
            String body = IMPORT.matcher(code).replaceAll(" ").replaceFirst("(?m)^\\s*package\\s+[\\w.]+\\s*;", " ");
            Matcher q = QUALIFIED.matcher(body);
            while (q.find()) {
                String r = q.group(1);
                if (r.matches("(java|javax|jdk|sun|jnr|com|org|ch|picocli|dev)\\..*")) {
                    out.add(r);
                }
            }
            return out.stream().collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
