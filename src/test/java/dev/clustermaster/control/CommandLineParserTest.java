package dev.clustermaster.control;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandLineParserTest {

    private static ParsedCommand parse(String line) throws CommandSyntaxException {
        return CommandLineParser.parse(line);
    }

    @Test
    void callAndWordFormsAreTheSame() throws Exception {
        for (String line : List.of("resize(4)", "resize 4", "  resize( 4 ) ", "resize(4);", "RESIZE 4", "resize('4')", "resize \"4\"\r")) {
            ParsedCommand c = parse(line);
            assertEquals("resize", c.name(), line);
            assertEquals(List.of("4"), c.args(), line);
            assertFalse(c.jsonOutput(), line);
        }
    }

    @Test
    void quotedArguments() throws Exception {
        assertEquals(List.of("pid"), parse("select('pid')").args());
        assertEquals(List.of("pid"), parse("select pid").args());
        assertEquals(List.of("hi there"), parse("debug(\"hi there\")").args());
        assertEquals(List.of("a, b"), parse("debug('a, b')").args());
        assertEquals(List.of("say \"x\""), parse("debug \"say \\\"x\\\"\"").args());
        assertEquals(List.of("hi", "there"), parse("debug hi   there").args());
        assertEquals(List.of("all", "USR1"), parse("signal(all, USR1)").args());
    }

    @Test
    void noArgumentForms() throws Exception {
        assertEquals(new ParsedCommand("restart", List.of(), false), parse("restart()"));
        assertEquals(new ParsedCommand("size", List.of(), false), parse("size"));
        assertEquals(new ParsedCommand(".exit", List.of(), false), parse(".exit"));
        assertTrue(parse("   ").isBlank());
    }

    @Test
    void jsonForms() throws Exception {
        assertEquals(new ParsedCommand("workers", List.of(), true), parse("json workers"));
        assertEquals(new ParsedCommand("resize", List.of("4"), true), parse("json resize(4)"));
        assertEquals(new ParsedCommand("resize", List.of("4"), true), parse("{\"cmd\":\"resize\",\"args\":[4]}"));
        assertEquals(new ParsedCommand("signal", List.of("1", "HUP"), true), parse("{\"cmd\":\"signal\",\"args\":[1,\"HUP\"]}"));
        assertEquals(new ParsedCommand("size", List.of(), true), parse(" {\"cmd\": \"size\"} "));
    }

    @Test
    void errorsAreClear() {
        assertMessage("malformed JSON request", "{\"cmd\":");
        assertMessage("needs a string \"cmd\"", "{\"args\":[]}");
        assertMessage("\"args\" must be an array", "{\"cmd\":\"size\",\"args\":3}");
        assertMessage("missing ')'", "resize(4");
        assertMessage("unterminated quote", "debug('oops)");
        assertMessage("malformed command line", "4 resize");
        assertMessage("malformed input", "size\u0000\u0001");
        assertMessage("malformed input", "\uFFFD");
        assertMessage("json needs a command", "json");
        assertMessage("empty argument", "signal(1,,HUP)");
    }

    @Test
    void jsonRequestsKeepJsonFlagOnErrors() {
        CommandSyntaxException e = assertThrows(CommandSyntaxException.class, () -> parse("{bad"));
        assertTrue(e.jsonOutput());
    }

    @Test
    void requestLineRoundTrip() throws Exception {
        ParsedCommand c = new ParsedCommand("debug", List.of("a \"b\""), true);
        assertEquals(c, parse(c.toJsonRequest()));
    }

    private static void assertMessage(String expected, String line) {
        CommandSyntaxException e = assertThrows(CommandSyntaxException.class, () -> parse(line), line);
        assertTrue(e.getMessage().contains(expected), line + " -> " + e.getMessage());
    }
}
