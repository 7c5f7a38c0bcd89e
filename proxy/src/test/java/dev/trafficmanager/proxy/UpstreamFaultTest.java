package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upstreams that refuse, reset, hang or crawl, each next to a healthy one: the failing upstream's
 * requests get clear errors within their timeouts, retries stay within the policy, its circuit
 * breaker opens and closes by itself, and the healthy upstream's requests never fail.
 */
@ExtendWith(LocalStack.class)
class UpstreamFaultTest {
    private static final Duration RESPONSE_TIMEOUT = Duration.ofMillis(1000);
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream healthy;
    private static String healthyService;
    private static Sidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        healthy = TestUpstream.start("healthy");
        Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_UPSTREAM_RESPONSE_TIMEOUT_MS", String.valueOf(RESPONSE_TIMEOUT.toMillis()));
        env.put("TM_PROXY_EVENT_LOOPS", "1"); // one breaker per upstream: the test can count to it
        sidecar = SidecarHarness.startReady(env);
        healthyService = route(healthy.url("/"));
        Poll.until(Duration.ofSeconds(5), "healthy route served", () -> get(healthyService, "/").statusCode() == 200);
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        healthy.close();
        harness.close();
    }

    private static String route(String url) {
        return harness.newRoute(sidecar, url);
    }

    private static HttpResponse<String> get(String service, String path) {
        return harness.get(sidecar, path, service, "v1");
    }

    private static HttpResponse<String> post(String service) {
        return harness.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + "/"))
                .header("x-tm-service", service).header("x-tm-version", "v1")
                .POST(HttpRequest.BodyPublishers.ofString("order")).timeout(Duration.ofSeconds(20)).build());
    }

    private static double retries() {
        return sidecar.metrics().upstreamRetries().count();
    }

    private static void assertHealthyServes() {
        assertThat(get(healthyService, "/").statusCode()).as("the healthy upstream's route").isEqualTo(200);
    }

    @Test
    void aRefusingUpstreamIsRetriedForGetOnlyThenItsBreakerOpensAndClosesWhenItIsBack() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String service = route("http://127.0.0.1:" + port + "/");

        double before = retries();
        HttpResponse<String> getResponse = get(service, "/");
        assertThat(getResponse.statusCode()).isEqualTo(502);
        assertThat(getResponse.body()).contains("\"error\":\"upstream_unreachable\"").contains("tried 3 times");
        assertThat(retries() - before).as("a GET that reached nothing: two retries").isEqualTo(2.0);

        HttpResponse<String> postResponse = post(service);
        assertThat(postResponse.statusCode()).isEqualTo(502);
        assertThat(retries() - before).as("a POST is never retried").isEqualTo(2.0);
        assertHealthyServes();

        // 4 failures so far; the fifth in a row opens the breaker.
        HttpResponse<String> open = null;
        for (int i = 0; i < 3 && open == null; i++) {
            HttpResponse<String> response = get(service, "/");
            if (response.statusCode() == 503) {
                open = response;
            }
        }
        assertThat(open).as("503 once the breaker opened").isNotNull();
        assertThat(open.body()).contains("\"error\":\"upstream_circuit_open\"");
        double retriesWhileOpen = retries();
        long start = System.nanoTime();
        assertThat(get(service, "/").statusCode()).isEqualTo(503);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("refused at once").isLessThan(Duration.ofMillis(500));
        assertThat(retries()).as("nothing is retried against an open breaker").isEqualTo(retriesWhileOpen);
        assertHealthyServes();

        try (TestUpstream back = TestUpstream.start("back", port)) {
            long backAt = System.nanoTime();
            Poll.until(Duration.ofSeconds(5), "served again within 5 s of the upstream's return", () ->
                    get(service, "/").statusCode() == 200);
            assertThat(Duration.ofNanos(System.nanoTime() - backAt)).isLessThan(Duration.ofSeconds(5));
            assertThat(back.requests()).isPositive();
        }
    }

    @Test
    void anUpstreamResettingMidResponseCutsThatResponseOnlyAndTheNextIsServed() throws Exception {
        AtomicInteger connections = new AtomicInteger();
        String fullBody = "0123456789".repeat(10);
        try (ScriptedUpstream upstream = new ScriptedUpstream((index, head) -> connections.incrementAndGet() == 1
                ? "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + fullBody.substring(0, 30) + ScriptedUpstream.RESET
                : "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + fullBody)) {
            String service = route(upstream.url("/"));
            try (Socket socket = new Socket("127.0.0.1", sidecar.port())) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: app\r\nx-tm-service: " + service
                        + "\r\nx-tm-version: v1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                InputStream in = socket.getInputStream();
                String head = ScriptedUpstream.readHead(in);
                assertThat(head.toLowerCase()).startsWith("http/1.1 200").contains("content-length: 100");
                byte[] rest = readUntilClosed(in);
                assertThat(rest.length).as("the client sees the cut: fewer bytes than announced, then the close")
                        .isLessThan(100);
            }
            HttpResponse<String> next = get(service, "/");
            assertThat(next.statusCode()).isEqualTo(200);
            assertThat(next.body()).isEqualTo(fullBody);
            assertHealthyServes();
        }
    }

    private static byte[] readUntilClosed(InputStream in) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            for (int b; (b = in.read()) >= 0; ) {
                out.write(b);
            }
        } catch (java.io.IOException reset) {
            // a reset ends the stream as well as a close does
        }
        return out.toByteArray();
    }

    @Test
    void aHangingUpstreamIs504WithinTheResponseTimeoutAndASlowOneWithinItIsServed() {
        String service = route(healthy.url("/"));
        long start = System.nanoTime();
        HttpResponse<String> hanging = get(service, "/slow?ms=5000");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(hanging.statusCode()).isEqualTo(504);
        assertThat(hanging.body()).contains("\"error\":\"upstream_timeout\"");
        assertThat(took).isBetween(RESPONSE_TIMEOUT.minusMillis(50), RESPONSE_TIMEOUT.plusMillis(1500));

        HttpResponse<String> slow = get(service, "/slow?ms=300");
        assertThat(slow.statusCode()).isEqualTo(200);
        assertHealthyServes();
    }

    @Test
    void anUpstreamAnsweringGarbageIs502AndItsConnectionIsDropped() throws Exception {
        try (ScriptedUpstream upstream = new ScriptedUpstream((index, head) -> "SSH-2.0-OpenSSH_9.2\r\n\r\n")) {
            String service = route(upstream.url("/"));
            HttpResponse<String> response = get(service, "/");
            assertThat(response.statusCode()).isEqualTo(502);
            assertThat(response.body()).contains("\"error\":\"upstream_unreachable\"").contains("invalid response");
            get(service, "/");
            assertThat(upstream.connections).as("no connection reused after garbage").hasValue(2);
            assertHealthyServes();
        }
    }
}
