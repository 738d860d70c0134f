package dev.clustermaster.control;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer to one control command, in a form both humans (text) and scripts (JSON) can use.
 *
 * @param command the command name it answers ("" when the line could not be parsed)
 * @param status  how it went; decides the ctl exit code
 * @param text    human text, possibly several lines, no trailing newline
 * @param data    machine form (Map/List/String/Number/Boolean/null) for JSON mode; null for errors
 * @param closeSession true when the connection should be closed after sending (".exit")
 */
public record Reply(String command, Status status, String text, Object data, boolean closeSession) {

    public enum Status {
        OK,
        /** The request was malformed or had bad arguments; ctl exits 2. */
        USAGE_ERROR,
        /** The command ran and failed; ctl exits 1. */
        FAILED,
        /** The command is still running after the wait limit; ctl exits 1. */
        TIMED_OUT;

        public String label() {
            return switch (this) {
                case OK -> "ok";
                case USAGE_ERROR -> "usage";
                case FAILED -> "failed";
                case TIMED_OUT -> "timeout";
            };
        }

        static Status fromLabel(String label) {
            for (Status s : values()) {
                if (s.label().equals(label)) {
                    return s;
                }
            }
            return FAILED;
        }
    }

    public static Reply ok(String command, String text, Object data) {
        return new Reply(command, Status.OK, text, data, false);
    }

    public static Reply usage(String command, String message) {
        return new Reply(command, Status.USAGE_ERROR, message, null, false);
    }

    public static Reply failed(String command, String message) {
        return new Reply(command, Status.FAILED, message, null, false);
    }

    public static Reply timedOut(String command, String message) {
        return new Reply(command, Status.TIMED_OUT, message, null, false);
    }

    public boolean ok() {
        return status == Status.OK;
    }

    public Reply closingSession() {
        return new Reply(command, status, text, data, true);
    }

    /** Text as shown in an interactive REPL: errors are prefixed so they stand out. */
    public String humanText() {
        return ok() ? text : "error: " + text;
    }

    /** One-line JSON form: {"ok":true,"cmd":"size","text":"4","data":4} or {"ok":false,"cmd":"x","error":"...","code":"usage"}. */
    public String toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", ok());
        out.put("cmd", command);
        if (ok()) {
            out.put("text", text);
            out.put("data", data);
        } else {
            out.put("error", text);
            out.put("code", status.label());
        }
        return Json.write(out);
    }

    /** Reads the JSON form back (used by the ctl client). */
    public static Reply fromJson(String line) throws Json.ParseException {
        Object parsed = Json.parse(line);
        if (!(parsed instanceof Map<?, ?> map) || !(map.get("ok") instanceof Boolean ok)) {
            throw new Json.ParseException("not a control reply", 0);
        }
        String command = String.valueOf(map.get("cmd") == null ? "" : map.get("cmd"));
        if (ok) {
            Object text = map.get("text");
            return ok(command, text == null ? "" : text.toString(), map.get("data"));
        }
        Object error = map.get("error");
        Object code = map.get("code");
        return new Reply(command, Status.fromLabel(code == null ? "" : code.toString()),
                error == null ? "" : error.toString(), null, false);
    }
}
