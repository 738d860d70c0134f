package dev.clustermaster.control;

import java.util.List;

/**
 * One request after parsing, before validation.
 *
 * @param name       command name, lower case ("resize", ".exit"); empty for a blank line
 * @param args       arguments as text, quotes removed
 * @param jsonOutput true when the answer must be JSON ({@code json <cmd>} or a {@code {"cmd":...}} line)
 */
public record ParsedCommand(String name, List<String> args, boolean jsonOutput) {

    public ParsedCommand {
        args = List.copyOf(args);
    }

    public boolean isBlank() {
        return name.isEmpty();
    }

    /** The request line a client sends for this command in JSON mode. */
    public String toJsonRequest() {
        java.util.Map<String, Object> request = new java.util.LinkedHashMap<>();
        request.put("cmd", name);
        request.put("args", args);
        return Json.write(request);
    }
}
