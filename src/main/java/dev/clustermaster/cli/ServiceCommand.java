package dev.clustermaster.cli;

import dev.clustermaster.config.ConfigException;
import dev.clustermaster.config.ConfigLoader;
import dev.clustermaster.os.Users;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code cluster-master service create|remove APP}: an app of its own under systemd, named APP everywhere. */
@Command(name = "service", mixinStandardHelpOptions = true,
        description = {"Make (or remove) a systemd service named after your app: /etc/systemd/system/APP.service and "
                + "/etc/cluster-master/APP.conf.",
                "Then: systemctl enable --now APP; systemctl reload APP; journalctl -u APP; cluster-master ctl APP status; "
                        + "socat - UNIX-CONNECT:/run/APP/cluster-master.sock."},
        subcommands = {ServiceCommand.Create.class, ServiceCommand.Remove.class})
public final class ServiceCommand implements Runnable {
    static final String DEFAULT_USER = "cluster-master";
    static final String LAUNCHER = "/usr/bin/cluster-master";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: create or remove");
    }

    /** Options shared by create and remove: where the files go (tests point them elsewhere). */
    static final class Places {
        @Option(names = "--unit-dir", paramLabel = "DIR", defaultValue = "/etc/systemd/system", description = "Where the unit goes (default: ${DEFAULT-VALUE}).")
        Path unitDir;

        @Option(names = "--config-dir", paramLabel = "DIR", defaultValue = "/etc/cluster-master", description = "Where the config goes (default: ${DEFAULT-VALUE}).")
        Path configDir;

        @Option(names = "--no-reload", description = "Do not run systemctl daemon-reload (nor enable/disable).")
        boolean noReload;
    }

    @Command(name = "create",
            description = {"Write APP.service and APP.conf from the same options as 'run'. For example:",
                    "  cluster-master service create app --jar /opt/app/app.jar --size 2",
                    "  cluster-master service create api --exec python3 --user api -- /srv/api.py",
                    "The first positional argument is APP (letters, digits, '.', '_', '-'); arguments after -- go to each "
                            + "worker. The config is written root:GROUP 0640, readable by the service and nobody else. "
                            + "Exit codes: 0 written, 1 cannot write, 2 bad option or setting (nothing written)."})
    static final class Create implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        /** Every 'run' option; APP arrives as the first of its positional ARGS. */
        @Mixin
        RunCommand run;

        @Mixin
        Places places;

        @Option(names = "--user", paramLabel = "USER", defaultValue = DEFAULT_USER,
                description = "System user the service runs as; must exist (adduser --system --group USER). Default: ${DEFAULT-VALUE}.")
        String user;

        @Option(names = "--group", paramLabel = "GROUP", description = "Its group (default: the user's primary group).")
        String group;

        @Option(names = "--workdir", paramLabel = "DIR", description = "Working directory of master and workers (default: /var/lib/APP).")
        String workDir;

        @Option(names = "--force", description = "Replace an existing APP.service / APP.conf.")
        boolean force;

        @Option(names = "--now", description = "Also enable and start it (systemctl enable --now APP).")
        boolean now;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            List<String> positional = run.args == null ? List.of() : new ArrayList<>(run.args);
            if (positional.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "missing APP: service create APP --exec CMD | --main CLASS | --jar JAR ...");
            }
            String app = positional.remove(0);
            run.args = positional;
            if (!app.matches("[A-Za-z0-9_.-]{1,64}") || app.equals(".") || app.equals("..")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "APP '" + app + "': use 1-64 letters, digits, '.', '_', '-'");
            }
            if (run.configFile != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "service create writes its own config: give the settings as options, not --config");
            }
            if (run.name != null && !run.name.equals(app)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--name " + run.name + " differs from APP " + app + ": leave --name out");
            }
            Map<String, String> settings = new LinkedHashMap<>();
            settings.put("name", app);
            String groupName;
            try {
                settings.putAll(run.settings());
                groupName = group != null ? group : primaryGroup(user);
            } catch (ConfigException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            String replGroup = settings.get("repl.group");
            try {
                // validates every value as 'run' would; runtime.dir given so nothing is created under /run now
                Map<String, String> check = new LinkedHashMap<>(settings);
                check.put("runtime.dir", places.configDir.toString());
                new ConfigLoader().load(null, Map.of(), check).build();
            } catch (ConfigException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            Path unit = places.unitDir.resolve(app + ".service");
            // ExecStart names the conf: a relative path would be resolved against the service's working directory
            Path conf = places.configDir.toAbsolutePath().normalize().resolve(app + ".conf");
            String dir = workDir == null ? null : Path.of(workDir).toAbsolutePath().normalize().toString();
            if (!force && (Files.exists(unit) || Files.exists(conf))) {
                throw new CommandLine.ParameterException(spec.commandLine(), (Files.exists(unit) ? unit : conf)
                        + " exists: edit it, or give --force to replace it (service remove " + app + " removes both)");
            }
            Files.createDirectories(conf.getParent());
            writeAtomically(conf, ServiceUnit.config(app, settings), "rw-r-----", groupName);
            Files.createDirectories(places.unitDir);
            writeAtomically(unit, ServiceUnit.unit(app, user, groupName,
                    replGroup != null && !replGroup.equals(groupName) ? replGroup : null, dir, conf.toString(), LAUNCHER), "rw-r--r--", null);
            out.println("wrote " + unit + " and " + conf + " (root:" + groupName + " 0640)");
            if (!places.noReload && systemdRunning()) {
                systemctl("daemon-reload");
                if (now) {
                    systemctl("enable", "--now", app + ".service");
                    out.println("enabled and started " + app + ".service");
                }
            }
            if (!now) {
                out.println("start it:  systemctl enable --now " + app);
            }
            out.println("then:      systemctl reload " + app + " | journalctl -u " + app + " | cluster-master ctl " + app + " status");
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Stop and disable APP.service and delete it; --purge also deletes APP.conf.")
    static final class Remove implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "APP")
        String app;

        @Mixin
        Places places;

        @Option(names = "--purge", description = "Delete the config file too.")
        boolean purge;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            Path unit = places.unitDir.resolve(app + ".service");
            Path conf = places.configDir.resolve(app + ".conf");
            if (!Files.exists(unit)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "no " + unit + " (made by service create " + app + ")");
            }
            if (!places.noReload && systemdRunning()) {
                systemctl("disable", "--now", app + ".service");
            }
            Files.delete(unit);
            out.println("removed " + unit);
            if (purge && Files.deleteIfExists(conf)) {
                out.println("removed " + conf);
            }
            if (!places.noReload && systemdRunning()) {
                systemctl("daemon-reload");
            }
            return 0;
        }
    }

    static String primaryGroup(String user) {
        return Users.primaryGroupName(user).orElseThrow(() -> new ConfigException("user '" + user
                + "' does not exist: create it (adduser --system --group " + user + ") or pick another --user"));
    }

    private static void writeAtomically(Path target, String text, String mode, String group) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(mode));
            if (group != null) {
                Files.getFileAttributeView(tmp, java.nio.file.attribute.PosixFileAttributeView.class)
                        .setGroup(FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(group));
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static boolean systemdRunning() {
        return Files.isDirectory(Path.of("/run/systemd/system"));
    }

    private static void systemctl(String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("systemctl"));
        argv.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(argv).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", argv) + " failed (exit " + p.exitValue() + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", argv) + " interrupted");
        }
    }
}
