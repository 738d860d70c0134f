package dev.clustermaster.control;

import java.nio.charset.StandardCharsets;

/** A complete answer; every connection is closed after one (no keep-alive to manage or to be held open). */
record HttpResponse(int status, String contentType, String body, String allow) {

    static final String TEXT = "text/plain; charset=utf-8";
    static final String JSON = "application/json; charset=utf-8";

    static HttpResponse text(int status, String body) {
        return new HttpResponse(status, TEXT, body, null);
    }

    static HttpResponse json(int status, String body) {
        return new HttpResponse(status, JSON, body, null);
    }

    byte[] toBytes(boolean head) {
        byte[] payload = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder(160)
                .append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n")
                .append("Content-Type: ").append(contentType).append("\r\n")
                .append("Content-Length: ").append(payload.length).append("\r\n")
                .append("Cache-Control: no-store\r\n")
                .append("X-Content-Type-Options: nosniff\r\n");
        if (allow != null) {
            h.append("Allow: ").append(allow).append("\r\n");
        }
        h.append("Connection: close\r\n\r\n");
        byte[] headBytes = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (head) {
            return headBytes;
        }
        byte[] all = new byte[headBytes.length + payload.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(payload, 0, all, headBytes.length, payload.length);
        return all;
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 411 -> "Length Required";
            case 413 -> "Content Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Status";
        };
    }
}
