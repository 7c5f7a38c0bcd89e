package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Result;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
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
            long back = System.nanoTime();
            String fresh = service();
            harness.put(fresh, "v1", upstreamB.url("/"));
            recoveredWithinFiveSeconds(back, "a new route served", () -> upstreamOf(harness.get(sidecar, "/", fresh, "v1")).equals("b"));
        }
    }

    /** Requests {@code service} for {@code duration}; every one must reach {@code upstream}. Returns how many went. */
    private static int servedWithoutErrors(Sidecar sidecar, String service, String upstream, Duration duration) {
        long deadline = System.nanoTime() + duration.toNanos();
        int served = 0;
        while (System.nanoTime() < deadline) {
            assertThat(upstreamOf(harness.get(sidecar, "/", service, "v1"))).as("request %d to a known route", served)
                    .isEqualTo(upstream);
            served++;
        }
        return served;
    }

    @Test
    void aHungPostgresLeavesKnownRoutesServingAndAnUnknownOneGets503InTheLookupTimeout() throws Exception {
        String known = service();
        String fresh = service(); // in PostgreSQL, but never asked for before the fault
        harness.put(known, "v1", upstreamA.url("/"));
        harness.put(fresh, "v1", upstreamB.url("/"));
        Map<String, String> env = harness.isolatedSidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_ROUTE_TTL_MS", "1000");
        try (Sidecar sidecar = SidecarHarness.startSidecar(env)) {
            Poll.until(Duration.ofSeconds(10), "known route served", () -> upstreamOf(harness.get(sidecar, "/", known, "v1")).equals("a"));
            LocalStack.pause("postgres");
            // across the 1 s TTL: re-confirmed by Redis, or served stale
            assertThat(servedWithoutErrors(sidecar, known, "a", Duration.ofMillis(2500))).isGreaterThan(1);
            for (int i = 0; i < 3; i++) {
                long start = System.nanoTime();
                HttpResponse<String> unknown = harness.get(sidecar, "/", service(), "v1");
                assertThat(unknown.statusCode()).isEqualTo(503);
                assertThat(unknown.body()).contains("\"error\":\"route_lookup_unavailable\"");
                // the lookup timeout (1 s) and scheduling, never the JDBC socket timeout
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1800));
            }

            LocalStack.resume("postgres");
            recoveredWithinFiveSeconds(System.nanoTime(), "a route only PostgreSQL knows served",
                    () -> upstreamOf(harness.get(sidecar, "/", fresh, "v1")).equals("b"));
        }
    }

    @Test
    void redisBackFromAnOutageIsAskedAgainWithinFiveSeconds() throws Exception {
        String known = service();
        harness.put(known, "v1", upstreamA.url("/"));
        try (Sidecar sidecar = SidecarHarness.startSidecar(harness.isolatedSidecarEnv(dir.resolve("routes.l1")))) {
            Poll.until(Duration.ofSeconds(10), "known route served", () -> upstreamOf(harness.get(sidecar, "/", known, "v1")).equals("a"));
            LocalStack.stop("redis");
            // new keys: Redis fails or its breaker skips it, PostgreSQL answers
            for (int i = 0; i < 8; i++) {
                assertThat(harness.get(sidecar, "/", service(), "v1").statusCode()).isEqualTo(404);
            }
            assertThat(sidecar.resolver().redisBreaker()).isEqualTo(dev.trafficmanager.proxy.resilience.CircuitBreaker.State.OPEN);
            assertThat(servedWithoutErrors(sidecar, known, "a", Duration.ofMillis(500))).isPositive();

            LocalStack.start("redis");
            redisAnswersAgainWithinFiveSeconds(sidecar);
        }
    }

    /**
     * Polls {@code condition} until 5 s after {@code since} (when the fault ended) and asserts it
     * held by then: the bound on recovering by itself.
     */
    private static void recoveredWithinFiveSeconds(long since, String what, BooleanSupplier condition) {
        Duration bound = Duration.ofSeconds(5);
        Poll.until(bound.minusNanos(System.nanoTime() - since), what + " within 5 s of the fault's end", condition);
        assertThat(Duration.ofNanos(System.nanoTime() - since)).as(what).isLessThan(bound);
    }

    /** Each poll asks for a new key, so the lookup goes to Redis if its breaker lets it. */
    private static void redisAnswersAgainWithinFiveSeconds(Sidecar sidecar) {
        double answeredBefore = redisAnswers(sidecar);
        recoveredWithinFiveSeconds(System.nanoTime(), "Redis answering lookups again", () -> {
            harness.get(sidecar, "/", service(), "v1");
            return redisAnswers(sidecar) > answeredBefore;
        });
    }

    private static double redisAnswers(Sidecar sidecar) {
        return sidecar.metrics().lookups(Tier.REDIS, Result.MISS) + sidecar.metrics().lookups(Tier.REDIS, Result.HIT)
                + sidecar.metrics().lookups(Tier.REDIS, Result.NEGATIVE);
    }

    @Test
    void changesMadeWhileKafkaIsDownAllArriveInRevisionOrderOnceItIsBack() throws Exception {
        String known = service();
        harness.put(known, "v1", upstreamA.url("/"));
        String[] changed = {service(), service(), service()};
        for (String service : changed) {
            harness.put(service, "v1", upstreamA.url("/r1/"));
        }
        Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
        try (Sidecar sidecar = SidecarHarness.startReady(env)) {
            Poll.until(Duration.ofSeconds(10), "routes read from Kafka", () -> {
                for (String service : changed) {
                    if (sidecar.resolver().entry(harness.key(service)) == null) {
                        return false;
                    }
                }
                return upstreamOf(harness.get(sidecar, "/", known, "v1")).equals("a");
            });
            double applied = sidecar.metrics().eventsApplied().count();
            double ignored = sidecar.metrics().eventsIgnored().count();

            LocalStack.stop("kafka");
            int changes = 0;
            long[] last = new long[changed.length];
            for (int round = 2; round <= 11; round++) {
                for (int i = 0; i < changed.length; i++) {
                    last[i] = harness.put(changed[i], "v1", upstreamA.url("/r" + round + "/")).body().get("revision").asLong();
                    changes++;
                }
            }
            // The changed routes are not asked for meanwhile: their new revisions can only come from Kafka.
            assertThat(servedWithoutErrors(sidecar, known, "a", Duration.ofMillis(500))).isPositive();

            LocalStack.start("kafka");
            long back = System.nanoTime();
            Poll.until(Duration.ofSeconds(30), "every change read", () -> {
                for (int i = 0; i < changed.length; i++) {
                    RouteEntry entry = sidecar.resolver().entry(harness.key(changed[i]));
                    if (entry.revision() != last[i]) {
                        return false;
                    }
                }
                return true;
            });
            Duration recovery = Duration.ofNanos(System.nanoTime() - back);
            // In order: each event was newer than the one before it, so each changed L1 and none was ignored.
            assertThat(sidecar.metrics().eventsApplied().count() - applied).as("events applied").isEqualTo(changes);
            assertThat(sidecar.metrics().eventsIgnored().count() - ignored).as("events out of order").isZero();
            for (int i = 0; i < changed.length; i++) {
                assertThat(sidecar.resolver().entry(harness.key(changed[i])).url()).endsWith("/r11/");
            }
            System.out.println("changes after Kafka's return: all " + changes + " applied in " + recovery.toMillis() + " ms");
            assertThat(recovery).as("recovery after Kafka's return").isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void aHungRedisLeavesTimeToAskPostgresAndIsAskedAgainWithinFiveSecondsOfWakingUp() throws Exception {
        String service = service();
        String known = service();
        harness.put(service, "v1", upstreamA.url("/"));
        harness.put(known, "v1", upstreamB.url("/"));
        try (Sidecar sidecar = SidecarHarness.startSidecar(harness.isolatedSidecarEnv(dir.resolve("routes.l1")))) {
            // each poll asks for a new key, so each goes to Redis until it answers
            Poll.until(Duration.ofSeconds(10), "Redis connected", () ->
                    harness.get(sidecar, "/", service(), "v1").statusCode() == 404
                            && sidecar.metrics().lookups(Tier.REDIS, Result.MISS) > 0);
            assertThat(upstreamOf(harness.get(sidecar, "/", known, "v1"))).isEqualTo("b");
            LocalStack.pause("redis");
            long start = System.nanoTime();
            HttpResponse<String> response = harness.get(sidecar, "/", service, "v1");
            assertThat(upstreamOf(response)).isEqualTo("a");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            assertThat(servedWithoutErrors(sidecar, known, "b", Duration.ofMillis(500))).isPositive();

            LocalStack.resume("redis");
            redisAnswersAgainWithinFiveSeconds(sidecar);
        }
    }
}
