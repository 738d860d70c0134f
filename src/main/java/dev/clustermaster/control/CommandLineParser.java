package dev.clustermaster.control;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns one request line into a {@link ParsedCommand}. Pure: no I/O, no knowledge of which commands exist.
 * Accepted forms: {@code resize(4)}, {@code resize 4}, {@code select('pid')}, {@code debug("hi there")},
 * {@code size()}, {@code json workers}, {@code {"cmd":"resize","args":[4]}}. A trailing ';' is tolerated
 * because people paste JavaScript-style calls from the Node REPL.
 */
public final class CommandLineParser {

    private CommandLineParser() {
    }

    public static ParsedCommand parse(String rawLine) throws CommandSyntaxException {
        String line = rawLine.strip();
        boolean jsonLine = line.startsWith("{");
        checkPrintable(line, jsonLine);
        if (line.isEmpty()) {
            return new ParsedCommand("", List.of(), false);
        }
        if (jsonLine) {
            return parseJsonRequest(line);
        }
        String firstWord = line.split("\\s+", 2)[0];
        if (firstWord.equalsIgnoreCase("json")) {
            String rest = line.substring(firstWord.length()).strip();
            if (rest.isEmpty()) {
                throw new CommandSyntaxException("json needs a command, e.g. 'json workers'", true);
            }
            ParsedCommand inner = parseCall(rest, true);
            return new ParsedCommand(inner.name(), inner.args(), true);
        }
        return parseCall(line, false);
    }

    private static void checkPrintable(String line, boolean json) throws CommandSyntaxException {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            // U+FFFD is what the decoder leaves for invalid UTF-8; treat it like binary garbage.
            if ((c < 0x20 && c != '\t') || c == 0x7f || c == '\uFFFD') {
                throw new CommandSyntaxException("malformed input: control characters or invalid UTF-8 in line", json);
            }
        }
    }

    private static ParsedCommand parseJsonRequest(String line) throws CommandSyntaxException {
        Object parsed;
        try {
            parsed = Json.parse(line);
        } catch (Json.ParseException e) {
            throw new CommandSyntaxException("malformed JSON request: " + e.getMessage(), true);
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new CommandSyntaxException("JSON request must be an object like {\"cmd\":\"workers\"}", true);
        }
        if (!(map.get("cmd") instanceof String cmd) || cmd.isBlank()) {
            throw new CommandSyntaxException("JSON request needs a string \"cmd\"", true);
        }
        List<String> args = new ArrayList<>();
        Object rawArgs = map.get("args");
        if (rawArgs instanceof List<?> list) {
            for (Object arg : list) {
                if (arg instanceof Map || arg instanceof List || arg == null) {
                    throw new CommandSyntaxException("JSON \"args\" must hold strings, numbers or booleans", true);
                }
                args.add(arg instanceof Double d && d == Math.rint(d) && !d.isInfinite()
                        ? Long.toString(d.longValue()) : arg.toString());
            }
        } else if (rawArgs != null) {
            throw new CommandSyntaxException("JSON \"args\" must be an array", true);
        }
        String name = cmd.strip().toLowerCase(Locale.ROOT);
        if (!isName(name)) {
            throw new CommandSyntaxException("malformed command name '" + cmd + "' (try help)", true);
        }
        return new ParsedCommand(name, args, true);
    }

    private static ParsedCommand parseCall(String line, boolean json) throws CommandSyntaxException {
        int end = 0;
        while (end < line.length() && isNameChar(line.charAt(end))) {
            end++;
        }
        String name = line.substring(0, end).toLowerCase(Locale.ROOT);
        if (!isName(name)) {
            throw new CommandSyntaxException("malformed command line (try help)", json);
        }
        String rest = line.substring(end).strip();
        if (rest.endsWith(";")) {
            rest = rest.substring(0, rest.length() - 1).strip();
        }
        List<String> args;
        if (rest.startsWith("(")) {
            if (!rest.endsWith(")")) {
                throw new CommandSyntaxException("missing ')' in " + name + "(...)", json);
            }
            args = splitArguments(rest.substring(1, rest.length() - 1), ',', json);
        } else {
            args = splitArguments(rest, ' ', json);
        }
        return new ParsedCommand(name, args, json);
    }

    private static boolean isName(String name) {
        if (name.isEmpty()) {
            return false;
        }
        char first = name.charAt(0);
        return (first >= 'a' && first <= 'z') || (first == '.' && name.length() > 1);
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    }

    /**
     * Splits on the separator outside quotes. With ',' (call syntax) empty pieces are errors except for "()";
     * with ' ' (word syntax) runs of blanks separate.
     */
    private static List<String> splitArguments(String text, char separator, boolean json) throws CommandSyntaxException {
        List<String> args = new ArrayList<>();
        if (text.isBlank()) {
            return args;
        }
        StringBuilder current = new StringBuilder();
        boolean quotedPiece = false;
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '"' || c == '\'') {
                if (quotedPiece || !current.toString().isBlank()) {
                    throw new CommandSyntaxException("unexpected quote inside an argument", json);
                }
                current.setLength(0);
                i = readQuoted(text, i, current, json);
                quotedPiece = true;
                continue;
            }
            boolean isSeparator = separator == ' ' ? Character.isWhitespace(c) : c == separator;
            if (isSeparator) {
                addPiece(args, current, quotedPiece, separator, json);
                current.setLength(0);
                quotedPiece = false;
                if (separator == ' ') {
                    while (i + 1 < text.length() && Character.isWhitespace(text.charAt(i + 1))) {
                        i++;
                    }
                }
            } else if (quotedPiece) {
                if (!Character.isWhitespace(c)) {
                    throw new CommandSyntaxException("unexpected text after a quoted argument", json);
                }
            } else if (c == '(' || c == ')') {
                throw new CommandSyntaxException("unexpected '" + c + "' (quote the argument)", json);
            } else {
                current.append(c);
            }
            i++;
        }
        addPiece(args, current, quotedPiece, separator, json);
        return args;
    }

    private static void addPiece(List<String> args, StringBuilder piece, boolean quoted, char separator, boolean json)
            throws CommandSyntaxException {
        String value = quoted ? piece.toString() : piece.toString().strip();
        if (value.isEmpty() && !quoted) {
            if (separator == ' ') {
                return;
            }
            throw new CommandSyntaxException("empty argument", json);
        }
        args.add(value);
    }

    /** Reads a quoted string starting at {@code start}; returns the index after the closing quote. */
    private static int readQuoted(String text, int start, StringBuilder out, boolean json) throws CommandSyntaxException {
        char quote = text.charAt(start);
        int i = start + 1;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == quote) {
                return i + 1;
            }
            if (c == '\\' && i + 1 < text.length()) {
                char e = text.charAt(i + 1);
                out.append(switch (e) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    default -> e;
                });
                i += 2;
                continue;
            }
            out.append(c);
            i++;
        }
        throw new CommandSyntaxException("unterminated quote " + quote, json);
    }
}
