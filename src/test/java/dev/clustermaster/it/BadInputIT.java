package dev.clustermaster.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad worker input through the real CLI in its own JVM: exit 2 at once with one line (problem, cause, fix), never a
 * master that crash-loops while looking alive, never the usage text.
 */
class BadInputIT {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--exec /nonexistent/cm-worker                  | exec: cannot run '/nonexistent/cm-worker': No such file or directory",
        "--exec sleep --env =x                          | env: bad variable name ''",
        "--exec sleep --listen bogus://x                | listen: bad listen address 'bogus://x'",
        "--config /nonexistent/app.conf                 | cannot read config file /nonexistent/app.conf: No such file or directory",
        "--exec sleep --repl-group cm-no-such-group     | repl.group: no group 'cm-no-such-group' on this host; fix --repl-group",
        "--exec sleep --bogus                           | Unknown option: '--bogus'"})
    void exitsTwoWithOneLine(String options, String expected) throws Exception {
        List<String> args = new ArrayList<>(List.of(options.trim().split(" +")));
        args.addAll(List.of("--repl", "false", "--runtime-dir", dir.resolve("run").toString()));
        try (MasterProcess m = MasterProcess.start(dir, List.of(), args.toArray(String[]::new))) {
            assertEquals(2, m.waitForExit(Duration.ofSeconds(60)), m.output());
            List<String> lines = m.output().lines().filter(l -> !l.isBlank()).toList();
            assertTrue(lines.get(0).contains(expected), m.output());
            boolean syntax = options.contains("--bogus");
            assertEquals(syntax ? 2 : 1, lines.size(), "one line (and 'try --help' for a syntax error):\n" + m.output());
            assertTrue(m.output().lines().noneMatch(l -> l.startsWith("Usage:")), m.output());
        }
    }

    @Test
    void aRuntimeDirectoryThatCannotBeMadeIsNamedWithItsCauseAndFix() throws Exception {
        java.nio.file.Files.writeString(dir.resolve("file"), "");
        String runtime = dir.resolve("file/run").toString();   // under a regular file: not even root can make it
        try (MasterProcess m = MasterProcess.start(dir, List.of(),
                "--exec", "sleep", "--repl", "false", "--runtime-dir", runtime, "--", "600")) {
            assertEquals(1, m.waitForExit(Duration.ofSeconds(60)), m.output());
            List<String> errors = m.output().lines().filter(l -> l.contains("ERROR")).toList();
            assertEquals(1, errors.size(), m.output());
            assertTrue(errors.get(0).contains("cannot create runtime directory " + runtime + ": " + dir.resolve("file")
                    + " is not a directory; create it for this user or choose a writable one (runtime.dir"), m.output());
        }
    }
}
