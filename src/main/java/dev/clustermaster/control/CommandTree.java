package dev.clustermaster.control;

import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.WorkerView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one definition of the control commands, shared by the REPL, JSON mode, {@code cluster-master ctl} and
 * (for status) HTTP. Pure apart from calling {@link ControlApi}: it validates arguments, waits for the API's
 * futures with a bound, and produces a {@link Reply}.
 */
public final class CommandTree {

    /** Looked up on use, not at class load: ctl builds a tree only for its command names and starts no logging. */
    private static Logger log() {
        return LoggerFactory.getLogger(CommandTree.class);
    }

    private static final Pattern WHOLE_NUMBER = Pattern.compile("\\d{1,9}");
    private static final Pattern SIGNAL_NAME = Pattern.compile("(?i)(SIG)?[A-Z][A-Z0-9+\\-]{0,15}|\\d{1,2}");
    private static final List<String> LOG_LEVELS = List.of("trace", "debug", "info", "warn", "error", "fatal", "off");
    private static final List<String> SELECT_FIELDS =
            List.of("workerId", "slot", "pid", "state", "age", "restarts", "startedAt");
    /** Above this the request is surely a typo; the runtime has its own limits too. */
    static final int MAX_WORKERS = 10_000;

    /** How long to wait for the API's futures before answering "timed out, still running". */
    public record Timeouts(Duration command, Duration restart) {
        public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(30), Duration.ofSeconds(30));
    }

    private record Invocation(ParsedCommand command, ControlApi api, CommandContext context) {
        String arg(int i) {
            return command.args().get(i);
        }
    }

    @FunctionalInterface
    private interface Handler {
        Reply run(Invocation inv);
    }

    private record Command(String name, String usage, String summary, int minArgs, int maxArgs, Handler handler) {
    }

    private final Map<String, Command> commands = new LinkedHashMap<>();
    private final ProcessStatsSource stats;
    private final LongSupplier clock;
    private final Timeouts timeouts;

    public CommandTree(ProcessStatsSource stats, LongSupplier clockMillis, Timeouts timeouts) {
        this.stats = stats;
        this.clock = clockMillis;
        this.timeouts = timeouts;
        define("help", "help [command]", "list the commands, or show one", 0, 1, this::help);
        define("status", "status", "table of workers: slot, pid, state, age, restarts, rss, cpu", 0, 0, this::status);
        define("resize", "resize <n>", "keep n workers", 1, 1, this::resize);
        define("restart", "restart", "graceful rolling restart of every worker", 0, 0,
                inv -> await("restart", inv.api().restart(), inv.api().restartBudget().orElse(timeouts.restart()), text -> null));
        define("reload", "reload", "re-read the config file and apply it through a rolling restart", 0, 0,
                inv -> {
                    CompletableFuture<String> reload = inv.api().reload(); // first: the budget then counts the new size
                    return await("reload", reload, inv.api().restartBudget().orElse(timeouts.restart()), text -> null);
                });
        define("upgrade", "upgrade", "move the master to new code: a new master takes over the sockets, then the old workers drain", 0, 0,
                inv -> await("upgrade", inv.api().upgrade(), inv.api().restartBudget().orElse(timeouts.restart()), text -> null));
        define("stop", "stop", "graceful shutdown of the master and its workers", 0, 0,
                inv -> await("stop", inv.api().stop(), timeouts.command(), text -> null));
        define("kill", "kill", "SIGKILL every worker and exit now", 0, 0,
                inv -> await("kill", inv.api().kill(), timeouts.command(), text -> null));
        define("size", "size", "number of workers being kept", 0, 0, this::size);
        define("connections", "connections", "number of REPL connections", 0, 0,
                inv -> Reply.ok("connections", Integer.toString(inv.context().connectionCount()), inv.context().connectionCount()));
        define("workers", "workers", "list the workers", 0, 0, this::workers);
        define("pids", "pids", "process ids of the workers", 0, 0, this::pids);
        define("ages", "ages", "how long each worker has been running", 0, 0, this::ages);
        define("states", "states", "state of each worker", 0, 0, this::states);
        define("select", "select <field>", "one field of every worker: " + String.join(", ", SELECT_FIELDS), 1, 1, this::select);
        define("signal", "signal <slot|all> <SIG>", "send a signal to one slot's workers or to all", 2, 2, this::signal);
        define("loglevel", "loglevel <level>", "set the log level of master and workers: " + String.join(", ", LOG_LEVELS), 1, 1, this::logLevel);
        define("debug", "debug <message>", "write a message to the log and to every connected REPL", 1, Integer.MAX_VALUE, this::debug);
        define("sock", "sock", "path of the control socket", 0, 0, this::sock);
        define(".exit", ".exit", "close this connection", 0, 0, inv -> Reply.ok(".exit", "bye", null).closingSession());
    }

    private void define(String name, String usage, String summary, int minArgs, int maxArgs, Handler handler) {
        commands.put(name, new Command(name, usage, summary, minArgs, maxArgs, handler));
    }

    public Set<String> commandNames() {
        return Collections.unmodifiableSet(commands.keySet());
    }

    /** Parses and runs one request line. Blank lines give null (nothing to answer). */
    public Reply run(String line, ControlApi api, CommandContext context) {
        ParsedCommand parsed;
        try {
            parsed = CommandLineParser.parse(line);
        } catch (CommandSyntaxException e) {
            return Reply.usage("", e.getMessage());
        }
        return parsed.isBlank() ? null : execute(parsed, api, context);
    }

    /** Validates and runs a parsed command; never throws. */
    public Reply execute(ParsedCommand parsed, ControlApi api, CommandContext context) {
        Command command = commands.get(parsed.name());
        if (command == null) {
            return Reply.usage(parsed.name(), "unknown command '" + parsed.name() + "' (try help)");
        }
        int n = parsed.args().size();
        if (n < command.minArgs() || n > command.maxArgs()) {
            return Reply.usage(command.name(), arityMessage(command));
        }
        try {
            return command.handler().run(new Invocation(parsed, api, context));
        } catch (RuntimeException e) {
            log().warn("control command {} failed", command.name(), e);
            return Reply.failed(command.name(), command.name() + " failed: " + e);
        }
    }

    private static String arityMessage(Command c) {
        if (c.name().equals("resize")) {
            return "resize needs a whole number >= 0";
        }
        if (c.maxArgs() == 0) {
            return c.name() + " takes no arguments";
        }
        return "usage: " + c.usage();
    }

    // ------------------------------------------------------------------ handlers

    private Reply help(Invocation inv) {
        if (!inv.command().args().isEmpty()) {
            String name = inv.arg(0).toLowerCase(Locale.ROOT);
            Command c = commands.get(name);
            if (c == null) {
                return Reply.usage("help", "unknown command '" + name + "' (try help)");
            }
            return Reply.ok("help", c.usage() + "  - " + c.summary(), List.of(helpEntry(c)));
        }
        int width = commands.values().stream().mapToInt(c -> c.usage().length()).max().orElse(10);
        StringBuilder text = new StringBuilder("commands (also as name(args); prefix with 'json' for JSON):");
        List<Object> data = new ArrayList<>();
        for (Command c : commands.values()) {
            text.append(String.format(Locale.ROOT, "%n  %-" + width + "s  %s", c.usage(), c.summary()));
            data.add(helpEntry(c));
        }
        return Reply.ok("help", text.toString(), data);
    }

    private static Map<String, Object> helpEntry(Command c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.name());
        m.put("usage", c.usage());
        m.put("summary", c.summary());
        return m;
    }

    private Reply status(Invocation inv) {
        StatusReport report = StatusReport.of(inv.api().snapshot(), stats, clock.getAsLong());
        return Reply.ok("status", report.toTable(), report.toMap());
    }

    private Reply resize(Invocation inv) {
        String arg = inv.arg(0);
        if (!WHOLE_NUMBER.matcher(arg).matches()) {
            return Reply.usage("resize", "resize needs a whole number >= 0");
        }
        int n = Integer.parseInt(arg);
        if (n > MAX_WORKERS) {
            return Reply.usage("resize", "resize needs a whole number between 0 and " + MAX_WORKERS);
        }
        return await("resize", inv.api().resize(n), timeouts.command(), text -> n);
    }

    private Reply size(Invocation inv) {
        ClusterSnapshot s = inv.api().snapshot();
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("desired", s.desiredSize());
        data.put("running", s.workers().size());
        data.put("ready", s.readyCount());
        return Reply.ok("size", Integer.toString(s.desiredSize()), data);
    }

    private Reply workers(Invocation inv) {
        long now = clock.getAsLong();
        List<Object> data = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (WorkerView w : inv.api().snapshot().workers()) {
            long age = StatusReport.ageMillis(w, now);
            String state = StatusReport.stateLabel(w, stats);
            Map<String, Object> m = StatusReport.workerMap(w, age);
            m.put("state", state);
            data.add(m);
            appendLine(text, String.format(Locale.ROOT, "worker %d: slot %d, pid %d, %s, age %s, restarts %d",
                    w.workerId(), w.slot(), w.pid(), state, StatusReport.formatAge(age), w.restarts()));
        }
        return Reply.ok("workers", text.length() == 0 ? "(no workers)" : text.toString(), data);
    }

    private Reply pids(Invocation inv) {
        List<Integer> pids = inv.api().snapshot().workers().stream().map(WorkerView::pid).filter(p -> p > 0).toList();
        String text = pids.stream().map(String::valueOf).collect(Collectors.joining(" "));
        return Reply.ok("pids", text.isEmpty() ? "(no workers)" : text, pids);
    }

    private Reply ages(Invocation inv) {
        return perWorker(inv, "ages", w -> StatusReport.ageMillis(w, clock.getAsLong()), "ageMillis",
                v -> StatusReport.formatAge((Long) v));
    }

    private Reply states(Invocation inv) {
        return perWorker(inv, "states", w -> StatusReport.stateLabel(w, stats), "state", String::valueOf);
    }

    private Reply perWorker(Invocation inv, String name, Function<WorkerView, Object> value, String key,
                            Function<Object, String> format) {
        List<Object> data = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (WorkerView w : inv.api().snapshot().workers()) {
            Object v = value.apply(w);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("slot", w.slot());
            m.put("pid", w.pid());
            m.put(key, v);
            data.add(m);
            appendLine(text, String.format(Locale.ROOT, "slot %d pid %d: %s", w.slot(), w.pid(), format.apply(v)));
        }
        return Reply.ok(name, text.length() == 0 ? "(no workers)" : text.toString(), data);
    }

    private Reply select(Invocation inv) {
        String wanted = inv.arg(0);
        String field = SELECT_FIELDS.stream().filter(f -> f.equalsIgnoreCase(wanted) || (f.equals("workerId") && wanted.equalsIgnoreCase("id")))
                .findFirst().orElse(null);
        if (field == null) {
            return Reply.usage("select", "select needs one of " + String.join(", ", SELECT_FIELDS));
        }
        long now = clock.getAsLong();
        Map<String, Object> data = new LinkedHashMap<>();
        StringBuilder text = new StringBuilder();
        for (WorkerView w : inv.api().snapshot().workers()) {
            Object v = switch (field) {
                case "workerId" -> w.workerId();
                case "slot" -> w.slot();
                case "pid" -> w.pid();
                case "state" -> StatusReport.stateLabel(w, stats);
                case "age" -> StatusReport.ageMillis(w, now);
                case "restarts" -> w.restarts();
                default -> w.startedAtMillis();
            };
            data.put(Long.toString(w.workerId()), v);
            appendLine(text, "worker " + w.workerId() + ": " + v);
        }
        return Reply.ok("select", text.length() == 0 ? "(no workers)" : text.toString(), data);
    }

    private Reply signal(Invocation inv) {
        String target = inv.arg(0);
        Integer slot = null;
        if (!target.equalsIgnoreCase("all")) {
            if (!WHOLE_NUMBER.matcher(target).matches()) {
                return Reply.usage("signal", "signal needs a slot number or 'all', then a signal name (usage: signal <slot|all> <SIG>)");
            }
            slot = Integer.parseInt(target);
        }
        String sig = inv.arg(1);
        if (!SIGNAL_NAME.matcher(sig).matches()) {
            return Reply.usage("signal", "'" + sig + "' is not a signal name (e.g. TERM, HUP, USR1)");
        }
        return await("signal", inv.api().signal(slot, sig.toUpperCase(Locale.ROOT)), timeouts.command(), text -> null);
    }

    private Reply logLevel(Invocation inv) {
        String level = inv.arg(0).toLowerCase(Locale.ROOT);
        if (!LOG_LEVELS.contains(level)) {
            return Reply.usage("loglevel", "loglevel needs one of " + String.join(", ", LOG_LEVELS));
        }
        return await("loglevel", inv.api().setLogLevel(level), timeouts.command(), text -> level);
    }

    private Reply debug(Invocation inv) {
        String message = String.join(" ", inv.command().args());
        // The log gets a bounded copy; a REPL user can paste a 64 KiB line.
        log().info("debug: {}", message.length() <= 500 ? message : message.substring(0, 500) + "... (" + message.length() + " chars)");
        inv.context().broadcast("debug: " + message);
        return Reply.ok("debug", "debug: " + message, message);
    }

    private Reply sock(Invocation inv) {
        String path = inv.api().controlSocketPath();
        return Reply.ok("sock", path.isEmpty() ? "(control socket disabled)" : path, path);
    }

    // ------------------------------------------------------------------ helpers

    private static void appendLine(StringBuilder text, String line) {
        if (text.length() > 0) {
            text.append(System.lineSeparator());
        }
        text.append(line);
    }

    /**
     * Waits for an API future with a bound. IllegalArgumentException means the request was wrong (usage error);
     * anything else is a failure of the command.
     */
    static Reply await(String name, CompletableFuture<String> future, Duration timeout, Function<String, Object> data) {
        try {
            String text = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            String answer = text == null ? "ok" : text;
            return Reply.ok(name, answer, data.apply(answer));
        } catch (TimeoutException e) {
            String after = timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + "s" : timeout.toMillis() + "ms";
            return Reply.timedOut(name, name + " timed out after " + after + ", still running");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Reply.failed(name, name + " interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
            return cause instanceof IllegalArgumentException ? Reply.usage(name, message) : Reply.failed(name, message);
        } catch (java.util.concurrent.CancellationException e) {
            return Reply.failed(name, name + " was cancelled");
        }
    }
}
