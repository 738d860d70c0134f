package dev.clustermaster.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The help texts (and the man pages generated from them) read well: picocli wraps, shell examples are pasteable. */
class HelpTextTest {
    /** An example command line of a description: kept on a line of its own, so it must fit the 80 columns. */
    private static final String EXAMPLE = "  cluster-master ";

    private static List<CommandSpec> commands() {
        List<CommandSpec> out = new ArrayList<>();
        collect(Main.commandLine(), out);
        return out;
    }

    private static void collect(CommandLine cl, List<CommandSpec> out) {
        out.add(cl.getCommandSpec());
        cl.getSubcommands().values().forEach(sub -> collect(sub, out));
    }

    /**
     * A description or footer element is a paragraph that picocli wraps: a line broken by hand ends mid-sentence
     * and shows as a ragged line in an 80-column terminal. Only example command lines stand alone.
     */
    @Test
    void descriptionsAreParagraphsNotHandBrokenLines() {
        List<String> broken = new ArrayList<>();
        for (CommandSpec spec : commands()) {
            List<String> paragraphs = new ArrayList<>(List.of(spec.usageMessage().description()));
            paragraphs.addAll(List.of(spec.usageMessage().footer()));
            for (String p : paragraphs) {
                String text = p.replace("%n", "").stripTrailing();
                if (text.isEmpty() || text.endsWith(":") && !text.startsWith(" ")) {
                    continue;   // a blank line, a heading
                }
                if (text.startsWith(EXAMPLE) ? text.length() > 79 : !text.matches("(?s).*[.:)]")) {
                    broken.add(spec.qualifiedName() + ": '" + p + "'");
                }
            }
        }
        assertEquals(List.of(), broken, "let picocli wrap: one element per paragraph, examples under 80 columns");
    }

    @Test
    void theCtlHelpHasNoRaggedLines() {
        String help = Main.commandLine().getSubcommands().get("ctl").getUsageMessage(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        List<String> lines = help.lines().toList();
        for (int i = 0; i + 1 < lines.size(); i++) {
            // a ragged line: much shorter than the width, mid-sentence, and the next line continues it
            String line = lines.get(i);
            String next = lines.get(i + 1);
            boolean continues = !next.isBlank() && Character.isLowerCase(next.charAt(0));
            assertTrue(!continues || line.length() > 60 || line.matches(".*[.:)]"), "ragged help line " + (i + 1) + ": '" + line + "'\n" + help);
        }
    }

    /** $PORT in a help text is for the master to fill in: shown single-quoted, as the shell must be given it. */
    @Test
    void portPlaceholdersAreShownSingleQuoted() {
        Pattern url = Pattern.compile("\\S*\\$PORT\\S*");
        List<String> unquoted = new ArrayList<>();
        int seen = 0;
        for (CommandSpec spec : commands()) {
            for (OptionSpec o : spec.options()) {
                for (String d : o.description()) {
                    Matcher m = url.matcher(d);
                    while (m.find()) {
                        seen++;
                        if (!m.group().startsWith("'") || !m.group().matches("'[^']*\\$PORT[^']*'.*")) {
                            unquoted.add(spec.qualifiedName() + " " + o.longestName() + ": " + m.group());
                        }
                    }
                }
            }
        }
        assertTrue(seen >= 3, "the --ready and --ready-probe help show $PORT examples");
        assertEquals(List.of(), unquoted);
    }
}
