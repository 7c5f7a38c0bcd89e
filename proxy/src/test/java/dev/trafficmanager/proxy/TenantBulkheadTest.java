package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.ApiClient;
import dev.trafficmanager.controlapi.TestControlApi;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** TM_PROXY_TENANT_MAX_IN_FLIGHT: a noisy tenant's requests past its cap get 503; another tenant is served meanwhile. */
@ExtendWith(LocalStack.class)
class TenantBulkheadTest {
    @TempDir
    Path dir;

    @Test
    void aNoisyTenantCannotTakeTheOthersShare() throws Exception {
        try (SidecarHarness harness = SidecarHarness.start(); TestUpstream upstream = TestUpstream.start("b")) {
            harness.put("slow", "v1", upstream.url("/"));
            String quiet = TestControlApi.unique("quiet");
            String quietToken = harness.api.client.createTenant(TestControlApi.ADMIN_TOKEN, quiet);
            assertThat(harness.api.client.put("/v1/routes/" + quiet + "/svc/prod/v1", quietToken,
                    ApiClient.urlBody(upstream.url("/"))).status()).isEqualTo(201);
            Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
            env.put("TM_PROXY_TENANT_MAX_IN_FLIGHT", "2");
            env.put("TM_ALLOWED_TENANTS", quiet); // a shared sidecar, deliberately
            env.put("TM_UPSTREAM_RESPONSE_TIMEOUT_MS", "10000"); // the slow requests take 4 s
            try (Sidecar sidecar = SidecarHarness.startReady(env)) {
                Poll.until(Duration.ofSeconds(3), "both routes known", () ->
                        sidecar.resolver().entry(harness.key("slow")) != null
                                && sidecar.resolver().entry(quiet + "/svc/prod/v1") != null);
                String base = "http://127.0.0.1:" + sidecar.port();
                // the noisy tenant (the sidecar's default) fills its two slots with slow requests, on
                // raw sockets so that both are surely sent at once
                List<Socket> slow = List.of(slowRequest(sidecar), slowRequest(sidecar));
                // Only once both reached the upstream do they surely hold both slots: a third request
                // sent earlier could take a slot first and have one of them refused instead.
                Poll.until(Duration.ofSeconds(5), "both slow requests at the upstream", () -> upstream.requests() == 2);
                HttpResponse<String> refused = harness.get(sidecar, "/", "slow", "v1");
                assertThat(refused.statusCode()).isEqualTo(503);
                assertThat(refused.body()).contains("\"error\":\"tenant_overloaded\"").contains("TM_PROXY_TENANT_MAX_IN_FLIGHT");
                // the other tenant is served while the noisy one is at its cap
                HttpResponse<String> served = harness.send(HttpRequest.newBuilder(URI.create(base + "/hello"))
                        .header("x-tm-tenant", quiet).header("x-tm-service", "svc").header("x-tm-version", "v1")
                        .timeout(Duration.ofSeconds(5)).build());
                assertThat(served.statusCode()).isEqualTo(200);
                // the slots come back when the slow requests end
                for (Socket socket : slow) {
                    try (socket) {
                        String status = new String(socket.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1);
                        assertThat(status).isEqualTo("HTTP/1.1 200");
                    }
                }
                assertThat(harness.get(sidecar, "/", "slow", "v1").statusCode()).isEqualTo(200);
            }
        }
    }

    private static Socket slowRequest(Sidecar sidecar) throws IOException {
        Socket socket = new Socket("127.0.0.1", sidecar.port());
        socket.setSoTimeout(15_000);
        socket.getOutputStream().write(("GET /slow?ms=4000 HTTP/1.1\r\nHost: app\r\nx-tm-service: slow\r\nx-tm-version: v1\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        return socket;
    }
}
