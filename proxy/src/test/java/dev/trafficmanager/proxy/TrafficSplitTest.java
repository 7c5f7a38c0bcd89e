package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.ApiClient;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weighted version splits end to end: written through the control API, carried by Kafka, applied by
 * the sidecar to requests that name no version. Precision, stickiness, a moved weight, and the
 * versions a split cannot use.
 */
@ExtendWith(LocalStack.class)
class TrafficSplitTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream v1;
    private static TestUpstream v2;
    private static Sidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        v1 = TestUpstream.start("split-v1");
        v2 = TestUpstream.start("split-v2");
        sidecar = SidecarHarness.startReady(harness.transparentSidecarEnv(dir.resolve("routes.l1")));
    }

    @AfterAll
    static void stop() throws Exception {
        sidecar.close();
        v1.close();
        v2.close();
        harness.close();
    }

    @Test
    void aSplitHoldsItsWeightsKeepsUsersAndMovesOnlyWhomAGrowingWeightGains() {
        String service = "shop-" + UUID.randomUUID().toString().substring(0, 8);
        harness.put(service, "v1", v1.url("/"));
        harness.put(service, "v2", v2.url("/"));
        putSplit(service, "{\"weights\":{\"v1\":90,\"v2\":10},\"stickyHeader\":\"x-user-id\"}", 1);
        HttpResponse<String> resolved = harness.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + sidecar.adminPort() + "/admin/resolve?service=" + service + "&split")).build());
        assertThat(resolved.body()).as("the admin port shows the split")
                .contains("\"key\":\"" + harness.tenant + "/" + service + "/prod\"").contains("\"weights\":{\"v1\":90,\"v2\":10}");

        int toV2 = 0;
        for (int i = 0; i < 10_000; i++) {
            toV2 += version(service, null, null).equals("v2") ? 1 : 0;
        }
        System.out.printf("90/10 split: %d of 10000 requests to v2%n", toV2);
        assertThat(toV2 / 10_000.0).as("v2's share of a 90/10 split").isBetween(0.085, 0.115);

        Map<String, String> seen = new HashMap<>();
        for (int u = 0; u < 1_000; u++) {
            String user = "user-" + u;
            String first = version(service, user, null);
            for (int r = 1; r < 20; r++) {
                assertThat(version(service, user, null)).as("%s's request %d", user, r).isEqualTo(first);
            }
            seen.put(user, first);
        }
        long stickyV2 = seen.values().stream().filter("v2"::equals).count();
        assertThat(stickyV2).as("sticky users on v2").isBetween(50L, 150L);

        putSplit(service, "{\"weights\":{\"v1\":90,\"v2\":30},\"stickyHeader\":\"x-user-id\"}", 2);
        int moved = 0;
        for (Map.Entry<String, String> user : seen.entrySet()) {
            String now = version(service, user.getKey(), null);
            if (!now.equals(user.getValue())) {
                assertThat(user.getValue() + "->" + now).as("only users of v1 move, and to v2").isEqualTo("v1->v2");
                moved++;
            }
        }
        System.out.printf("v2 10 -> 30: %d of 1000 users moved, all from v1 to v2%n", moved);
        assertThat(moved).as("v2 grows from 10 %% to 25 %%: about 150 users move").isBetween(90, 210);
        assertThat(version(service, "someone", "v1")).as("a version header wins over the split").isEqualTo("v1");
    }

    @Test
    void aSplitSkipsVersionsWithoutAnActiveRouteAndSaysSoWhenNoneIsLeft() {
        String service = "skip-" + UUID.randomUUID().toString().substring(0, 8);
        harness.put(service, "v1", v1.url("/"));
        harness.put(service, "v2", v2.url("/"));
        assertThat(harness.post(service, "v2", "deactivate").status()).isEqualTo(200);
        putSplit(service, "{\"weights\":{\"v1\":1,\"v2\":50,\"v3\":50},\"stickyCookie\":\"uid\"}", 1);
        double skippedBefore = skipped();
        for (int i = 0; i < 50; i++) {
            HttpResponse<String> response = request(service, null, null, "uid=u" + i);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).startsWith("split-v1 ");
        }
        assertThat(skipped() - skippedBefore).as("deactivated v2 and missing v3 skipped, counted").isPositive();

        assertThat(harness.post(service, "v1", "deactivate").status()).isEqualTo(200);
        Poll.until(Duration.ofSeconds(10), "v1 deactivated in the sidecar",
                () -> !sidecar.resolver().entry(harness.tenant + "/" + service + "/prod/v1").active());
        HttpResponse<String> none = request(service, null, null, null);
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(none.body()).contains("route_not_found").contains("split " + harness.tenant + "/" + service + "/prod");

        ApiClient.Response deleted = harness.api.client.method("DELETE", splitPath(service), harness.token);
        assertThat(deleted.status()).isEqualTo(200);
        Poll.until(Duration.ofSeconds(10), "the split deleted in the sidecar", () -> !splitEntry(service).active());
        assertThat(harness.post(service, "v1", "activate").status()).isEqualTo(200);
        Poll.until(Duration.ofSeconds(10), "v1 active again",
                () -> sidecar.resolver().entry(harness.tenant + "/" + service + "/prod/v1").active());
        assertThat(request(service, null, null, null).body()).as("no split: the default version").startsWith("split-v1 ");
    }

    private void putSplit(String service, String body, long revision) {
        ApiClient.Response response = harness.api.client.put(splitPath(service), harness.token, body);
        assertThat(response.status()).as(response.body().toString()).isIn(200, 201);
        Poll.until(Duration.ofSeconds(10), "split revision " + revision + " in the sidecar",
                () -> splitEntry(service) != null && splitEntry(service).revision() == revision);
    }

    private RouteEntry splitEntry(String service) {
        return sidecar.resolver().entry(harness.tenant + "/" + service + "/prod");
    }

    private String splitPath(String service) {
        return "/v1/splits/" + harness.tenant + "/" + service + "/prod";
    }

    private double skipped() {
        return sidecar.metrics().registry().get("tm_split_versions_skipped").counter().count();
    }

    /** The version that answered: "v1" or "v2". */
    private String version(String service, String user, String version) {
        HttpResponse<String> response = request(service, user, version, null);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return response.body().startsWith("split-v2 ") ? "v2" : "v1";
    }

    private HttpResponse<String> request(String service, String user, String version, String cookie) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + "/hi"))
                .timeout(Duration.ofSeconds(20)).header("x-tm-service", service);
        if (user != null) {
            request.header("x-user-id", user);
        }
        if (version != null) {
            request.header("x-tm-version", version);
        }
        if (cookie != null) {
            request.header("Cookie", cookie);
        }
        return harness.send(request.build());
    }
}
