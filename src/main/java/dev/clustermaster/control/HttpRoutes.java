package dev.clustermaster.control;

import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.Phase;
import dev.clustermaster.os.Users;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.BiFunction;

/**
 * What the status port answers. Reads ({@code GET /}, {@code /metrics}, {@code /healthz}, {@code /readyz}) are
 * open to whoever can connect; changes ({@code POST /logLevel/:level}, {@code POST /children/exit}) only to a
 * local peer whose uid the REPL would admit, found from the kernel's TCP table. Every request must name this
 * server in {@code Host}/{@code Origin}, which keeps web pages in a browser out.
 */
final class HttpRoutes {

    private static final Logger log = LoggerFactory.getLogger(HttpRoutes.class);

    /** Finds the uid behind the peer end of a connection (ours, peer); empty when it is not a local socket. */
    interface PeerUids extends BiFunction<InetSocketAddress, InetSocketAddress, OptionalInt> {
    }

    private final ControlApi api;
    private final CommandTree commands;
    private final ProcessStatsSource stats;
    private final Duration commandTimeout;
    private final HttpHostPolicy hosts;
    private final PeerAccessPolicy policy;
    private final PeerUids peerUids;

    HttpRoutes(ControlApi api, ProcessStatsSource stats, Duration commandTimeout, HttpHostPolicy hosts,
               PeerAccessPolicy policy, PeerUids peerUids) {
        this.api = api;
        this.stats = stats;
        this.commandTimeout = commandTimeout;
        this.hosts = hosts;
        this.policy = policy;
        this.peerUids = peerUids;
        this.commands = new CommandTree(stats, System::currentTimeMillis, new CommandTree.Timeouts(commandTimeout, commandTimeout));
    }

    /** True for a route that changes state: the server runs those on their own thread, apart from the probes. */
    static boolean isWrite(HttpRequest r) {
        return r.path().startsWith("/logLevel/") || normalize(r.path()).equals("/children/exit");
    }

    HttpResponse handle(HttpRequest r) {
        Optional<String> foreign = hosts.check(r);
        if (foreign.isPresent()) {
            log.warn("HTTP status: refused {} {} from {}: {}", r.method(), r.path(), r.remote(), foreign.get());
            return HttpResponse.text(403, foreign.get() + "\n");
        }
        String path = normalize(r.path());
        boolean read = r.method().equals("GET") || r.method().equals("HEAD");
        switch (path) {
            case "/", "/metrics", "/healthz", "/readyz" -> {
                return read ? readRoute(path) : new HttpResponse(405, HttpResponse.TEXT, "method not allowed\n", "GET, HEAD");
            }
            default -> {
                if (!isWrite(r)) {
                    return HttpResponse.json(404, "{\"ok\":false,\"error\":\"not found\"}\n");
                }
                if (!r.method().equals("POST")) {
                    return new HttpResponse(405, HttpResponse.TEXT, "changes need POST\n", "POST");
                }
                Optional<String> refused = authorize(r);
                if (refused.isPresent()) {
                    log.warn("HTTP status: refused {} {} from {}: {}", r.method(), path, r.remote(), refused.get());
                    return HttpResponse.text(403, "access denied: " + refused.get() + "\n");
                }
                return writeRoute(path);
            }
        }
    }

    private Optional<String> authorize(HttpRequest r) {
        OptionalInt uid = peerUids.apply(r.local(), r.remote());
        if (uid.isEmpty()) {
            return Optional.of("cannot identify the uid of " + r.remote() + " (changes are accepted only from local processes)");
        }
        int gid = Users.primaryGid(uid.getAsInt()).orElse(-1);
        PeerAccessPolicy.Decision d = policy.check(0, uid.getAsInt(), gid);
        return d.allowed() ? Optional.empty() : Optional.of(d.reason());
    }

    private HttpResponse readRoute(String path) {
        return switch (path) {
            case "/" -> HttpResponse.json(200, Json.write(StatusReport.of(api.snapshot(), stats, System.currentTimeMillis()).toMap()) + "\n");
            case "/metrics" -> new HttpResponse(200, PrometheusMetrics.CONTENT_TYPE,
                    PrometheusMetrics.render(StatusReport.of(api.snapshot(), stats, System.currentTimeMillis())), null);
            case "/healthz" -> {
                api.snapshot(); // throws if the master is wedged badly enough to matter
                yield HttpResponse.text(200, "ok\n");
            }
            default -> readiness();
        };
    }

    private HttpResponse writeRoute(String path) {
        Reply reply;
        if (path.equals("/children/exit")) {
            reply = CommandTree.await("children/exit", api.stopWorkers(), commandTimeout, text -> null);
        } else {
            String level = path.substring("/logLevel/".length());
            reply = commands.execute(new ParsedCommand("loglevel", List.of(level), true), api, CommandContext.DETACHED);
        }
        int code = switch (reply.status()) {
            case OK -> 200;
            case USAGE_ERROR -> 400;
            case FAILED -> 500;
            case TIMED_OUT -> 504;
        };
        return HttpResponse.json(code, reply.toJson() + "\n");
    }

    /** Ready while not shutting down and, when workers are wanted, at least one is serving. */
    private HttpResponse readiness() {
        ClusterSnapshot s = api.snapshot();
        String reason = null;
        if (s.phase() == Phase.STOPPING) {
            reason = "master is stopping";
        } else if (s.desiredSize() > 0 && s.readyCount() == 0) {
            reason = "no worker is ready yet";
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ready", reason == null);
        body.put("readyWorkers", s.readyCount());
        body.put("desired", s.desiredSize());
        if (reason != null) {
            body.put("reason", reason);
        }
        return HttpResponse.json(reason == null ? 200 : 503, Json.write(body) + "\n");
    }

    private static String normalize(String path) {
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }
}
