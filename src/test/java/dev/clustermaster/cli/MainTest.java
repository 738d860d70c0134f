package dev.clustermaster.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

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
        assertTrue(r.err().contains("missing worker: give --exec CMD or --main CLASS"), r.err());
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
}
