package dev.clustermaster.control;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;

/**
 * Keeps browsers out: a page on another site can make a browser send requests to 127.0.0.1 (CSRF), or to a name
 * it points at 127.0.0.1 (DNS rebinding). Such requests carry a foreign {@code Origin} or {@code Host}; only IP
 * literals of the bound address (and {@code localhost} when that is loopback) with the bound port are accepted.
 * No DNS lookups: names other than localhost are refused, so monitoring must address the port by IP.
 */
final class HttpHostPolicy {

    private final InetAddress bound;
    private final int port;

    HttpHostPolicy(InetSocketAddress bound) {
        this.bound = bound.getAddress();
        this.port = bound.getPort();
    }

    /** Empty when the request may proceed, else the reason for refusing it. */
    Optional<String> check(HttpRequest request) {
        Optional<String> host = request.header("Host");
        if (host.isPresent() && !allowed(host.get())) {
            return Optional.of("Host '" + host.get() + "' does not name this server; use http://"
                    + literal(bound) + ":" + port + "/");
        }
        Optional<String> origin = request.header("Origin");
        if (origin.isPresent()) {
            String o = origin.get();
            if (!o.startsWith("http://") || !allowed(o.substring("http://".length()))) {
                return Optional.of("requests from web pages are refused (Origin '" + o + "')");
            }
        }
        Optional<String> site = request.header("Sec-Fetch-Site");
        if (site.isPresent() && !site.get().equals("none") && !site.get().equals("same-origin")) {
            return Optional.of("requests from web pages are refused (Sec-Fetch-Site '" + site.get() + "')");
        }
        return Optional.empty();
    }

    /** "host", "host:port", "[v6]" or "[v6]:port". */
    boolean allowed(String hostPort) {
        String host;
        int givenPort = 80;
        String s = hostPort.strip().toLowerCase(Locale.ROOT);
        try {
            if (s.startsWith("[")) {
                int close = s.indexOf(']');
                if (close < 0) {
                    return false;
                }
                host = s.substring(1, close);
                String rest = s.substring(close + 1);
                if (!rest.isEmpty()) {
                    if (!rest.startsWith(":")) {
                        return false;
                    }
                    givenPort = Integer.parseInt(rest.substring(1));
                }
            } else {
                int colon = s.lastIndexOf(':');
                host = colon < 0 ? s : s.substring(0, colon);
                if (colon >= 0) {
                    givenPort = Integer.parseInt(s.substring(colon + 1));
                }
            }
        } catch (NumberFormatException e) {
            return false;
        }
        return givenPort == port && hostAllowed(host);
    }

    private boolean hostAllowed(String host) {
        if (host.equals("localhost")) {
            return bound.isLoopbackAddress() || bound.isAnyLocalAddress();
        }
        boolean v4 = host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = host.contains(":") && host.matches("[0-9a-f:.]+");
        if (!v4 && !v6) {
            return false; // a name: it could resolve anywhere
        }
        InetAddress literal;
        try {
            literal = InetAddress.getByName(host); // a literal: no lookup
        } catch (UnknownHostException e) {
            return false;
        }
        return bound.isAnyLocalAddress() || literal.equals(bound)
                || bound.isLoopbackAddress() && literal.isLoopbackAddress();
    }

    private static String literal(InetAddress a) {
        String s = a.getHostAddress();
        return s.contains(":") ? "[" + s + "]" : s;
    }
}
