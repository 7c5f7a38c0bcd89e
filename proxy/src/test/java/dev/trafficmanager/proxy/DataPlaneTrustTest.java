package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the data plane refuses to trust, on the wire: paths that would climb out of their route,
 * upstream transfer codings, idle upstream pools kept forever, a background thread dying quietly.
 */
@ExtendWith(LocalStack.class)
class DataPlaneTrustTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream upstream;
    private static Sidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstream = TestUpstream.start("hello-v1");
        Map<String, String> env = harness.transparentSidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_UPSTREAM_POOL_IDLE_MS", "200");
        env.put("TM_UPSTREAM_POOL_EVICT_MS", "400");
        sidecar = SidecarHarness.startReady(env);
        harness.newRoute(sidecar, "hello", upstream.url("/hello-v1"));
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        upstream.close();
        harness.close();
    }

    private static String get(String target) throws IOException {
        return RawHttp.exchange(sidecar, "GET " + target + " HTTP/1.1\r\nHost: hello\r\n\r\n");
    }

    @Test
    void aPathCannotClimbOutOfItsRoute() throws Exception {
        long before = upstream.requests();
        for (String escape : new String[] {"/../admin", "/%2e%2e/admin", "/..%2fadmin", "/a/../../admin", "/%2E./admin",
            "/a%2fb", "/a%5Cb", "/a\\b"}) {
            String response = get(escape);
            assertThat(response).as(escape).startsWith("HTTP/1.1 400").contains("\"error\":\"invalid_path\"");
        }
        assertThat(upstream.requests()).as("nothing reached the upstream").isEqualTo(before);

        assertThat(get("/a/./b/../greet?x=/../y&z=%2f")).as("resolved inside the route; the query verbatim")
                .startsWith("HTTP/1.1 200").endsWith("hello-v1 GET /hello-v1/a/greet?x=/../y&z=%2f\n");
        assertThat(get("//evil.example/x")).as("a leading // never reaches the upstream")
                .endsWith("hello-v1 GET /hello-v1/evil.example/x\n");
        assertThat(get("/hello/../greet")).endsWith("hello-v1 GET /hello-v1/greet\n");
    }

    @Test
    void anUpstreamTransferCodingReachesTheClientOrTheResponseIs502() throws Exception {
        try (ScriptedUpstream gzip = new ScriptedUpstream((i, head) -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
                + "Content-Type: text/plain\r\n\r\n5\r\nGZIPD\r\n0\r\n\r\n")) {
            String service = harness.newRoute(sidecar, gzip.url(""));
            String http11 = RawHttp.exchange(sidecar, "GET /z HTTP/1.1\r\nHost: " + service + "\r\n\r\n");
            assertThat(http11).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: gzip, chunked")
                    .endsWith("GZIPD");
            String http10 = RawHttp.exchange(sidecar, "GET /z HTTP/1.0\r\nHost: " + service + "\r\n\r\n");
            assertThat(http10).startsWith("HTTP/1.1 502").contains("Transfer-Encoding gzip").doesNotContain("GZIPD");
        }
    }

    @Test
    void idleUpstreamPoolsAreEvictedWithTheirBreakers() throws Exception {
        try (ScriptedUpstream a = new ScriptedUpstream((i, head) -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
             ScriptedUpstream b = new ScriptedUpstream((i, head) -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) {
            for (ScriptedUpstream outside : new ScriptedUpstream[] {a, b}) {
                String authority = URI.create(outside.url("")).getAuthority();
                String response = RawHttp.exchange(sidecar, "GET http://" + authority + "/x HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
                assertThat(response).startsWith("HTTP/1.1 200");
            }
            assertThat(gauge("tm_upstream_pools")).isGreaterThanOrEqualTo(2);
            // pooled connections close after 200 ms idle, then the pools go after 400 ms unused
            Poll.until(Duration.ofSeconds(5), "every idle pool evicted", () -> gauge("tm_upstream_pools") == 0);
        }
    }

    @Test
    void aBackgroundThreadThatDiesTurnsHealthzAndReadyzInto503() throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        try (Sidecar own = SidecarHarness.startReady(harness.transparentSidecarEnv(dir.resolve("own.l1")))) {
            Set<Thread> threads = new HashSet<>(Thread.getAllStackTraces().keySet());
            threads.removeAll(before);
            HttpClient client = HttpClient.newHttpClient();
            URI healthz = URI.create("http://127.0.0.1:" + own.adminPort() + "/healthz");
            URI readyz = URI.create("http://127.0.0.1:" + own.adminPort() + "/readyz");
            assertThat(client.send(HttpRequest.newBuilder(healthz).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            Thread consumer = threads.stream().filter(t -> t.getName().equals("route-events")).findFirst().orElseThrow();
            stop(consumer);
            consumer.join(5000);
            HttpResponse<String> health = client.send(HttpRequest.newBuilder(healthz).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).contains("\"status\":\"failing\"").contains("Kafka consumer").contains("ThreadDeath");
            assertThat(client.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(503);
            assertThat(RawHttp.exchange(own, "GET /still HTTP/1.1\r\nHost: hello\r\n\r\n")).as("routes are still served")
                    .startsWith("HTTP/1.1 200");
        }
    }

    /** Kills {@code thread} with an Error (ThreadDeath), as an OutOfMemoryError or a bug would. */
    @SuppressWarnings({"deprecation", "removal"})
    private static void stop(Thread thread) {
        thread.stop();
    }

    private static double gauge(String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? (\\S+)$").matcher(sidecar.metrics().scrape());
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }
}
