package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.TestUpstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A route's own response timeout and retries, against the sidecar's defaults for other routes. */
@ExtendWith(LocalStack.class)
class RoutePolicyTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream slow;
    private static HttpServer unavailable;
    private static final AtomicInteger unavailableRequests = new AtomicInteger();
    private static Sidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        slow = TestUpstream.start("slow");
        unavailable = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        unavailable.createContext("/", exchange -> {
            unavailableRequests.incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        unavailable.start();
        sidecar = SidecarHarness.startReady(harness.sidecarEnv(dir.resolve("routes.l1"))); // default timeout 1500 ms
    }

    @AfterAll
    static void stop() throws Exception {
        sidecar.close();
        unavailable.stop(0);
        slow.close();
        harness.close();
    }

    @Test
    void aRouteTimeoutCutsItsSlowUpstreamWhileAnotherRouteKeepsTheDefault() {
        String quick = route("{\"url\":\"" + slow.url("/") + "\",\"timeoutMs\":200}");
        String patient = route("{\"url\":\"" + slow.url("/") + "\"}");

        long started = System.nanoTime();
        HttpResponse<String> cut = harness.get(sidecar, "/slow?ms=1200", quick, "v1");
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("route with timeoutMs 200 to an upstream answering in 1200 ms: %d after %d ms%n",
                cut.statusCode(), millis);
        assertThat(cut.statusCode()).isEqualTo(504);
        assertThat(cut.body()).contains("upstream_timeout").contains("200 ms (the route's timeoutMs)");
        assertThat(millis).as("cut by the route's 200 ms, not the upstream's 1200").isLessThan(1200);

        HttpResponse<String> waited = harness.get(sidecar, "/slow?ms=700", patient, "v1");
        assertThat(waited.statusCode()).as("the default 1500 ms applies to the other route").isEqualTo(200);
    }

    @Test
    void gatewayErrorsAreRetriedForIdempotentRequestsOnlyAndToAnotherEndpoint() {
        String unavailableUrl = "http://127.0.0.1:" + unavailable.getAddress().getPort() + "/";
        String retried = route("{\"url\":\"" + unavailableUrl + "\",\"retries\":{\"attempts\":2,\"on\":[\"gateway-error\"]}}");
        int before = unavailableRequests.get();
        HttpResponse<String> get = harness.get(sidecar, "/x", retried, "v1");
        assertThat(get.statusCode()).as(get.headers().map() + " " + get.body()).isEqualTo(503);
        assertThat(unavailableRequests.get() - before).as("a GET tried 1 + 2 times").isEqualTo(3);

        before = unavailableRequests.get();
        HttpResponse<String> post = harness.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + "/x"))
                .header("x-tm-service", retried).header("x-tm-version", "v1")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build());
        assertThat(post.statusCode()).isEqualTo(503);
        assertThat(unavailableRequests.get() - before).as("a POST is never retried").isEqualTo(1);

        String plain = route("{\"url\":\"" + unavailableUrl + "\"}");
        before = unavailableRequests.get();
        assertThat(harness.get(sidecar, "/x", plain, "v1").statusCode()).isEqualTo(503);
        assertThat(unavailableRequests.get() - before).as("without retries on gateway-error: once").isEqualTo(1);

        String balanced = route("{\"endpoints\":[{\"url\":\"" + unavailableUrl + "\"},{\"url\":\"" + slow.url("/")
                + "\"}],\"retries\":{\"attempts\":1,\"on\":[\"gateway-error\"]}}");
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> response = harness.get(sidecar, "/x", balanced, "v1");
            assertThat(response.statusCode()).as("a 503 retried to the other endpoint").isEqualTo(200);
        }
    }

    private String route(String body) {
        return harness.newRouteOf(sidecar, body);
    }
}
