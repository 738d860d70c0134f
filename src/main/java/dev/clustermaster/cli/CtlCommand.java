package dev.clustermaster.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code cluster-master ctl [APP] <command...>}: sends one command to a running master over its control socket in
 * JSON mode and prints the answer ({@link CtlClient}; the launcher starts {@link CtlMain}, which reads the common
 * command lines without picocli and hands the others to this class). Exit codes: 0 ok, 1 command failed or timed out, 2 usage error, 3 cannot
 * connect, 4 access denied.
 */
@Command(name = "ctl",
        description = {"Send one command to a running master's control socket and print the answer.",
                "  cluster-master ctl app status    (the master named app)",
                "Commands are the REPL's: help, status, size, workers, pids, ages, states, select <field>, resize <n>, "
                        + "restart, reload, upgrade, stop, kill, signal <slot|all> <SIG>, loglevel <level>, debug <msg>, "
                        + "connections, sock.",
                "upgrade moves the master to new code (after a package upgrade): a new master takes over the listening "
                        + "sockets and the control socket once its workers are ready, then the old workers drain.",
                "restart, reload and upgrade wait as long as the rolling restart takes (the master bounds it from its "
                        + "size, surge, ready.timeout and stop.timeout)."},
        mixinStandardHelpOptions = true,
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:the command failed or timed out", "2:usage error", "3:cannot connect to the master",
                "4:access denied (not root, the master's user or in its group: see repl.group)"})
public final class CtlCommand implements Callable<Integer> {

    public static final int EXIT_OK = CtlClient.EXIT_OK;
    public static final int EXIT_FAILED = CtlClient.EXIT_FAILED;
    public static final int EXIT_USAGE = CtlClient.EXIT_USAGE;
    public static final int EXIT_CANNOT_CONNECT = CtlClient.EXIT_CANNOT_CONNECT;
    public static final int EXIT_ACCESS_DENIED = CtlClient.EXIT_ACCESS_DENIED;

    @Option(names = "--socket", paramLabel = "PATH",
            description = "Control socket (default: $CLUSTER_MASTER_REPL, else the named master's, found as it chose it: "
                    + "$RUNTIME_DIRECTORY, /run/APP, $XDG_RUNTIME_DIR/APP, a per-user temp dir).")
    Path socket;

    @Option(names = "--name", paramLabel = "APP",
            description = "Application name (or give it before the command: ctl APP status); the socket is "
                    + "/run/APP/cluster-master.sock (default: cluster-master).")
    String name;

    @Option(names = "--json", description = "Print the raw JSON answer.")
    boolean json;

    @Option(names = "--timeout", paramLabel = "SECONDS",
            description = "Give up waiting for the answer after this long (default: 90, none for restart and reload).")
    Long timeoutSeconds;

    @Parameters(paramLabel = "COMMAND", arity = "1..*", description = "Command and its arguments, e.g. 'resize 4'.")
    List<String> words;

    @Spec
    CommandSpec spec;

    private final Map<String, String> environment;

    public CtlCommand() {
        this(System.getenv());
    }

    /** For tests: a fixed environment instead of the process's. */
    public CtlCommand(Map<String, String> environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() {
        return new CtlClient(environment).run(new CtlClient.Request(socket, name, json, timeoutSeconds, words),
                spec.commandLine().getOut(), spec.commandLine().getErr());
    }
}
