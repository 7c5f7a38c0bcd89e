package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.ApiClient;
import dev.trafficmanager.controlapi.TestControlApi;
import dev.trafficmanager.testing.Command;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * TM_TENANT is binding: a request naming another tenant gets 403 tenant_forbidden and reaches no
 * upstream, the admin port shows no other tenant's routes, and only TM_ALLOWED_TENANTS widens it.
 * The other tenant's route is in the sidecar's L1 all along (Kafka brings every tenant's events).
 */
@ExtendWith(LocalStack.class)
class TenantBindingTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream ours;
    private static TestUpstream theirs;
    private static String other;
    private static Sidecar sidecar;
    private static Sidecar otherSidecar;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        ours = TestUpstream.start("ours");
        theirs = TestUpstream.start("theirs");
        other = TestControlApi.unique("other");
        String otherToken = harness.api.client.createTenant(TestControlApi.ADMIN_TOKEN, other);
        assertThat(harness.api.client.put("/v1/routes/" + other + "/hello/prod/v1", otherToken,
                ApiClient.urlBody(theirs.url("/theirs"))).status()).isEqualTo(201);
        // The other tenant's route reaches the L1 file the way it does on a shared node: a sidecar of
        // that tenant writes it there (ours replays only its own tenant's events).
        Map<String, String> otherEnv = harness.transparentSidecarEnv(dir.resolve("routes.l1"));
        otherEnv.put("TM_TENANT", other);
        otherSidecar = SidecarHarness.startReady(otherEnv);
        sidecar = SidecarHarness.startReady(harness.transparentSidecarEnv(dir.resolve("routes.l1")));
        harness.newRoute(sidecar, "hello", ours.url("/ours"));
        Poll.until(Duration.ofSeconds(5), "the other tenant's route in L1", () -> sidecar.resolver().entry(otherKey()) != null);
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        otherSidecar.close();
        ours.close();
        theirs.close();
        harness.close();
    }

    private static String otherKey() {
        return other + "/hello/prod/v1";
    }

    private static HttpResponse<String> get(Sidecar sidecar, String path, String... headers) {
        return harness.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
                .headers(headers).timeout(Duration.ofSeconds(10)).build());
    }

    private static HttpResponse<String> admin(Sidecar sidecar, String path) {
        return harness.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.adminPort() + path))
                .timeout(Duration.ofSeconds(10)).build());
    }

    @Test
    void anotherTenantsRouteIsForbiddenAndItsUpstreamNeverReached() {
        double before = sidecar.metrics().errors("tenant_forbidden");
        HttpResponse<String> byHeaders = get(sidecar, "/x", "x-tm-tenant", other, "x-tm-service", "hello");
        assertThat(byHeaders.statusCode()).isEqualTo(403);
        assertThat(byHeaders.body()).contains("\"error\":\"tenant_forbidden\"").contains(harness.tenant + " (TM_TENANT)");
        String proxied = ExternalClients.curl(Map.of(), "-x", "http://127.0.0.1:" + sidecar.port(),
                "-H", "x-tm-tenant: " + other, "http://hello/x");
        assertThat(proxied).contains("\"error\":\"tenant_forbidden\"").endsWith("403");
        assertThat(theirs.requests()).isZero();
        assertThat(sidecar.metrics().errors("tenant_forbidden") - before).isEqualTo(2);
        HttpResponse<String> own = get(sidecar, "/x", "x-tm-service", "hello");
        assertThat(own.statusCode()).isEqualTo(200);
        assertThat(own.body()).isEqualTo("ours GET /ours/x\n");
    }

    @Test
    void theAdminPortShowsNoOtherTenantsRoutes() {
        HttpResponse<String> routes = admin(sidecar, "/admin/routes?limit=10000");
        assertThat(routes.statusCode()).isEqualTo(200);
        assertThat(routes.body()).contains(harness.key("hello")).doesNotContain(other).doesNotContain(theirs.url(""));
        HttpResponse<String> resolve = admin(sidecar, "/admin/resolve?tenant=" + other + "&service=hello");
        assertThat(resolve.statusCode()).isEqualTo(403);
        assertThat(resolve.body()).contains("\"error\":\"tenant_forbidden\"").doesNotContain(theirs.url(""));
        assertThat(admin(sidecar, "/admin/resolve?service=hello").body()).contains(ours.url("/ours"));
    }

    @Test
    void aSidecarWithoutATenantRefusesToStartAndSaysWhy() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Map<String, String> env = new HashMap<>();
        env.put("TM_TENANT", null);
        env.put("TM_ALLOWED_TENANTS", null);
        env.put("TM_PROXY_PORT", "0");
        env.put("TM_PROXY_ADMIN_PORT", "0");
        Command.Result result = Command.run(List.of(java, "-cp", System.getProperty("java.class.path"),
                "dev.trafficmanager.proxy.Main"), env, dir, Duration.ofSeconds(60));
        assertThat(result.exit()).as(result.output()).isEqualTo(2);
        assertThat(result.output()).contains("proxy: invalid configuration: TM_TENANT: not set")
                .contains("TM_ALLOWED_TENANTS");
    }

    @Test
    void allowedTenantsWidenTheBindingForASharedGateway() throws Exception {
        Map<String, String> env = harness.transparentSidecarEnv(dir.resolve("gateway.l1"));
        env.put("TM_ALLOWED_TENANTS", other);
        try (Sidecar gateway = SidecarHarness.startReady(env)) {
            HttpResponse<String> theirRoute = get(gateway, "/x", "x-tm-tenant", other, "x-tm-service", "hello");
            assertThat(theirRoute.statusCode()).isEqualTo(200);
            assertThat(theirRoute.body()).isEqualTo("theirs GET /theirs/x\n");
            assertThat(get(gateway, "/x", "x-tm-tenant", "third-" + other, "x-tm-service", "hello").statusCode())
                    .isEqualTo(403);
            assertThat(admin(gateway, "/admin/routes?limit=10000").body()).contains(otherKey()).contains(harness.key("hello"));
        }
    }
}
