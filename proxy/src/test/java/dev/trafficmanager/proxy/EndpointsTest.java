package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routes with several endpoints: balanced per request, a failing endpoint retried around and
 * ejected, every endpoint tried when all fail (panic), an ejected one back after its time.
 */
@ExtendWith(LocalStack.class)
class EndpointsTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream a;
    private static TestUpstream b;
    private static Sidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        a = TestUpstream.start("ep-a");
        b = TestUpstream.start("ep-b");
        Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_OUTLIER_EJECTION_MS", "1500");
        sidecar = SidecarHarness.startReady(env);
    }

    @AfterAll
    static void stop() throws Exception {
        sidecar.close();
        a.close();
        b.close();
        harness.close();
    }

    @Test
    void aRefusingEndpointCostsNoRequestAndIsEjected() throws IOException {
        String bad = "http://127.0.0.1:" + closedPort() + "/";
        String service = route(a.url("/"), b.url("/"), bad);
        int aBefore = a.requests();
        int bBefore = b.requests();
        for (int i = 0; i < 1_000; i++) {
            HttpResponse<String> response = harness.get(sidecar, "/x", service, "v1");
            assertThat(response.statusCode()).as("request %d: %s", i, response.body()).isEqualTo(200);
        }
        System.out.printf("1000 GETs over 3 endpoints, one refusing: ep-a %d, ep-b %d%n",
                a.requests() - aBefore, b.requests() - bBefore);
        assertThat(a.requests() - aBefore).as("balanced: ep-a's share").isBetween(250, 750);
        assertThat(b.requests() - bBefore).as("balanced: ep-b's share").isBetween(250, 750);
        assertThat(counter("tm_endpoint_ejections")).as("the refusing endpoint ejected").isPositive();
        assertThat(counter("tm_upstream_retries")).as("its requests retried to another endpoint").isPositive();
    }

    @Test
    void whenEveryEndpointFailsRequestsStillTryThemAndGet502() throws IOException {
        String service = route("http://127.0.0.1:" + closedPort() + "/", "http://127.0.0.1:" + closedPort() + "/",
                "http://127.0.0.1:" + closedPort() + "/");
        for (int i = 0; i < 40; i++) {
            HttpResponse<String> response = harness.get(sidecar, "/x", service, "v1");
            assertThat(response.statusCode()).as("request %d: %s", i, response.body()).isEqualTo(502);
            assertThat(response.body()).contains("upstream_unreachable");
        }
        assertThat(counter("tm_endpoint_ejections_capped")).as("never more than half ejected").isPositive();
        assertThat(counter("tm_endpoint_panic_picks")).as("breakers open everywhere: panic").isPositive();
    }

    @Test
    void anEjectedEndpointComesBackAfterItsTime() throws Exception {
        int port = closedPort();
        String service = route(a.url("/"), "http://127.0.0.1:" + port + "/");
        double ejections = counter("tm_endpoint_ejections");
        Poll.until(Duration.ofSeconds(10), "the refusing endpoint ejected", () -> {
            assertThat(harness.get(sidecar, "/x", service, "v1").statusCode()).isEqualTo(200);
            return counter("tm_endpoint_ejections") > ejections;
        });
        double returns = counter("tm_endpoint_returns");
        try (TestUpstream revived = TestUpstream.start("ep-revived", port)) {
            Poll.until(Duration.ofSeconds(10), "the endpoint back and answering", () -> {
                assertThat(harness.get(sidecar, "/x", service, "v1").statusCode()).isEqualTo(200);
                return revived.requests() > 0;
            });
            assertThat(counter("tm_endpoint_returns")).isGreaterThan(returns);
        }
    }

    private String route(String... urls) {
        StringBuilder body = new StringBuilder("{\"endpoints\":[");
        for (int i = 0; i < urls.length; i++) {
            body.append(i == 0 ? "" : ",").append("{\"url\":\"").append(urls[i]).append("\"}");
        }
        return harness.newRouteOf(sidecar, body.append("]}").toString());
    }

    private double counter(String name) {
        return sidecar.metrics().registry().get(name).counter().count();
    }

    /** A loopback port nothing listens on (connections are refused). */
    static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
