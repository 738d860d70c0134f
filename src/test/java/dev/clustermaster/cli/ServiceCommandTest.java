package dev.clustermaster.cli;

import dev.clustermaster.config.Config;
import dev.clustermaster.config.ConfigLoader;
import dev.clustermaster.core.Backoff;
import dev.clustermaster.core.Policy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceCommandTest {
    @TempDir
    Path dir;

    private int run(StringWriter err, String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private String[] create(String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("service", "create", "app", "--unit-dir", dir.resolve("units").toString(),
                "--config-dir", dir.resolve("conf").toString(), "--no-reload"));
        if (!List.of(extra).contains("--user")) {
            args.addAll(List.of("--user", "root"));
        }
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void createWritesAUnitNamedAfterTheAppAndAConfigThatRunReadsBack() throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, create("--exec", "python3", "--size", "3", "-e", "GREETING=a \\b", "--repl-group", "adm",
                "--ready", "grace", "--", "-m", "http.server", "--bind", "127.0.0.1")), err.toString());
        Path conf = dir.resolve("conf/app.conf");
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(conf)));
        Config c = new ConfigLoader().load(conf, Map.of(), Map.of("runtime.dir", dir.toString())).build();
        assertEquals("app", c.name());
        assertEquals(List.of("python3", "-m", "http.server", "--bind", "127.0.0.1"), c.workerArgv());
        assertEquals(3, c.size());
        assertEquals("a \\b", c.env().get("GREETING"));
        String unit = Files.readString(dir.resolve("units/app.service"));
        for (String line : List.of("ExecStart=/usr/bin/cluster-master run --config " + conf, "RuntimeDirectory=app", "CacheDirectory=app\nCacheDirectoryMode=0700",
                "RestartPreventExitStatus=2", "User=root", "Group=root", "SupplementaryGroups=adm", "Type=notify",
                "ExecReload=/bin/sh -c '/usr/bin/cluster-master ctl --name app reload;")) {
            assertTrue(unit.contains("\n" + line), line + " in\n" + unit);
        }
        // exists: refused without --force, nothing changed
        assertEquals(2, run(err, create("--exec", "true")));
        assertEquals(3, new ConfigLoader().load(conf, Map.of(), Map.of("runtime.dir", dir.toString())).build().size());
        assertEquals(0, run(err, create("--exec", "true", "--force")));
        assertEquals(0, run(err, "service", "remove", "app", "--unit-dir", dir.resolve("units").toString(),
                "--config-dir", dir.resolve("conf").toString(), "--no-reload", "--purge"));
        assertFalse(Files.exists(dir.resolve("units/app.service")) || Files.exists(conf));
    }

    @Test
    void relativeConfigAndWorkDirsBecomeAbsoluteInTheUnit() throws Exception {
        Path cwd = Path.of("").toAbsolutePath();
        String relConf = cwd.relativize(dir.resolve("conf")).toString();
        String relWork = cwd.relativize(dir.resolve("work")).toString();
        assertTrue(!Path.of(relConf).isAbsolute() && !Path.of(relWork).isAbsolute());
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "service", "create", "app", "--unit-dir", dir.resolve("units").toString(),
                "--config-dir", relConf, "--workdir", relWork, "--no-reload", "--user", "root", "--exec", "true"), err.toString());
        String unit = Files.readString(dir.resolve("units/app.service"));
        assertTrue(unit.contains("\nExecStart=/usr/bin/cluster-master run --config " + dir.resolve("conf/app.conf") + "\n"), unit);
        assertTrue(unit.contains("\nWorkingDirectory=" + dir.resolve("work") + "\n"), unit);
        assertTrue(Files.exists(dir.resolve("conf/app.conf")));
    }

    @Test
    void badSettingsWriteNothing() {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, create("--exec", "true", "--size", "-3")));
        assertEquals(2, run(err, create("--exec", "true", "--user", "no-such-user-xyz")));
        assertTrue(err.toString().contains("adduser --system --group no-such-user-xyz"), "[" + err + "]");
        assertFalse(Files.exists(dir.resolve("units")) || Files.exists(dir.resolve("conf")));
    }

    @Test
    void restartBudgetCoversEveryRoundOfTheRollingRestart() {
        Policy p = new Policy(true, 1_000, 60_000, 10_000, 2, new Backoff(500, 30_000), 10_000);
        // 5 workers, 2 at a time: 3 rounds of (ready timeout + spawn), then the stop timeout, plus slack
        assertEquals(3 * (65_000 + p.probationMillis()) + 10_000 + 10_000, p.restartBudgetMillis(5));
        assertTrue(p.restartBudgetMillis(4) > 30_000, "more than the old fixed 30 s");
    }
}
