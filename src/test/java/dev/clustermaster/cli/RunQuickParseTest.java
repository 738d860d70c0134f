package dev.clustermaster.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The master's command line read without picocli means what picocli reads, or is left to picocli. */
class RunQuickParseTest {

    private static Map<String, Object> picocli(List<String> args) {
        CommandLine cl = new CommandLine(new RunCommand());
        cl.parseArgs(args.toArray(String[]::new));
        return reading(cl.getCommand());
    }

    private static Map<String, Object> reading(RunCommand c) {
        return Map.of("settings", c.settings(), "config", String.valueOf(c.configFile));
    }

    private static void agrees(List<String> args) {
        RunCommand quick = RunCommand.quickParse(args);
        assertNotNull(quick, "read without picocli: " + args);
        assertEquals(picocli(args), reading(quick), String.join(" ", args));
    }

    private static List<OptionSpec> options() {
        return new CommandLine(new RunCommand()).getCommandSpec().options().stream()
                .filter(o -> !o.usageHelp() && !o.versionHelp()).toList();
    }

    @Test
    void everyOptionPicocliKnowsIsReadTheSameWay() {
        List<String> all = new ArrayList<>();
        for (OptionSpec o : options()) {
            for (String name : o.names()) {
                String value = o.arity().max() == 0 ? null : "v" + name.replace("-", "") + "=x";
                List<String> spaced = value == null ? List.of(name) : List.of(name, value);
                agrees(spaced);
                if (value != null && name.startsWith("--")) {
                    agrees(List.of(name + "=" + value));
                }
                if (o.isMultiValue()) {
                    List<String> twice = new ArrayList<>(spaced);
                    twice.addAll(spaced);
                    agrees(twice);
                }
            }
            all.add(o.longestName());
            if (o.arity().max() > 0) {
                all.add(o.longestName().replace("-", "") + "=1");
            }
        }
        all.addAll(List.of("--", "a", "--b", "-c", "--"));
        agrees(all);
    }

    @Test
    void theUsualCommandLines() {
        agrees(List.of("--exec", "sleep", "--size", "4", "--ready-grace", "0", "--repl", "/tmp/x.sock", "--", "100000"));
        agrees(List.of("--main", "com.example.App", "--jvm-arg", "-Xmx64m", "--jvm-arg=-Dx=y", "-n", "2", "-e", "A=b",
                "--listen", "tcp://127.0.0.1:8080", "--silent", "arg1", "--", "--not-an-option", "-n"));
        agrees(List.of("--config", "/etc/app.conf"));
        agrees(List.of("--exec", "sleep", "--size", "-1"));        // a value may start with '-'
        agrees(List.of("--exec", "sleep", "--env", "-x=1"));
        agrees(List.of());
    }

    @Test
    void everythingElseIsLeftToPicocli() {
        for (List<String> args : List.of(List.of("--help"), List.of("-h"), List.of("-V"), List.of("--version"),
                List.of("--exec", "sleep", "--bogus"), List.of("-x"), List.of("--size", "1", "--size", "2"),
                List.of("--silent", "--silent"), List.of("--silent=true"), List.of("--size"), List.of("-n4"),
                List.of("-e=A=b"), List.of("--name", "--size", "2"), List.of("--name", "-n4"),
                List.of("--name", "--"), List.of("--name", "--size=2"), List.of("@args.txt"),
                List.of("--exec", "sleep", "--", "@args.txt"), List.of("--config", "a\0b"))) {
            assertNull(RunCommand.quickParse(args), String.join(" ", args));
        }
    }
}
