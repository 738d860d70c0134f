package dev.clustermaster.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad command lines fail fast with a clear message and exit code 2, before anything is started. */
class MainTest {

    private record Result(int code, String err) {}

    private static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        cl.setOut(new PrintWriter(new StringWriter()));
        return new Result(cl.execute(args), err.toString());
    }

    @Test
    void unknownOptionIsAUsageError() {
        Result r = run("run", "--exec", "sleep", "--bogus");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Unknown option: '--bogus'"), r.err());
    }

    @Test
    void missingExecIsAUsageError() {
        Result r = run("run", "--size", "2");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing worker: give --exec CMD, --main CLASS or --jar JAR (exec=, main=, jar= in a config file)"), r.err());
    }

    @Test
    void negativeSizeIsAUsageError() {
        Result r = run("run", "--exec", "sleep", "--size", "-1");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("size: expected a whole number >= 0, got '-1'"), r.err());
    }

    @Test
    void noCommandIsAUsageError() {
        assertEquals(2, run().code());
    }

    @Test
    void helpAndVersionSucceed() {
        assertEquals(0, run("--help").code());
        assertEquals(0, run("run", "--help").code());
        assertEquals(0, run("--version").code());
    }

    // ---- issue 12 item 6 / issue 8 item 5: one line naming the problem, its cause and the fix; exit 2; no usage

    @TempDir
    Path tmp;

    private static void assertOneLine(Result r, String... parts) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), "one line, no usage text:\n" + r.err());
        for (String part : parts) {
            assertTrue(r.err().contains(part), "'" + part + "' in: " + r.err());
        }
    }

    @Test
    void aMalformedEnvIsOneLineNamingTheFix() {
        Result r = run("run", "--exec", "sleep", "--env", "BAD");
        assertOneLine(r, "--env 'BAD': no '=': give --env NAME=VALUE, e.g. --env APP_MODE=production");
        assertTrue(!r.err().contains("option option"), r.err());
    }

    @Test
    void aNonexistentExecutableIsRefusedWithTheErrnoText() {
        assertOneLine(run("run", "--exec", "/nonexistent/cm-worker", "--repl", "false"),
                "exec: cannot run '/nonexistent/cm-worker': No such file or directory", "--exec");
    }

    @Test
    void aCommandMissingFromTheWorkersPathIsRefused() {
        // the PATH the workers get (here from --env) is where the name is searched, as execvp does
        assertOneLine(run("run", "--exec", "sleep", "--env", "PATH=" + tmp, "--repl", "false"),
                "exec: cannot run 'sleep': No such file or directory", "searched PATH=" + tmp, "--env PATH=");
    }

    @Test
    void aFileWithoutExecutePermissionOrADirectoryIsRefused() throws Exception {
        Path script = Files.writeString(tmp.resolve("worker.sh"), "#!/bin/sh\nsleep 1000\n");
        assertOneLine(run("run", "--exec", script.toString(), "--repl", "false"), "Permission denied");
        assertOneLine(run("run", "--exec", tmp.toString(), "--repl", "false"), "Is a directory");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertOneLine(run("run", "--exec", script.toString(), "--size", "-1"), "size:");  // the path itself passed
    }

    @Test
    void aMalformedEnvironmentVariableIsRefused() {
        assertOneLine(run("run", "--exec", "sleep", "--env", "=x", "--repl", "false"),
                "env: bad variable name ''", "--env NAME=VALUE");
    }

    @Test
    void aMalformedListenAddressIsRefused() {
        assertOneLine(run("run", "--exec", "sleep", "--listen", "bogus://x", "--repl", "false"),
                "listen: bad listen address 'bogus://x'", "tcp://HOST:PORT", "--listen");
    }

    @Test
    void aMissingOrUnreadableConfigFileIsRefusedWithTheReason() {
        Path missing = tmp.resolve("missing.conf");
        assertOneLine(run("run", "--config", missing.toString()),
                "cannot read config file " + missing + ": No such file or directory", "--config");
        assertOneLine(run("run", "--config", tmp.toString()),
                "cannot read config file " + tmp + ": Is a directory");
    }

    @Test
    void aConfigTypoIsOneLine() throws Exception {
        Path conf = Files.writeString(tmp.resolve("app.conf"), "exec=sleep\nsizee=2\n");
        assertOneLine(run("run", "--config", conf.toString()), "unknown setting 'sizee' in " + conf);
    }

    @Test
    void aCommandLineSyntaxErrorIsOneLinePlusWhereToLook() {
        Result r = run("run", "--exec", "sleep", "--bogus");
        assertEquals(2, r.code());
        assertEquals(List.of("cluster-master: Unknown option: '--bogus'", "try 'cluster-master run --help'"),
                r.err().lines().toList());
    }

    @Test
    void helpStillPrintsTheUsage() {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("run", "--help"));
        assertTrue(out.toString().contains("Usage: cluster-master run"), out.toString());
    }
}
