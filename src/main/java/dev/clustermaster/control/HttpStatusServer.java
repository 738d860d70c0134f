package dev.clustermaster.control;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.clustermaster.core.ClusterSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Optional HTTP status port (JDK HttpServer, off by default): {@code GET /} JSON status, {@code /logLevel/:level},
 * {@code /children/exit} (workers stop and are started again), {@code /metrics} (Prometheus),
 * {@code /healthz} and {@code /readyz} for Kubernetes probes.
 */
public final class HttpStatusServer implements java.io.Closeable {

    private static final Logger log = LoggerFactory.getLogger(HttpStatusServer.class);
    /** Environment variable the runtime reads the port from when --http-port is not given. */
    public static final String ENV_PORT = "CM_WEBSERVER_PORT";
    public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";

    private final ControlApi api;
    private final CommandTree commands;
    private final ProcessStatsSource stats;
    private final Duration commandTimeout;
    private final HttpServer server;
    private final ExecutorService executor;

    private HttpStatusServer(ControlApi api, HttpServer server, ProcessStatsSource stats, Duration commandTimeout) {
        this.api = api;
        this.server = server;
        this.stats = stats;
        this.commandTimeout = commandTimeout;
        this.commands = new CommandTree(stats, System::currentTimeMillis, new CommandTree.Timeouts(commandTimeout, commandTimeout));
        this.executor = Executors.newFixedThreadPool(2, daemonThreads());
    }

    /** Starts on bindAddress (null means 127.0.0.1) and port (0 picks a free one). */
    public static HttpStatusServer start(ControlApi api, String bindAddress, int port) throws IOException {
        return start(api, bindAddress, port, new ProcessStats(), Duration.ofSeconds(30));
    }

    public static HttpStatusServer start(ControlApi api, String bindAddress, int port, ProcessStatsSource stats,
                                         Duration commandTimeout) throws IOException {
        String address = bindAddress == null || bindAddress.isBlank() ? DEFAULT_BIND_ADDRESS : bindAddress;
        HttpServer http = HttpServer.create(new InetSocketAddress(address, port), 32);
        HttpStatusServer status = new HttpStatusServer(api, http, stats, commandTimeout);
        http.createContext("/", status::handle);
        http.setExecutor(status.executor);
        http.start();
        InetSocketAddress bound = status.address();
        if (bound.getAddress().isLoopbackAddress()) {
            log.info("HTTP status listening on http://{}:{}/", bound.getHostString(), bound.getPort());
        } else {
            log.warn("HTTP status listening on non-loopback {} without authentication; /children/exit and /logLevel are reachable by anyone who can connect", bound);
        }
        return status;
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (path.length() > 1 && path.endsWith("/")) {
                path = path.substring(0, path.length() - 1);
            }
            boolean read = method.equals("GET") || method.equals("HEAD");
            // GET stays allowed for changes (the Node cluster-manager routes work that way); HEAD never changes anything
            boolean write = method.equals("GET") || method.equals("POST") || method.equals("PUT");
            if (path.equals("/") && read) {
                json(exchange, 200, Json.write(StatusReport.of(api.snapshot(), stats, System.currentTimeMillis()).toMap()));
            } else if (path.equals("/metrics") && read) {
                send(exchange, 200, PrometheusMetrics.CONTENT_TYPE,
                        PrometheusMetrics.render(StatusReport.of(api.snapshot(), stats, System.currentTimeMillis())));
            } else if (path.equals("/healthz") && read) {
                api.snapshot(); // throws if the master is wedged badly enough to matter
                send(exchange, 200, "text/plain; charset=utf-8", "ok\n");
            } else if (path.equals("/readyz") && read) {
                readiness(exchange);
            } else if (path.startsWith("/logLevel/") && write) {
                String level = path.substring("/logLevel/".length());
                replyJson(exchange, commands.execute(new ParsedCommand("loglevel", List.of(level), true), api, CommandContext.DETACHED));
            } else if (path.equals("/children/exit") && write) {
                replyJson(exchange, CommandTree.await("children/exit", api.stopWorkers(), commandTimeout, text -> null));
            } else if (isRoute(path)) {
                send(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n");
            } else {
                json(exchange, 404, "{\"ok\":false,\"error\":\"not found\"}");
            }
        } catch (RuntimeException e) {
            log.warn("HTTP status request {} failed", exchange.getRequestURI(), e);
            try {
                send(exchange, 500, "text/plain; charset=utf-8", "internal error\n");
            } catch (IOException | RuntimeException ignored) {
                // headers may already be sent
            }
        }
    }

    private static boolean isRoute(String path) {
        return path.equals("/") || path.equals("/metrics") || path.equals("/healthz") || path.equals("/readyz")
                || path.startsWith("/logLevel/") || path.equals("/children/exit");
    }

    /** Ready while not shutting down and, when workers are wanted, at least one is serving. */
    private void readiness(HttpExchange exchange) throws IOException {
        ClusterSnapshot s = api.snapshot();
        String reason = null;
        if (s.phase().equals("stopping")) {
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
        json(exchange, reason == null ? 200 : 503, Json.write(body));
    }

    private static void replyJson(HttpExchange exchange, Reply reply) throws IOException {
        int code = switch (reply.status()) {
            case OK -> 200;
            case USAGE_ERROR -> 400;
            case FAILED -> 500;
            case TIMED_OUT -> 504;
        };
        json(exchange, code, reply.toJson());
    }

    private static void json(HttpExchange exchange, int code, String body) throws IOException {
        send(exchange, code, "application/json; charset=utf-8", body + "\n");
    }

    private static void send(HttpExchange exchange, int code, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(code, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "cm-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
