package dev.clustermaster.cli;

import dev.clustermaster.config.RuntimeDirs;
import dev.clustermaster.control.CommandLineParser;
import dev.clustermaster.control.CommandSyntaxException;
import dev.clustermaster.control.CommandTree;
import dev.clustermaster.control.ControlClient;
import dev.clustermaster.control.ControlServerOptions;
import dev.clustermaster.control.ParsedCommand;
import dev.clustermaster.control.ProcessStatsSource;
import dev.clustermaster.control.Reply;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code cluster-master ctl [APP] <command...>}: sends one command to a running master over its control socket in
 * JSON mode and prints the answer. Exit codes: 0 ok, 1 command failed or timed out, 2 usage error, 3 cannot
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

    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_CANNOT_CONNECT = 3;
    public static final int EXIT_ACCESS_DENIED = 4;
    /** Commands that last as long as a rolling restart: no client-side limit unless --timeout says so. */
    private static final java.util.Set<String> LONG_COMMANDS = java.util.Set.of("restart", "reload", "upgrade");

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
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> request = words;
        boolean jsonOutput = json;
        String app = name;
        if (app == null && request.size() > 1 && !isCommand(request.get(0)) && !request.get(0).equalsIgnoreCase("json")) {
            app = request.get(0); // ctl APP COMMAND...
            request = request.subList(1, request.size());
        }
        if (request.get(0).equalsIgnoreCase("json")) {
            jsonOutput = true;
            request = request.subList(1, request.size());
            if (request.isEmpty()) {
                err.println("ctl: json needs a command, e.g. 'ctl json workers'");
                return EXIT_USAGE;
            }
        }
        ParsedCommand command;
        try {
            command = CommandLineParser.parse(toLine(request));
        } catch (CommandSyntaxException e) {
            err.println("ctl: " + e.getMessage());
            return EXIT_USAGE;
        }
        if (command.isBlank() || !isCommand(command.name())) {
            err.println("ctl: unknown command '" + command.name() + "' (try 'ctl help')");
            return EXIT_USAGE;
        }
        Path path = socketPath(app);
        Duration timeout = timeoutSeconds != null ? Duration.ofSeconds(Math.max(1, timeoutSeconds))
                : LONG_COMMANDS.contains(command.name()) ? Duration.ofDays(365) : Duration.ofSeconds(90);
        ControlClient.Response response;
        try {
            response = ControlClient.request(path, command, timeout);
        } catch (ControlClient.AccessDeniedException e) {
            err.println("ctl: " + e.getMessage());
            return EXIT_ACCESS_DENIED;
        } catch (ControlClient.CannotConnectException e) {
            err.println("ctl: " + e.getMessage());
            return EXIT_CANNOT_CONNECT;
        } catch (IOException e) {
            err.println("ctl: " + e.getMessage());
            return EXIT_FAILED;
        }
        Reply reply = response.reply();
        if (jsonOutput) {
            out.println(response.json());
        } else if (reply.ok()) {
            out.println(reply.text());
        } else {
            err.println(reply.humanText());
        }
        out.flush();
        err.flush();
        return switch (reply.status()) {
            case OK -> EXIT_OK;
            case USAGE_ERROR -> EXIT_USAGE;
            case FAILED, TIMED_OUT -> EXIT_FAILED;
        };
    }

    /** --socket, else $CLUSTER_MASTER_REPL (no name given), else where a master named app put its socket. */
    Path socketPath(String app) {
        if (socket != null) {
            return socket;
        }
        if (app == null) {
            String fromEnv = environment.get(ControlServerOptions.ENV_REPL);
            if (fromEnv != null && fromEnv.contains("/")) {
                return Path.of(fromEnv.strip());
            }
        }
        return RuntimeDirs.locate(app == null ? "cluster-master" : app, environment).resolve(RuntimeDirs.SOCKET_FILE);
    }

    private static boolean isCommand(String word) {
        return new CommandTree(ProcessStatsSource.NONE, System::currentTimeMillis, CommandTree.Timeouts.DEFAULT)
                .commandNames().contains(word.toLowerCase(java.util.Locale.ROOT));
    }

    /** Re-quotes shell words so `ctl debug "a b"` reaches the server as one argument. */
    static String toLine(List<String> words) {
        if (words.size() == 1) {
            return words.get(0); // a whole call such as 'resize(4)' passed as one word
        }
        return words.get(0) + " " + words.subList(1, words.size()).stream().map(w -> w.isEmpty() || w.chars().anyMatch(c -> Character.isWhitespace(c) || c == '"' || c == '\'' || c == '(' || c == ')')
                        ? '"' + w.replace("\\", "\\\\").replace("\"", "\\\"") + '"' : w)
                .collect(Collectors.joining(" "));
    }
}
