package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.metrics.ProxyMetrics.Result;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The sidecar against the real PostgreSQL, Redis and Kafka, a real control API and real upstreams. */
@ExtendWith(LocalStack.class)
class SidecarEndToEndTest {
    private static final Duration PROPAGATION = Duration.ofSeconds(1);

    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream upstreamA;
    private static TestUpstream upstreamB;
    private static Sidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstreamA = TestUpstream.start("a");
        upstreamB = TestUpstream.start("b");
        sidecar = SidecarHarness.startReady(harness.sidecarEnv(dir.resolve("routes.l1")));
    }

    @AfterAll
    static void stop() {
        if (sidecar != null) {
            sidecar.close();
        }
        if (upstreamA != null) {
            upstreamA.close();
            upstreamB.close();
        }
        if (harness != null) {
            harness.close();
        }
    }

    private static String service() {
        return "svc-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Polls through the sidecar until {@code condition} holds, failing after {@code within}. */
    private static HttpResponse<String> awaitResponse(Duration within, String what, String service, String version,
                                                      java.util.function.Predicate<HttpResponse<String>> condition) {
        return Poll.value(within, what, () -> {
            HttpResponse<String> response = harness.get(sidecar, "/", service, version);
            return condition.test(response) ? response : null;
        });
    }

    @Test
    void forwardsToTheUpstreamWithThePathAppendedToTheUrlsBasePath() {
        String service = service();
        harness.put(service, "v1", upstreamA.url("/base"));
        HttpResponse<String> response = awaitResponse(PROPAGATION, "route served", service, "v1", r -> r.statusCode() == 200);

        response = harness.get(sidecar, "/hello/world?x=1&y=2", service, "v1");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-upstream")).hasValue("a");
        assertThat(response.headers().firstValue("x-seen-uri")).hasValue("/base/hello/world?x=1&y=2");
        assertThat(response.headers().firstValue("x-seen-host")).hasValue("127.0.0.1:" + upstreamA.port());
        assertThat(response.headers().firstValue("x-seen-forwarded-for")).hasValue("127.0.0.1");
        assertThat(response.body()).isEqualTo("a GET /base/hello/world?x=1&y=2\n");
    }

    @Test
    void aChangedUrlIsServedWithinOneSecond() {
        String service = service();
        harness.put(service, "v1", upstreamA.url("/"));
        awaitResponse(PROPAGATION, "route to A", service, "v1", r -> "a".equals(r.headers().firstValue("x-upstream").orElse(null)));

        harness.put(service, "v1", upstreamB.url("/"));
        long changed = System.nanoTime();
        awaitResponse(PROPAGATION, "route to B within 1 s", service, "v1",
                r -> "b".equals(r.headers().firstValue("x-upstream").orElse(null)));
        assertThat(Duration.ofNanos(System.nanoTime() - changed)).isLessThan(PROPAGATION);
    }

    @Test
    void aDeactivatedRouteAnswers404WithinOneSecond() {
        String service = service();
        harness.put(service, "v1", upstreamA.url("/"));
        awaitResponse(PROPAGATION, "route served", service, "v1", r -> r.statusCode() == 200);

        assertThat(harness.post(service, "v1", "deactivate").status()).isEqualTo(200);
        HttpResponse<String> gone = awaitResponse(PROPAGATION, "404 within 1 s", service, "v1", r -> r.statusCode() == 404);
        assertThat(gone.body()).contains("\"error\":\"route_not_found\"");
    }

    @Test
    void anUnknownRouteIs404AndARepeatReachesNeitherRedisNorPostgres() {
        String service = service();
        HttpResponse<String> first = harness.get(sidecar, "/", service, "v1");
        assertThat(first.statusCode()).isEqualTo(404);
        assertThat(first.body()).contains("\"error\":\"route_not_found\"");
        long redis = SidecarHarness.lookups(sidecar, Tier.REDIS);
        long postgres = SidecarHarness.lookups(sidecar, Tier.POSTGRES);
        assertThat(postgres).isPositive();

        for (int i = 0; i < 5; i++) {
            assertThat(harness.get(sidecar, "/", service, "v1").statusCode()).isEqualTo(404);
        }
        assertThat(SidecarHarness.lookups(sidecar, Tier.REDIS)).isEqualTo(redis);
        assertThat(SidecarHarness.lookups(sidecar, Tier.POSTGRES)).isEqualTo(postgres);
    }

    @Test
    void aMissingServiceHeaderIs400AndAnInvalidOneToo() {
        HttpResponse<String> missing = harness.get(sidecar, "/", null, "v1");
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(missing.body()).contains("\"error\":\"missing_route_header\"").contains("x-tm-service");

        HttpResponse<String> invalid = harness.get(sidecar, "/", "Bad_Name!", "v1");
        assertThat(invalid.statusCode()).isEqualTo(400);
        assertThat(invalid.body()).contains("\"error\":\"invalid_route_header\"");
    }

    @Test
    void anUpstreamRefusingConnectionsIs502() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String service = service();
        harness.put(service, "v1", "http://127.0.0.1:" + closedPort + "/");
        HttpResponse<String> response = awaitResponse(PROPAGATION, "502", service, "v1", r -> r.statusCode() == 502);
        assertThat(response.body()).contains("\"error\":\"upstream_unreachable\"");
    }

    @Test
    void anUpstreamSlowerThanTheResponseTimeoutIs504() {
        String service = service();
        harness.put(service, "v1", upstreamA.url("/"));
        awaitResponse(PROPAGATION, "route served", service, "v1", r -> r.statusCode() == 200);

        long start = System.nanoTime();
        HttpResponse<String> response = harness.get(sidecar, "/slow?ms=4000", service, "v1");
        assertThat(response.statusCode()).isEqualTo(504);
        assertThat(response.body()).contains("\"error\":\"upstream_timeout\"");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(3500));
    }

    @Test
    void aHundredConcurrentRequestsForOneUncachedKeyMakeOnePostgresQuery() throws Exception {
        String service = service();
        harness.put(service, "v1", upstreamA.url("/"));
        try (Sidecar isolated = SidecarHarness.startSidecar(harness.isolatedSidecarEnv(dir.resolve("isolated.l1")))) {
            long before = SidecarHarness.lookups(isolated, Tier.POSTGRES);
            List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + isolated.port() + "/"))
                    .header("x-tm-service", service).header("x-tm-version", "v1").timeout(Duration.ofSeconds(20)).build();
            for (int i = 0; i < 100; i++) {
                responses.add(harness.http().sendAsync(request, HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> response : responses) {
                assertThat(response.get().statusCode()).isEqualTo(200);
                assertThat(response.get().headers().firstValue("x-upstream")).hasValue("a");
            }
            assertThat(SidecarHarness.lookups(isolated, Tier.POSTGRES) - before).isEqualTo(1);
            assertThat(isolated.metrics().lookups(Tier.POSTGRES, Result.HIT)).isEqualTo(1.0);
        }
    }

    @Test
    void theAdminPortShowsMetricsRoutesAndTheTierThatAnswered() throws Exception {
        String service = service();
        harness.put(service, "v1", upstreamA.url("/"));
        awaitResponse(PROPAGATION, "route served", service, "v1", r -> r.statusCode() == 200);
        String admin = "http://127.0.0.1:" + sidecar.adminPort();

        HttpResponse<String> ready = harness.send(HttpRequest.newBuilder(URI.create(admin + "/readyz")).build());
        assertThat(ready.statusCode()).isEqualTo(200);
        HttpResponse<String> metrics = harness.send(HttpRequest.newBuilder(URI.create(admin + "/metrics")).build());
        assertThat(metrics.body()).contains("tm_proxy_requests_total{status_class=\"2xx\"}")
                .contains("tm_route_lookups_total{result=\"hit\",tier=\"near\"}")
                .contains("tm_upstream_latency_seconds_bucket").contains("tm_kafka_lag")
                .contains("tm_route_stale_serves_total").contains("tm_upstream_connections_open");
        HttpResponse<String> resolve = harness.send(HttpRequest.newBuilder(URI.create(admin + "/admin/resolve?service="
                + service + "&version=v1")).build());
        assertThat(resolve.statusCode()).isEqualTo(200);
        assertThat(resolve.body()).contains("\"tier\":\"near\"").contains("\"revision\":1").contains("\"age_ms\":");
        HttpResponse<String> routes = harness.send(HttpRequest.newBuilder(URI.create(admin + "/admin/routes?prefix="
                + harness.tenant + "/" + service)).build());
        assertThat(routes.body()).contains(harness.tenant + "/" + service + "/prod/v1");

        // Pipelined: the asynchronous resolve answers first, in order.
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", sidecar.adminPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /admin/resolve?service=unknown-" + service + "&version=v1 HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String both = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(both.indexOf("\"tier\":\"postgres\"")).isPositive().isLessThan(both.indexOf("\"status\":\"ok\""));
        }
    }
}
