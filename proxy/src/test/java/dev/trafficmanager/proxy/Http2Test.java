package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 with prior knowledge on the proxy port, from Netty's HTTP/2 client and from curl, to an
 * h2c upstream: streams multiplexed both ways, bodies, trailers as trailers, route headers and the
 * same errors as HTTP/1.1; and HTTP/1.1 on the same port meanwhile.
 */
@ExtendWith(LocalStack.class)
@Timeout(120)
class Http2Test {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static H2Upstream upstream;
    private static TestUpstream http1;
    private static Sidecar sidecar;
    private static String service;
    private static TestTls tls;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstream = new H2Upstream();
        http1 = TestUpstream.start("plain");
        Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_PROXY_EVENT_LOOPS", "1");
        tls = TestTls.create(dir);
        env.put("TM_UPSTREAM_CA_FILE", tls.certificate().toString());
        sidecar = SidecarHarness.startReady(env);
        service = harness.newRoute(sidecar, upstream.url());
    }

    @AfterAll
    static void stop() throws Exception {
        sidecar.close();
        upstream.close();
        http1.close();
        harness.close();
    }

    private static Map<String, String> route(String service) {
        return Map.of("x-tm-service", service, "x-tm-version", "v1");
    }

    @Test
    void streamsAreMultiplexedToAnH2cUpstreamOverOneConnection() throws Exception {
        try (H2Client client = new H2Client(sidecar.port())) {
            List<CompletableFuture<H2Client.Answer>> answers = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                answers.add(client.send("GET", "/item/" + i, route(service), null));
            }
            for (int i = 0; i < 50; i++) {
                H2Client.Answer answer = answers.get(i).get(20, TimeUnit.SECONDS);
                assertThat(answer.status()).isEqualTo("200");
                assertThat(answer.body()).isEqualTo("h2 GET /item/" + i + " bytes=0");
            }
        }
        assertThat(upstream.connections).hasSize(1); // one event loop: one pooled upstream connection
        assertThat(upstream.requestHeads.get(0)).contains("x-forwarded-for: 127.0.0.1").contains("via: 1.1 tm-")
                .contains("x-forwarded-host: h2.test");
    }

    @Test
    void theUpstreamsStreamLimitIsRespectedWithMoreConnections() throws Exception {
        try (H2Upstream narrow = new H2Upstream(2)) {
            String limited = harness.newRoute(sidecar, narrow.url());
            try (H2Client client = new H2Client(sidecar.port())) {
                client.get("/first", route(limited)); // its SETTINGS are known from here on
                List<CompletableFuture<H2Client.Answer>> answers = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    answers.add(client.send("GET", "/slow/" + i, route(limited), null));
                }
                for (CompletableFuture<H2Client.Answer> answer : answers) {
                    H2Client.Answer got = answer.get(20, TimeUnit.SECONDS);
                    assertThat(got.status()).as(got.body()).isEqualTo("200");
                }
            }
            assertThat(narrow.maxActiveStreams.get()).as("streams open at once on one connection").isLessThanOrEqualTo(2);
            assertThat(narrow.connections.size()).as("connections the ten needed").isGreaterThanOrEqualTo(5);
        }
    }

    @Test
    void afterAGoAwayStreamsInFlightFinishAndNewOnesTakeANewConnection() throws Exception {
        try (H2Upstream leaving = new H2Upstream(100)) {
            String route = harness.newRoute(sidecar, leaving.url());
            try (H2Client client = new H2Client(sidecar.port())) {
                assertThat(client.get("/warm", route(route)).status()).isEqualTo("200");
                assertThat(leaving.connections).hasSize(1);
                CompletableFuture<H2Client.Answer> inFlight = client.send("GET", "/slow/in-flight", route(route), null);
                Poll.until(Duration.ofSeconds(5), "the slow request at the upstream", () -> leaving.requestHeads.size() == 2);
                leaving.goAwayEverywhere();
                H2Client.Answer after = client.get("/after", route(route));
                assertThat(after.status()).isEqualTo("200");
                assertThat(inFlight.get(20, TimeUnit.SECONDS).body()).isEqualTo("h2 GET /slow/in-flight bytes=0");
            }
            assertThat(leaving.connections).as("a new connection after the GOAWAY").hasSize(2);
        }
    }

    @Test
    void aStreamTheUpstreamRefusedIsSentAgainEvenAPost() throws Exception {
        try (H2Client client = new H2Client(sidecar.port())) {
            for (String method : new String[] {"GET", "POST"}) {
                String path = "/refuse-once/" + method;
                H2Client.Answer answer = client.send(method, path, route(service), null).get(20, TimeUnit.SECONDS);
                assertThat(answer.status()).as(answer.body()).isEqualTo("200");
                assertThat(answer.body()).isEqualTo("h2 " + method + " " + path + " bytes=0");
                assertThat(upstream.requestHeads).anyMatch(head -> head.equals("REFUSED " + path));
            }
        }
    }

    @Test
    void anHttp11UpstreamsInformationalResponseReachesAnHttp2ClientAsItsOwnHeaders() throws Exception {
        String pinnedHttp1 = harness.newPinnedRoute(sidecar, http1.url("/"), "http1");
        Map<String, String> headers = new java.util.HashMap<>(route(pinnedHttp1));
        headers.put("expect", "100-continue");
        try (H2Client client = new H2Client(sidecar.port())) {
            H2Client.Answer answer = client.send("POST", "/continue", headers, new byte[] {1, 2, 3}).get(20, TimeUnit.SECONDS);
            assertThat(answer.informational()).containsExactly("100");
            assertThat(answer.status()).isEqualTo("200");
            assertThat(answer.body()).contains("plain");
        }
    }

    @Test
    void bodiesAndTrailersPassAsTheyAre() throws Exception {
        byte[] body = new byte[1 << 20];
        try (H2Client client = new H2Client(sidecar.port())) {
            H2Client.Answer answer = client.send("POST", "/upload?trailers", route(service), body).get(20, TimeUnit.SECONDS);
            assertThat(answer.body()).isEqualTo("h2 POST /upload?trailers bytes=" + body.length);
            assertThat(answer.trailers()).as("trailers arrive as a trailers frame").isNotNull();
            assertThat(answer.trailers().get("x-body-bytes").toString()).isEqualTo(String.valueOf(body.length));
        }
    }

    @Test
    void theSidecarsErrorsAreTheSameOverHttp2() throws Exception {
        try (H2Client client = new H2Client(sidecar.port())) {
            H2Client.Answer invalid = client.get("/", route("Not_A_Name!"));
            assertThat(invalid.status()).isEqualTo("400");
            assertThat(invalid.body()).contains("invalid_route_header");
            H2Client.Answer unknown = client.get("/", route("nosuch-service"));
            assertThat(unknown.status()).isEqualTo("404");
            assertThat(unknown.body()).contains("route_not_found");
            H2Client.Answer connect = client.send("CONNECT", null, Map.of(), null).get(20, TimeUnit.SECONDS);
            assertThat(connect.status()).isEqualTo("501");
            assertThat(connect.body()).contains("connect_unsupported");
        }
    }

    @Test
    void aRouteThatPinsItsProtocolIsTranslatedEitherWay() throws Exception {
        // An HTTP/2 client to an HTTP/1.1-only upstream: an auto route tries h2c, hears HTTP/1.1's
        // answer to the preface and sends the request again over HTTP/1.1 (and then at once, a while).
        String auto = harness.newRoute(sidecar, http1.url("/"));
        String pinnedHttp1 = harness.newPinnedRoute(sidecar, http1.url("/"), "http1");
        try (H2Client client = new H2Client(sidecar.port())) {
            for (int i = 0; i < 2; i++) {
                H2Client.Answer fellBack = client.get("/hello", route(auto));
                assertThat(fellBack.status()).as(fellBack.body()).isEqualTo("200");
                assertThat(fellBack.body()).contains("plain");
            }
            H2Client.Answer translated = client.get("/hello", route(pinnedHttp1));
            assertThat(translated.status()).isEqualTo("200");
            assertThat(translated.body()).contains("plain");
        }
        // An HTTP/1.1 client to an h2c-only upstream that the route pins to h2.
        String pinnedH2 = harness.newPinnedRoute(sidecar, upstream.url(), "h2");
        String viaHttp11 = ExternalClients.curl(Map.of(), "--http1.1", "-H", "x-tm-service: " + pinnedH2, "-H", "x-tm-version: v1",
                "http://127.0.0.1:" + sidecar.port() + "/from-http11?trailers", "--data-binary", "12345");
        assertThat(viaHttp11).isEqualTo("h2 POST /from-http11?trailers bytes=5200");
    }

    @Test
    void overTlsAnAutoRouteNegotiatesH2ByAlpnOrFallsBackToHttp11() throws Exception {
        try (H2Upstream h2OverTls = new H2Upstream(100, tls.server());
             TestUpstream http11OverTls = TestUpstream.startTls("tls-plain", tls.server());
             H2Client client = new H2Client(sidecar.port())) {
            String h2Route = harness.newRoute(sidecar, h2OverTls.url());
            assertThat(client.get("/alpn", route(h2Route)).body()).isEqualTo("h2 GET /alpn bytes=0");
            String http11Route = harness.newRoute(sidecar, http11OverTls.url("/"));
            H2Client.Answer fellBack = client.get("/alpn", route(http11Route));
            assertThat(fellBack.status()).as(fellBack.body()).isEqualTo("200");
            assertThat(fellBack.body()).contains("tls-plain");
        }
    }

    @Test
    void curlWithPriorKnowledgeAndHttp11ShareThePort() {
        String out = ExternalClients.curl(Map.of(), "--http2-prior-knowledge", "-H", "x-tm-service: " + service,
                "-H", "x-tm-version: v1", "-w", " %{http_version}", "http://127.0.0.1:" + sidecar.port() + "/curl");
        assertThat(out).isEqualTo("h2 GET /curl bytes=0 2");
        String plain = harness.newRoute(sidecar, http1.url("/"));
        String http11 = ExternalClients.curl(Map.of(), "--http1.1", "-H", "x-tm-service: " + plain, "-H", "x-tm-version: v1",
                "http://127.0.0.1:" + sidecar.port() + "/hello");
        assertThat(http11).endsWith("200");
    }
}
