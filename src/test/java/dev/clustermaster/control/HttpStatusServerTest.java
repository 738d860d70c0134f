package dev.clustermaster.control;

import dev.clustermaster.core.ClusterSnapshot;
import dev.clustermaster.core.Phase;
import dev.clustermaster.core.WorkerState;
import dev.clustermaster.core.WorkerView;
import dev.clustermaster.os.Users;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
                .timeout(Duration.ofSeconds(30)) // a bound, not a speed claim: the suite runs on loaded 2-core machines
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return client.send(req, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void bindsLoopbackByDefault() {
        assertTrue(server.address().getAddress().isLoopbackAddress());
    }

    @Test
    void anIpv4WildcardListensOnIpv4Only() throws Exception {
        HttpStatusServer any = HttpStatusServer.start(api, "0.0.0.0", 0);
        try {
            assertTrue(any.address().getAddress() instanceof java.net.Inet4Address, any.address().toString());
            assertTrue(any.address().getAddress().isAnyLocalAddress(), any.address().toString());
            if (java.net.NetworkInterface.networkInterfaces().anyMatch(i -> i.inetAddresses()
                    .anyMatch(a -> a instanceof java.net.Inet6Address && a.isLoopbackAddress()))) {
                assertThrows(java.net.ConnectException.class, () -> {
                    try (java.net.Socket s = new java.net.Socket("::1", any.address().getPort())) {
                        s.getInputStream();
                    }
                }, "http.address=0.0.0.0 must not answer on [::1]");
            }
        } finally {
            any.close();
        }
    }

    @Test
    void aPortInUseIsNamedWithTheSettingsToChange() {
        int port = server.address().getPort();
        java.io.IOException e = assertThrows(java.io.IOException.class,
                () -> HttpStatusServer.start(api, null, port));
        assertEquals("cannot listen for HTTP status on 127.0.0.1:" + port + ": Address already in use; change http.port="
                + " or http.address= (ss -ltnp 'sport = :" + port + "' shows who listens there)", e.getMessage());
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
                "# TYPE cluster_master_worker_restarts_total counter",
                "cluster_master_worker_status{slot=\"0\",pid=\"4242\",status=\"42 requests\"} 1",
                "cluster_master_recycled_total{reason=\"rss\"} 0", "cluster_master_restart_in_progress 0")) {
            assertTrue(body.lines().anyMatch(line::equals), "missing '" + line + "' in\n" + body);
        }
        // every sample line is "name{labels} value" or "name value"
        body.lines().filter(l -> !l.startsWith("#")).forEach(l ->
                assertTrue(l.matches("[a-z_]+(\\{[a-z]+=\"[^\"]*\"(,[a-z]+=\"[^\"]*\")*})? -?[0-9.]+"), l));
        api.snapshot = new ClusterSnapshot(100, 2, Phase.RESTARTING, api.snapshot.workers(), "restarting 1/2", List.of());
        assertTrue(request("GET", "/metrics").body().lines().anyMatch("cluster_master_restart_in_progress 1"::equals));
    }

    @Test
    void healthAndReadiness() throws Exception {
        assertEquals(200, request("GET", "/healthz").statusCode());
        assertEquals(200, request("GET", "/readyz").statusCode());
        long now = System.currentTimeMillis();
        api.snapshot = new ClusterSnapshot(100, 2, Phase.STARTING,
                List.of(new WorkerView(1, 0, 0, 4242, WorkerState.STARTING, now)), "", List.of());
        HttpResponse<String> notReady = request("GET", "/readyz");
        assertEquals(503, notReady.statusCode());
        assertTrue(notReady.body().contains("no worker is ready yet"));
        api.snapshot = new ClusterSnapshot(100, 2, Phase.STOPPING, List.of(), "", List.of());
        assertEquals(503, request("GET", "/readyz").statusCode());
        assertEquals(200, request("GET", "/healthz").statusCode());
    }

    @Test
    void logLevelRoute() throws Exception {
        HttpResponse<String> r = request("POST", "/logLevel/debug");
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

    @Test
    void changesNeedPost() throws Exception {
        for (String method : List.of("GET", "HEAD", "PUT")) {
            assertEquals(405, request(method, "/children/exit").statusCode(), method);
            assertEquals(405, request(method, "/logLevel/debug").statusCode(), method);
        }
        assertEquals(List.of(), api.calls, "a GET (an <img> tag, a link) changes nothing");
    }

    @Test
    void changesRefusedForUidsTheReplRefuses() throws Exception {
        server.close();
        // this test runs as root (or the service user): a policy without our uid stands for any other local user
        server = HttpStatusServer.start(api, null, 0, HttpStatusServer.Options.defaults().withAllowedUids(Set.of(54321)));
        HttpResponse<String> r = request("POST", "/children/exit");
        assertEquals(403, r.statusCode());
        assertTrue(r.body().contains("uid " + Users.ownUid() + " (gid"), r.body());
        assertEquals(403, request("POST", "/logLevel/debug").statusCode());
        assertEquals(200, request("GET", "/healthz").statusCode(), "reads stay open");
        assertEquals(List.of(), api.calls);
    }

    /** The attack of issue 12 as it was: an unprivileged local user POSTs /children/exit with curl. */
    @Test
    void unprivilegedLocalUserCannotReplaceWorkers() throws Exception {
        assumeTrue(Users.ownUid() == 0 && Files.isExecutable(Path.of("/usr/bin/setpriv"))
                && Files.isExecutable(Path.of("/usr/bin/curl")), "needs root, setpriv and curl");
        String url = "http://127.0.0.1:" + server.address().getPort();
        List<String> asNobody = List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "/usr/bin/curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST");
        assertEquals("403", run(concat(asNobody, url + "/children/exit")));
        assertEquals("403", run(concat(asNobody, url + "/logLevel/debug")));
        assertEquals(List.of(), api.calls);
        assertEquals("200", run(concat(asNobody.subList(4, asNobody.size() - 2), url + "/healthz")), "probes are open");
        assertEquals("200", run(List.of("/usr/bin/curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}",
                "-X", "POST", url + "/children/exit")), "root is allowed");
        assertEquals(List.of("stopWorkers"), api.calls);
    }

    @Test
    void ipv6LoopbackPeerIsIdentifiedToo() throws Exception {
        server.close();
        try {
            server = HttpStatusServer.start(api, "::1", 0, HttpStatusServer.Options.defaults());
        } catch (IOException e) {
            assumeTrue(false, "no IPv6 loopback: " + e.getMessage());
        }
        int port = server.address().getPort();
        try (Socket s = new Socket(InetAddress.getByName("::1"), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /children/exit HTTP/1.1\r\nHost: [::1]:" + port + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        }
        assertEquals(List.of("stopWorkers"), api.calls);
    }

    @Test
    void browsersAreKeptOut() throws Exception {
        int port = server.address().getPort();
        // DNS rebinding: evil.example resolves to 127.0.0.1, the browser still says whose page it is
        assertTrue(raw("GET / HTTP/1.1\r\nHost: evil.example:" + port + "\r\n\r\n").startsWith("HTTP/1.1 403"));
        // CSRF: a form on another site posts to 127.0.0.1
        assertTrue(raw("POST /children/exit HTTP/1.1\r\nHost: 127.0.0.1:" + port
                + "\r\nOrigin: https://evil.example\r\nContent-Length: 0\r\n\r\n").startsWith("HTTP/1.1 403"));
        assertTrue(raw("POST /children/exit HTTP/1.1\r\nHost: 127.0.0.1:" + port
                + "\r\nSec-Fetch-Site: cross-site\r\n\r\n").startsWith("HTTP/1.1 403"));
        assertTrue(raw("POST /children/exit HTTP/1.1\r\nHost: 127.0.0.1:" + (port + 1) + "\r\n\r\n").startsWith("HTTP/1.1 403"));
        assertEquals(List.of(), api.calls);
        assertTrue(raw("GET /healthz HTTP/1.1\r\nHost: localhost:" + port + "\r\n\r\n").startsWith("HTTP/1.1 200"));
        assertTrue(raw("GET /healthz HTTP/1.0\r\n\r\n").startsWith("HTTP/1.1 200"), "HTTP/1.0 without Host");
        assertTrue(raw("POST /children/exit HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nOrigin: http://127.0.0.1:" + port
                + "\r\nContent-Length: 2\r\n\r\n{}").startsWith("HTTP/1.1 200"));
        assertEquals(List.of("stopWorkers"), api.calls);
    }

    @Test
    void malformedAndOversizedRequests() throws Exception {
        assertTrue(raw("NOT HTTP\r\n\r\n").startsWith("HTTP/1.1 400"));
        assertTrue(raw("GET / HTTP/1.1\r\nX: " + "a".repeat(20_000) + "\r\n\r\n").startsWith("HTTP/1.1 431"));
        assertTrue(raw("POST /children/exit HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").startsWith("HTTP/1.1 411"));
        assertTrue(raw("POST /children/exit HTTP/1.1\r\nContent-Length: 99999\r\n\r\n").startsWith("HTTP/1.1 413"));
        assertEquals(List.of(), api.calls);
    }

    /** A client that never finishes its request is cut off after the request timeout. */
    @Test
    void slowRequestIsDropped() throws Exception {
        server.close();
        server = HttpStatusServer.start(api, null, 0, HttpStatusServer.Options.defaults().withRequestTimeout(Duration.ofMillis(500)));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort())) {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(10_000);
            long t0 = System.nanoTime();
            assertEquals(-1, s.getInputStream().read(), "closed without an answer");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 5_000, "dropped after " + ms + " ms");
        }
        Await.until("no connection left", () -> server.connectionCount() == 0, Duration.ofSeconds(5));
    }

    /** Slowloris: 200 clients trickle headers at 1 byte/s; /healthz must still answer within 100 ms. */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void healthzAnswersWhileSlowClientsHoldConnections() throws Exception {
        int port = server.address().getPort();
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
                slow.add(s);
            }
            Await.until("200 slow connections held", () -> server.connectionCount() >= 200, Duration.ofSeconds(10));
            List<Long> millis = new ArrayList<>();
            long nextTrickle = System.nanoTime();
            for (int probe = 0; probe < 20; probe++) {
                if (System.nanoTime() >= nextTrickle) {
                    for (Socket s : slow) {
                        s.getOutputStream().write('x'); // the server already holds their connections; keep them busy
                    }
                    nextTrickle = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                }
                long t0 = System.nanoTime();
                String answer = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n");
                millis.add((System.nanoTime() - t0) / 1_000_000);
                assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
                Thread.sleep(50);
            }
            List<Long> sorted = millis.stream().sorted().toList();
            System.out.println("healthz under 200 slowloris clients: median " + sorted.get(sorted.size() / 2)
                    + " ms, max " + sorted.get(sorted.size() - 1) + " ms");
            assertTrue(sorted.get(sorted.size() / 2) < 100, "median over 100 ms: " + millis);
            assertTrue(sorted.get(sorted.size() - 1) < 1000, "a probe took over 1 s: " + millis);
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    /** When every slot is taken by unfinished requests, the oldest is dropped for a new client. */
    @Test
    void fullServerDropsTheOldestUnfinishedRequest() throws Exception {
        server.close();
        server = HttpStatusServer.start(api, null, 0, HttpStatusServer.Options.defaults().withMaxConnections(8));
        int port = server.address().getPort();
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                s.getOutputStream().write("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                slow.add(s);
            }
            assertTrue(raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n").startsWith("HTTP/1.1 200"));
            assertTrue(server.connectionCount() <= 8, "connections " + server.connectionCount());
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    private String raw(String request) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private static List<String> concat(List<String> a, String b) {
        List<String> all = new ArrayList<>(a);
        all.add(b);
        return all;
    }

    private static String run(List<String> argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "command did not finish: " + argv);
        return out;
    }
}
