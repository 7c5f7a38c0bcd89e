package dev.trafficmanager.proxy.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Result;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Freshness rules of the resolver with a real L1 file, fake Redis and PostgreSQL tiers behind the
 * project's own interfaces, and a hand-driven clock: no sleeping through TTLs.
 */
class ResolverTest {
    private static final String KEY = "team/pay/prod/v1";
    private static final ProxyConfig.Lookup SETTINGS = new ProxyConfig.Lookup(
            Duration.ofMillis(500), Duration.ofSeconds(60), Duration.ofSeconds(10), 80, ProxyConfig.fromEnv(Map.of("TM_TENANT", "team")).lookup().breaker());

    @TempDir
    Path dir;
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final FakeTiers.Postgres postgres = new FakeTiers.Postgres(now::get);
    private final ProxyMetrics metrics = new ProxyMetrics();
    private L1Store l1;
    private Resolver resolver;
    private final RouteKeyProbe probe = new RouteKeyProbe().set("team", "pay", "prod", "v1");

    @BeforeEach
    void open() {
        l1 = L1Store.open(dir.resolve("l1"), 1000);
        resolver = new Resolver(l1, 100, RouteCache.NONE, postgres, SETTINGS, metrics, now::get);
    }

    @AfterEach
    void close() {
        resolver.close();
        l1.close();
    }

    private RouteEntry resolveNow() throws Exception {
        RouteEntry cached = resolver.cached(probe);
        return cached != null ? cached : resolver.resolve(KEY).get().entry();
    }

    @Test
    void aFreshEntryIsServedFromTheNearCacheWithoutAskingPostgres() throws Exception {
        assertThat(resolveNow().url()).isEqualTo("http://a:8080/");
        assertThat(postgres.queries).hasValue(1);
        now.addAndGet(10_000);
        assertThat(resolver.cached(probe)).isNotNull();
        assertThat(postgres.queries).hasValue(1);
        assertThat(metrics.lookups(Tier.NEAR, Result.HIT)).isEqualTo(1.0);
    }

    @Test
    void anEntryPastEightyPercentOfItsTtlIsServedAndRefreshedInTheBackground() throws Exception {
        resolveNow();
        postgres.url = "http://b:8080/";
        postgres.revision = 2;
        now.addAndGet(50_000); // 50 s of 60: refresh ahead
        assertThat(resolver.cached(probe).url()).isEqualTo("http://a:8080/");
        Poll.until(Duration.ofSeconds(2), "refreshed", () -> resolver.cached(probe).url().equals("http://b:8080/"));
        assertThat(postgres.queries).hasValue(2);
    }

    @Test
    void anExpiredEntryIsReconfirmedBeforeUseSoAChangeIsSeenWithinTheTtl() throws Exception {
        resolveNow();
        postgres.url = "http://b:8080/";
        postgres.revision = 2;
        now.addAndGet(60_001);
        assertThat(resolver.cached(probe)).isNull();
        assertThat(resolver.resolve(KEY).get().entry().url()).isEqualTo("http://b:8080/");
    }

    @Test
    void anUnknownRouteIsCachedForTheNegativeTtlOnly() throws Exception {
        postgres.url = null;
        assertThat(resolveNow().exists()).isFalse();
        now.addAndGet(7_000);
        assertThat(resolver.cached(probe).exists()).isFalse();
        assertThat(postgres.queries).hasValue(1);
        postgres.url = "http://a:8080/";
        now.addAndGet(3_001); // past 10 s
        assertThat(resolver.cached(probe)).isNull();
        assertThat(resolver.resolve(KEY).get().entry().active()).isTrue();
    }

    @Test
    void whenNoTierAnswersTheLastKnownEntryIsServedStaleAndCounted() throws Exception {
        resolveNow();
        postgres.down = true;
        now.addAndGet(120_000);
        assertThat(resolver.cached(probe)).isNull();
        Resolver.Resolution stale = resolver.resolve(KEY).get();
        assertThat(stale.stale()).isTrue();
        assertThat(stale.entry().url()).isEqualTo("http://a:8080/");
        // Having seen every tier fail, the resolver no longer makes requests wait for them.
        assertThat(resolver.cached(probe)).isNotNull();
        assertThat(metrics.staleServes().count()).isEqualTo(2.0);
    }

    @Test
    void anUnknownKeyFailsWhenNoTierAnswers() {
        postgres.down = true;
        assertThatThrownBy(() -> resolver.resolve(KEY).get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(Resolver.LookupUnavailableException.class);
    }

    @Test
    void afterFiveRedisFailuresLookupsSkipRedisUntilAProbeFindsItBack() throws Exception {
        FakeTiers.Redis redis = new FakeTiers.Redis();
        redis.down = true;
        Resolver withRedis = new Resolver(l1, 100, redis, postgres, SETTINGS, metrics, now::get);
        try {
            for (int i = 0; i < 5; i++) {
                assertThat(withRedis.resolve("team/pay/prod/a" + i).get().tier()).isEqualTo(Tier.POSTGRES);
            }
            assertThat(withRedis.redisBreaker()).isEqualTo(CircuitBreaker.State.OPEN);
            assertThat(withRedis.resolve("team/pay/prod/b").get().tier()).isEqualTo(Tier.POSTGRES);
            assertThat(redis.gets).as("Redis is not asked while its breaker is open").hasValue(5);

            redis.down = false;
            now.addAndGet(2_000); // the breaker's open time
            assertThat(withRedis.resolve("team/pay/prod/c").get().tier()).isEqualTo(Tier.POSTGRES);
            assertThat(redis.gets).as("one probe").hasValue(6);
            assertThat(withRedis.redisBreaker()).isEqualTo(CircuitBreaker.State.CLOSED);
        } finally {
            withRedis.close();
        }
    }

    @Test
    void whilePostgresKeepsFailingALookupFailsAtOnceWithoutAskingIt() throws Exception {
        postgres.down = true;
        for (int i = 0; i < 5; i++) {
            String key = "team/pay/prod/a" + i;
            assertThatThrownBy(() -> resolver.resolve(key).get()).hasCauseInstanceOf(Resolver.LookupUnavailableException.class);
        }
        assertThat(resolver.postgresBreaker()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThatThrownBy(() -> resolver.resolve("team/pay/prod/b").get())
                .hasCauseInstanceOf(Resolver.LookupUnavailableException.class).hasMessageContaining("circuit breaker is open");
        assertThat(postgres.queries).hasValue(5);

        postgres.down = false;
        now.addAndGet(1_999);
        assertThatThrownBy(() -> resolver.resolve("team/pay/prod/b").get()).hasMessageContaining("circuit breaker is open");
        now.addAndGet(1);
        assertThat(resolver.resolve("team/pay/prod/b").get().tier()).isEqualTo(Tier.POSTGRES);
        assertThat(resolver.postgresBreaker()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(postgres.queries).hasValue(6);
    }

    @Test
    void anOlderEventNeverOverwritesANewerOne() throws Exception {
        RouteKey key = RouteKey.parse(KEY);
        resolver.applyEvent(new RouteEvent(RouteEventType.UPDATED, key, "http://new:1/", true, 5, 0), true);
        long sequence = resolver.applyEvent(new RouteEvent(RouteEventType.UPDATED, key, "http://old:1/", true, 4, 0), true);
        Poll.until(Duration.ofSeconds(2), "events applied", () -> resolver.eventsDone() >= sequence);
        assertThat(resolver.cached(probe).url()).isEqualTo("http://new:1/");
        assertThat(l1.get(KEY, KEY).revision()).isEqualTo(5);
        assertThat(metrics.eventsIgnored().count()).isEqualTo(1.0);
        assertThat(postgres.queries).hasValue(0);
    }

    @Test
    void replayingOldEventsOverANewerL1NeverPutsTheOlderRevisionInTheNearCache() throws Exception {
        l1.apply(RouteEntry.found(KEY, "http://seven:1/", true, 7, now.get()));
        RouteKey key = RouteKey.parse(KEY);
        long sequence = resolver.applyEvent(new RouteEvent(RouteEventType.CREATED, key, "http://three:1/", true, 3, 0), true);
        Poll.until(Duration.ofSeconds(2), "event applied", () -> resolver.eventsDone() >= sequence);
        assertThat(resolver.cached(probe).revision()).isEqualTo(7);
        assertThat(metrics.lookups(Tier.NEAR, Result.HIT)).isEqualTo(1.0);
    }

    @Test
    void onlyLiveEventsDropTheirKeyFromRedis() throws Exception {
        FakeTiers.Redis redis = new FakeTiers.Redis();
        List<String> deleted = redis.deleted;
        Resolver withRedis = new Resolver(l1, 100, redis, postgres, SETTINGS, metrics, now::get);
        try {
            RouteKey key = RouteKey.parse(KEY);
            // read back from the topic at start: handled when it happened, no delete per route
            long replayed = withRedis.applyEvent(new RouteEvent(RouteEventType.CREATED, key, "http://one:1/", true, 1, 0), false);
            Poll.until(Duration.ofSeconds(2), "replayed event applied", () -> withRedis.eventsDone() >= replayed);
            assertThat(deleted).isEmpty();
            long live = withRedis.applyEvent(new RouteEvent(RouteEventType.UPDATED, key, "http://two:1/", true, 2, 0), true);
            Poll.until(Duration.ofSeconds(2), "live event applied", () -> withRedis.eventsDone() >= live);
            assertThat(deleted).containsExactly(KEY);
        } finally {
            withRedis.close();
        }
    }

    @Test
    void twoOpeningsOfOneL1FileSeeEachOthersWrites() {
        // What two sidecar processes on one node do: map the same file, share its entries and locks.
        try (L1Store other = L1Store.open(dir.resolve("l1"), 1000)) {
            assertThat(other.apply(RouteEntry.found(KEY, "http://shared:1/", true, 4, 7))).isTrue();
            assertThat(l1.get(KEY, KEY).url()).isEqualTo("http://shared:1/");
            assertThat(l1.apply(RouteEntry.found(KEY, "http://older:1/", true, 3, 9))).isFalse();
            assertThat(l1.apply(RouteEntry.found(KEY, "http://newer:1/", true, 5, 9))).isTrue();
            assertThat(other.get(KEY, KEY).url()).isEqualTo("http://newer:1/");
        }
    }

    @Test
    void l1SurvivesReopeningTheFile() {
        RouteEntry entry = RouteEntry.found(KEY, "http://a:1/x", true, 3, 42);
        assertThat(l1.apply(entry)).isTrue();
        assertThat(l1.apply(RouteEntry.found(KEY, "http://a:1/old", true, 2, 99))).isFalse();
        l1.close();
        l1 = L1Store.open(dir.resolve("l1"), 1000);
        RouteEntry reopened = l1.get(probe, KEY);
        assertThat(reopened.url()).isEqualTo("http://a:1/x");
        assertThat(reopened.revision()).isEqualTo(3);
        assertThat(reopened.fetchedAtMillis()).isEqualTo(42);
        resolver.close();
        resolver = new Resolver(l1, 100, RouteCache.NONE, postgres, SETTINGS, metrics, now::get);
    }
}
