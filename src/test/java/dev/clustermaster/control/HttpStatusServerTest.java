package dev.clustermaster.control;

import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.WorkerState;
import dev.clustermaster.core.WorkerView;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HttpStatusServerTest {

    private final FakeControlApi api = new FakeControlApi();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private HttpStatusServer server;

    @BeforeEach
    void setUp() throws Exception {
        ProcessStatsSource stats = pid -> pid == 4242
                ? Optional.of(new ProcessSample(pid, 1_048_576, 250, 1, 'S'))
                : Optional.empty();
        server = HttpStatusServer.start(api, null, 0, stats, Duration.ofSeconds(2));
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    private HttpResponse<String> request(String method, String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + path))
                .timeout(Duration.ofSeconds(5))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return client.send(req, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void bindsLoopbackByDefault() {
        assertTrue(server.address().getAddress().isLoopbackAddress());
    }

    @Test
    void rootIsJsonStatus() throws Exception {
        HttpResponse<String> r = request("GET", "/");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        Map<?, ?> body = (Map<?, ?>) Json.parse(r.body().strip());
        assertEquals(100L, body.get("masterPid"));
        assertEquals(2L, body.get("desired"));
        List<?> workers = (List<?>) body.get("workers");
        assertEquals(2, workers.size());
        assertEquals(1_048_576L, ((Map<?, ?>) workers.get(0)).get("rssBytes"));
    }

    @Test
    void metricsInPrometheusFormat() throws Exception {
        HttpResponse<String> r = request("GET", "/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        String body = r.body();
        for (String line : List.of("cluster_master_up 1", "cluster_master_desired_workers 2",
                "cluster_master_workers{state=\"ready\"} 1", "cluster_master_workers{state=\"starting\"} 1",
                "cluster_master_workers{state=\"stopping\"} 0", "cluster_master_worker_restarts_total{slot=\"1\"} 3",
                "cluster_master_worker_rss_bytes{slot=\"0\",pid=\"4242\"} 1048576",
                "cluster_master_worker_cpu_seconds_total{slot=\"0\",pid=\"4242\"} 2.50",
                "# TYPE cluster_master_worker_restarts_total counter")) {
            assertTrue(body.lines().anyMatch(line::equals), "missing '" + line + "' in\n" + body);
        }
        // every sample line is "name{labels} value" or "name value"
        body.lines().filter(l -> !l.startsWith("#")).forEach(l ->
                assertTrue(l.matches("[a-z_]+(\\{[a-z]+=\"[^\"]*\"(,[a-z]+=\"[^\"]*\")*})? -?[0-9.]+"), l));
    }

    @Test
    void healthAndReadiness() throws Exception {
        assertEquals(200, request("GET", "/healthz").statusCode());
        assertEquals(200, request("GET", "/readyz").statusCode());
        long now = System.currentTimeMillis();
        api.snapshot = new ClusterSnapshot(100, 2, "starting",
                List.of(new WorkerView(1, 0, 0, 4242, WorkerState.STARTING, now)), "", List.of());
        HttpResponse<String> notReady = request("GET", "/readyz");
        assertEquals(503, notReady.statusCode());
        assertTrue(notReady.body().contains("no worker is ready yet"));
        api.snapshot = new ClusterSnapshot(100, 2, "stopping", List.of(), "", List.of());
        assertEquals(503, request("GET", "/readyz").statusCode());
        assertEquals(200, request("GET", "/healthz").statusCode());
    }

    @Test
    void logLevelRoute() throws Exception {
        HttpResponse<String> r = request("GET", "/logLevel/debug");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("log level is debug"));
        assertEquals(List.of("loglevel debug"), api.calls);
        HttpResponse<String> bad = request("POST", "/logLevel/loud");
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("loglevel needs one of"));
    }

    @Test
    void childrenExitStopsWorkers() throws Exception {
        HttpResponse<String> r = request("POST", "/children/exit");
        assertEquals(200, r.statusCode());
        assertEquals(List.of("stopWorkers"), api.calls);
    }

    @Test
    void unknownRoutesAndMethods() throws Exception {
        assertEquals(404, request("GET", "/nope").statusCode());
        assertEquals(405, request("DELETE", "/").statusCode());
        assertEquals(405, request("POST", "/metrics").statusCode());
    }
}
