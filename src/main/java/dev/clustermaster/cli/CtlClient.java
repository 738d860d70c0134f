package dev.clustermaster.cli;

import dev.clustermaster.config.ReplSetting;
import dev.clustermaster.config.RuntimeDirs;
import dev.clustermaster.control.CommandLineParser;
import dev.clustermaster.control.CommandSyntaxException;
import dev.clustermaster.control.CommandTree;
import dev.clustermaster.control.ControlClient;
import dev.clustermaster.control.ParsedCommand;
import dev.clustermaster.control.ProcessStatsSource;
import dev.clustermaster.control.Reply;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What {@code cluster-master ctl} does once its options are read: find the socket, send one command in JSON mode,
 * print the answer, map it to the exit code. Free of picocli, logging and native code, so that {@link CtlMain}
 * can run it in a small JVM; {@link CtlCommand} runs it too.
 */
final class CtlClient {

    static final int EXIT_OK = 0;
    static final int EXIT_FAILED = 1;
    static final int EXIT_USAGE = 2;
    static final int EXIT_CANNOT_CONNECT = 3;
    static final int EXIT_ACCESS_DENIED = 4;
    /** Commands that last as long as a rolling restart: no client-side limit unless --timeout says so. */
    private static final Set<String> LONG_COMMANDS = Set.of("restart", "reload", "upgrade");

    /** The parsed command line: null for options not given. */
    record Request(Path socket, String name, boolean json, Long timeoutSeconds, List<String> words) {
    }

    private final Map<String, String> environment;

    CtlClient(Map<String, String> environment) {
        this.environment = environment;
    }

    int run(Request r, PrintWriter out, PrintWriter err) {
        List<String> request = r.words();
        boolean jsonOutput = r.json();
        String app = r.name();
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
        Path path = socketPath(r.socket(), app);
        Duration timeout = r.timeoutSeconds() != null ? Duration.ofSeconds(Math.max(1, r.timeoutSeconds()))
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
    Path socketPath(Path socket, String app) {
        if (socket != null) {
            return socket;
        }
        if (app == null) {
            Path fromEnv = ReplSetting.parse(environment.get(ReplSetting.ENV)).socket();
            if (fromEnv != null) {
                return fromEnv;
            }
        }
        return RuntimeDirs.locate(app == null ? "cluster-master" : app, environment).resolve(RuntimeDirs.SOCKET_FILE);
    }

    private static boolean isCommand(String word) {
        return new CommandTree(ProcessStatsSource.NONE, System::currentTimeMillis, CommandTree.Timeouts.DEFAULT)
                .commandNames().contains(word.toLowerCase(Locale.ROOT));
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
