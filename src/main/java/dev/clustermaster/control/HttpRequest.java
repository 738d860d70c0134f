package dev.clustermaster.control;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** One parsed HTTP/1.x request head (the status server reads no bodies it needs, only skips them). */
record HttpRequest(String method, String path, Map<String, String> headers,
                   InetSocketAddress local, InetSocketAddress remote) {

    /** A request we will not read further; the server answers with {@code status} and closes. */
    static final class BadRequest extends Exception {
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    Optional<String> header(String name) {
        return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
    }

    /** Index just past the blank line ending the head in {@code buf[0, len)}, or -1 if it has not arrived yet. */
    static int headEnd(byte[] buf, int len) {
        for (int i = 0; i < len; i++) {
            if (buf[i] == '\n') {
                if (i + 1 < len && buf[i + 1] == '\n') {
                    return i + 2;
                }
                if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
                    return i + 3;
                }
            }
        }
        return -1;
    }

    /** Parses the head; headers that repeat keep their first value (none we read may repeat). */
    static HttpRequest parse(byte[] buf, int headLength, InetSocketAddress local, InetSocketAddress remote) throws BadRequest {
        String head = new String(buf, 0, headLength, StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r?\n");
        String[] requestLine = lines[0].split(" ");
        if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.") || !requestLine[0].matches("[A-Z]{1,16}")) {
            throw new BadRequest(400, "malformed request line");
        }
        String target = requestLine[1];
        if (!target.startsWith("/")) {
            throw new BadRequest(400, "request target must be a path");
        }
        int query = target.indexOf('?');
        String path = query < 0 ? target : target.substring(0, query);
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                continue;
            }
            int colon = lines[i].indexOf(':');
            if (colon <= 0 || lines[i].charAt(0) == ' ' || lines[i].charAt(0) == '\t') {
                throw new BadRequest(400, "malformed header line");
            }
            headers.putIfAbsent(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
        }
        if (headers.containsKey("transfer-encoding")) {
            throw new BadRequest(411, "chunked bodies are not accepted; send Content-Length");
        }
        return new HttpRequest(requestLine[0], path, Map.copyOf(headers), local, remote);
    }

    /** Declared body length: 0 when absent. */
    int contentLength() throws BadRequest {
        String v = headers.get("content-length");
        if (v == null) {
            return 0;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new BadRequest(400, "bad Content-Length");
        }
    }
}
