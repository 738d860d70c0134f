package dev.clustermaster.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The launcher's entry point for {@code cluster-master ctl ...}: reads the usual command lines
 * ({@code [--socket P] [--name APP] [--json] [--timeout S] [APP] COMMAND [ARG...]}) itself and runs
 * {@link CtlClient}, so a client JVM loads neither picocli nor logging nor native code and answers in a
 * fraction of a second. Anything else (help, version, an unknown or malformed option, an option after the
 * command, no command, an {@code @argfile}) goes to the full command line, {@link Main}, which answers exactly as it always did.
 */
public final class CtlMain {

    private CtlMain() {
    }

    public static void main(String[] args) {
        CtlClient.Request request = parse(args);
        if (request == null) {
            String[] full = new String[args.length + 1];
            full[0] = "ctl";
            System.arraycopy(args, 0, full, 1, args.length);
            Main.main(full);
            return;
        }
        PrintWriter out = new PrintWriter(System.out);
        PrintWriter err = new PrintWriter(System.err);
        int code = new CtlClient(System.getenv()).run(request, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** The request, or null when {@link Main} should read this command line. */
    static CtlClient.Request parse(String[] args) {
        if (Arrays.stream(args).anyMatch(a -> a.startsWith("@"))) {
            return null; // an @argfile: picocli expands it
        }
        Path socket = null;
        String name = null;
        boolean json = false;
        Long timeout = null;
        int i = 0;
        for (; i < args.length && args[i].startsWith("-"); i++) {
            String a = args[i];
            String option = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            boolean inline = a.contains("=");
            if (option.equals("--json") && !inline && !json) {
                json = true;
                continue;
            }
            if (!(option.equals("--socket") || option.equals("--name") || option.equals("--timeout"))) {
                return null; // --help, --version, --, a typo: Main's messages
            }
            String value;
            if (inline) {
                value = a.substring(a.indexOf('=') + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                return null;
            }
            if (value.isEmpty() || value.startsWith("-")) {
                return null;
            }
            switch (option) {
                case "--socket" -> {
                    if (socket != null) {
                        return null;
                    }
                    socket = Path.of(value);
                }
                case "--name" -> {
                    if (name != null) {
                        return null;
                    }
                    name = value;
                }
                default -> {
                    if (timeout != null || !value.matches("\\d{1,18}")) {
                        return null;
                    }
                    timeout = Long.parseLong(value);
                }
            }
        }
        List<String> words = new ArrayList<>(Arrays.asList(args).subList(i, args.length));
        if (words.isEmpty() || words.stream().anyMatch(w -> w.startsWith("-"))) {
            return null; // no command, or something picocli may read as an option
        }
        return new CtlClient.Request(socket, name, json, timeout, words);
    }
}
