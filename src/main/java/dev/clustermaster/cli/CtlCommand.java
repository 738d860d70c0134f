package dev.clustermaster.cli;

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
 * {@code cluster-master ctl <command...>}: sends one command to a running master over its control socket in JSON
 * mode and prints the answer. Exit codes: 0 ok, 1 command failed or timed out, 2 usage error, 3 cannot connect.
 */
@Command(name = "ctl",
        description = {"Send one command to a running master's control socket and print the answer.",
                "Commands are the REPL's: help, status, size, workers, pids, ages, states, select <field>, resize <n>,",
                "restart, upgrade, stop, kill, signal <slot|all> <SIG>, loglevel <level>, debug <msg>, connections, sock.",
                "upgrade moves the master to new code (after a package upgrade): a new master takes over the listening",
                "sockets and the control socket once its workers are ready, then the old workers drain."},
        mixinStandardHelpOptions = true,
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:ok", "1:the command failed or timed out", "2:usage error", "3:cannot connect to the master"})
public final class CtlCommand implements Callable<Integer> {

    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_CANNOT_CONNECT = 3;

    @Option(names = "--socket", paramLabel = "PATH",
            description = "Control socket (default: $CLUSTER_MASTER_REPL, else /run/<name>/cluster-master.sock).")
    Path socket;

    @Option(names = "--name", paramLabel = "APP", defaultValue = "cluster-master",
            description = "Application name; the socket is /run/APP/cluster-master.sock (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--json", description = "Print the raw JSON answer.")
    boolean json;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "90",
            description = "Give up waiting for the answer after this long (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

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
        if (command.isBlank() || !new CommandTree(ProcessStatsSource.NONE, System::currentTimeMillis, CommandTree.Timeouts.DEFAULT)
                .commandNames().contains(command.name())) {
            err.println("ctl: unknown command '" + command.name() + "' (try 'ctl help')");
            return EXIT_USAGE;
        }
        Path path = socketPath();
        ControlClient.Response response;
        try {
            response = ControlClient.request(path, command, Duration.ofSeconds(Math.max(1, timeoutSeconds)));
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

    Path socketPath() {
        if (socket != null) {
            return socket;
        }
        if (spec != null && spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption("--name")) {
            return ControlServerOptions.defaultSocketPath(name);
        }
        return ControlServerOptions.socketPathFromEnvironment(name, environment);
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
