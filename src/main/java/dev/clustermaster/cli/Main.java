package dev.clustermaster.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code cluster-master run ...} starts a master, {@code cluster-master ctl ...} talks to one. */
@Command(name = "cluster-master",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Runs and supervises a set of worker processes: rolling restarts, shared listening sockets, "
                + "a control REPL on a unix socket, systemd integration.",
        subcommands = {RunCommand.class, CtlCommand.class, ServiceCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success (or a graceful quit)", "1:hard quit or runtime failure", "2:bad usage or configuration",
                "69:gave up on a crash loop (crash-loop.failures)"})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("run")) {
            // a master's usual command line: read without picocli, the slowest part of its start
            RunCommand run = RunCommand.quickParse(java.util.Arrays.asList(args).subList(1, args.length));
            if (run != null) {
                System.exit(run.call());
            }
        }
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    public static CommandLine commandLine() {
        // Subcommands are declared in @Command, not added here: the build's man page and completion
        // generators see only the annotations.
        return new CommandLine(new Main()).setParameterExceptionHandler(Main::commandLineError);
    }

    /** A bad command line: the problem in one line and where to look, not the whole usage text. */
    private static int commandLineError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        java.io.PrintWriter err = cl.getErr();
        err.println("cluster-master: " + e.getMessage());
        err.println("try '" + cl.getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: run, ctl or service");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"cluster-master " + (v == null ? "dev" : v)};
        }
    }
}
