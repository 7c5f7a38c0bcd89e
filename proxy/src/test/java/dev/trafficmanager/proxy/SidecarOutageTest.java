package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** What the sidecar does when Kafka, Redis or PostgreSQL are gone. Each test brings the stack back. */
@ExtendWith(LocalStack.class)
class SidecarOutageTest {
    @TempDir
    Path dir;
    private static SidecarHarness harness;
    private static TestUpstream upstreamA;
    private static TestUpstream upstreamB;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstreamA = TestUpstream.start("a");
        upstreamB = TestUpstream.start("b");
    }

    @AfterEach
    void restoreStack() {
        LocalStack.ensureUpAgain();
    }

    @AfterAll
    static void stop() {
        upstreamA.close();
        upstreamB.close();
        harness.close();
    }

    private static String service() {
        return "svc-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static String upstreamOf(HttpResponse<String> response) {
        return response.headers().firstValue("x-upstream").orElse("status " + response.statusCode());
    }

    @Test
    void aRestartedSidecarRoutesEveryRouteInItsL1FileWithKafkaRedisAndPostgresStopped() throws Exception {
        String one = service();
        String two = service();
        harness.put(one, "v1", upstreamA.url("/"));
        harness.put(two, "v2", upstreamB.url("/"));
        Path l1 = dir.resolve("routes.l1");
        Map<String, String> env = harness.sidecarEnv(l1);
        try (Sidecar sidecar = SidecarHarness.startReady(env)) {
            Poll.until(Duration.ofSeconds(5), "both routes in L1", () ->
                    harness.get(sidecar, "/", one, "v1").statusCode() == 200 && harness.get(sidecar, "/", two, "v2").statusCode() == 200);
        }

        LocalStack.stop("kafka");
        LocalStack.stop("redis");
        LocalStack.stop("postgres");
        // Two minutes later by the sidecar's clock: every entry is past its TTL, no tier can confirm
        // it, so the last known entries are served (stale-if-error).
        long skew = Duration.ofMinutes(2).toMillis();
        try (Sidecar restarted = SidecarHarness.startSidecar(env, () -> System.currentTimeMillis() + skew)) {
            assertThat(upstreamOf(harness.get(restarted, "/", one, "v1"))).isEqualTo("a");
            assertThat(upstreamOf(harness.get(restarted, "/", two, "v2"))).isEqualTo("b");
            assertThat(restarted.metrics().staleServes().count()).isPositive();

            long start = System.nanoTime();
            HttpResponse<String> unknown = harness.get(restarted, "/", service(), "v1");
            assertThat(unknown.statusCode()).isEqualTo(503);
            assertThat(unknown.body()).contains("\"error\":\"route_lookup_unavailable\"");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
            assertThat(restarted.ready()).isFalse(); // it has not caught up with Kafka
        }
    }

    @Test
    void withKafkaStoppedAChangeAndANewRouteAreServedWithinTheirTtls() throws Exception {
        Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_ROUTE_TTL_MS", "2000");
        env.put("TM_NEGATIVE_TTL_MS", "1000");
        String changed = service();
        String created = service();
        harness.put(changed, "v1", upstreamA.url("/"));
        try (Sidecar sidecar = SidecarHarness.startReady(env)) {
            Poll.until(Duration.ofSeconds(5), "route to A", () -> upstreamOf(harness.get(sidecar, "/", changed, "v1")).equals("a"));
            assertThat(harness.get(sidecar, "/", created, "v1").statusCode()).isEqualTo(404);

            LocalStack.stop("kafka");
            harness.put(changed, "v1", upstreamB.url("/"));
            harness.put(created, "v1", upstreamB.url("/"));
            long start = System.nanoTime();
            // Within the negative TTL (1 s) plus one lookup, and the positive TTL (2 s) plus one lookup.
            Poll.until(Duration.ofMillis(2500), "created route served", () ->
                    harness.get(sidecar, "/", created, "v1").statusCode() == 200);
            Poll.until(Duration.ofMillis(3500), "changed route served from B", () ->
                    upstreamOf(harness.get(sidecar, "/", changed, "v1")).equals("b"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(3500));
        }
    }

    @Test
    void withRedisAndPostgresStoppedKnownRoutesKeepServingAndUnknownOnesGet503() throws Exception {
        String known = service();
        harness.put(known, "v1", upstreamA.url("/"));
        Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_ROUTE_TTL_MS", "1000");
        try (Sidecar sidecar = SidecarHarness.startReady(env)) {
            Poll.until(Duration.ofSeconds(5), "route served", () -> harness.get(sidecar, "/", known, "v1").statusCode() == 200);
            LocalStack.stop("redis");
            LocalStack.stop("postgres");
            long deadline = System.nanoTime() + Duration.ofMillis(2500).toNanos();
            int served = 0;
            while (System.nanoTime() < deadline) { // across the 1 s TTL: the entry expires meanwhile
                assertThat(upstreamOf(harness.get(sidecar, "/", known, "v1"))).isEqualTo("a");
                served++;
            }
            assertThat(served).isGreaterThan(1);
            assertThat(sidecar.metrics().staleServes().count()).isPositive();
            HttpResponse<String> unknown = harness.get(sidecar, "/", service(), "v1");
            assertThat(unknown.statusCode()).isEqualTo(503);

            LocalStack.start("redis");
            LocalStack.start("postgres");
            String fresh = service();
            harness.put(fresh, "v1", upstreamB.url("/"));
            Poll.until(Duration.ofSeconds(10), "recovered: a new route is served", () ->
                    upstreamOf(harness.get(sidecar, "/", fresh, "v1")).equals("b"));
        }
    }

    @Test
    void aHungRedisLeavesTimeToAskPostgres() throws Exception {
        String service = service();
        harness.put(service, "v1", upstreamA.url("/"));
        try (Sidecar sidecar = SidecarHarness.startSidecar(harness.isolatedSidecarEnv(dir.resolve("routes.l1")))) {
            Poll.until(Duration.ofSeconds(10), "Redis connected", () ->
                    harness.get(sidecar, "/", service(), "v1").statusCode() == 404
                            && sidecar.metrics().lookups(dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier.REDIS,
                            dev.trafficmanager.proxy.metrics.ProxyMetrics.Result.MISS) > 0);
            LocalStack.pause("redis");
            long start = System.nanoTime();
            HttpResponse<String> response = harness.get(sidecar, "/", service, "v1");
            assertThat(upstreamOf(response)).isEqualTo("a");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        }
    }
}
