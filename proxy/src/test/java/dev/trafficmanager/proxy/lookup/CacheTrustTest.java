package dev.trafficmanager.proxy.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.testing.Poll;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import net.openhft.chronicle.map.ChronicleMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL is the truth, also against the caches: a forged or corrupt value in Redis, L1 or an
 * event can serve a route at most until its entry is next confirmed, never pin it; values that
 * break the route model are misses, counted, never exceptions.
 */
class CacheTrustTest {
    private static final String KEY = "team/pay/prod/v1";
    private static final String GOOD = "http://good:8080/";
    private static final String EVIL = "http://evil:6666/";
    private static final ProxyConfig.Lookup SETTINGS = ProxyConfig.fromEnv(Map.of("TM_TENANT", "team")).lookup();

    @TempDir
    Path dir;
    private final AtomicLong now = new AtomicLong(1_000_000_000);
    private final FakeTiers.Postgres postgres = new FakeTiers.Postgres(now::get);
    private final FakeTiers.Redis redis = new FakeTiers.Redis();
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final RouteKeyProbe probe = new RouteKeyProbe().set("team", "pay", "prod", "v1");
    private L1Store l1;
    private Resolver resolver;

    @BeforeEach
    void open() {
        postgres.url = GOOD;
        postgres.revision = 3;
        l1 = L1Store.open(dir.resolve("l1"), 1000);
        resolver = new Resolver(l1, 100, redis, postgres, SETTINGS, metrics, now::get);
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
    void aForgedEventWithAHugeRevisionLastsOnlyUntilPostgresConfirmsTheRoute() throws Exception {
        long applied = resolver.applyEvent(new RouteEvent(RouteEventType.UPDATED, RouteKey.parse(KEY), EVIL, true,
                Long.MAX_VALUE / 2, now.get()), true);
        Poll.until(Duration.ofSeconds(2), "event applied", () -> resolver.eventsDone() >= applied);
        assertThat(resolveNow().url()).isEqualTo(EVIL);

        now.addAndGet(50_000); // past 80 % of the TTL: served while PostgreSQL is asked
        resolver.cached(probe);
        Poll.until(Duration.ofSeconds(2), "PostgreSQL's answer in use", () -> GOOD.equals(resolver.cached(probe).url()));
        assertThat(metrics.revisionRegressions().count()).isEqualTo(1.0);
        Poll.until(Duration.ofSeconds(2), "PostgreSQL's answer in L1", () -> l1.get(KEY, KEY).revision() == 3);
        assertThat(l1.get(KEY, KEY).url()).isEqualTo(GOOD);
    }

    @Test
    void aPoisonedRedisValueIsOverwrittenByPostgresWithinTheTtl() throws Exception {
        redis.values.put(KEY, EntryCodec.encode(RouteEntry.found(KEY, EVIL, true, 1L << 60, now.get())));
        assertThat(resolveNow().url()).as("a fresh Redis value is used: Redis is a cache").isEqualTo(EVIL);

        now.addAndGet(50_000);
        resolver.cached(probe);
        Poll.until(Duration.ofSeconds(2), "PostgreSQL's answer in use", () -> GOOD.equals(resolver.cached(probe).url()));
        assertThat(EntryCodec.decodeCached(KEY, redis.values.get(KEY)).url()).as("Redis repaired").isEqualTo(GOOD);
        assertThat(metrics.revisionRegressions().count()).isEqualTo(1.0);
    }

    @Test
    void entriesConfirmedInTheFutureAreInvalid() throws Exception {
        long inAnHour = now.get() + 3_600_000;
        redis.values.put(KEY, EntryCodec.encode(RouteEntry.found(KEY, EVIL, true, 9, inAnHour)));
        Resolver.Resolution resolution = resolver.resolve(KEY).get();
        assertThat(resolution.tier()).isEqualTo(Tier.POSTGRES);
        assertThat(resolution.entry().url()).isEqualTo(GOOD);
        assertThat(metrics.invalidEntries(Tier.REDIS).count()).isEqualTo(1.0);

        resolver.close();
        l1.close();
        l1 = L1Store.open(dir.resolve("l1"), 1000);
        l1.apply(RouteEntry.found(KEY, EVIL, true, 1L << 40, inAnHour));
        resolver = new Resolver(l1, 100, redis, postgres, SETTINGS, metrics, now::get);
        assertThat(resolver.cached(probe)).as("L1's entry from the future").isNull();
        assertThat(metrics.invalidEntries(Tier.L1).count()).isEqualTo(1.0);
        redis.values.clear();
        assertThat(resolver.resolve(KEY).get().entry().url()).isEqualTo(GOOD);
        Poll.until(Duration.ofSeconds(2), "PostgreSQL's answer in L1", () -> GOOD.equals(l1.get(KEY, KEY).url()));
    }

    @Test
    void valuesThatBreakTheRouteModelAreMissesNeverExceptions() throws Exception {
        byte[][] bad = {
            raw(true, 5, "ftp://x/"), raw(true, 5, "http://"), raw(true, 5, "http://a b/"), raw(true, 0, GOOD),
            raw(true, -1, GOOD), raw(true, 5, "http://user:pw@a/"), {1, 3, 0}, {9}, new byte[0],
        };
        int n = 0;
        for (byte[] bytes : bad) {
            String key = "team/pay/prod/bad" + n++;
            redis.values.put(key, bytes);
            assertThat(resolver.resolve(key).get().tier()).as("value %s", n).isEqualTo(Tier.POSTGRES);
        }
        assertThat(metrics.invalidEntries(Tier.REDIS).count()).isEqualTo(bad.length);

        // The same bytes in the shared L1 file, as another process (or a corrupt disk) left them.
        try (ChronicleMap<CharSequence, byte[]> other = ChronicleMap.of(CharSequence.class, byte[].class)
                .name("tm-routes").entries(1000).averageKey(KEY).averageValueSize(66)
                .createPersistedTo(dir.resolve("l1").toFile())) {
            for (int i = 0; i < bad.length; i++) {
                other.put("team/pay/prod/l1bad" + i, bad[i]);
            }
        }
        for (int i = 0; i < bad.length; i++) {
            assertThat(resolver.cached(new RouteKeyProbe().set("team", "pay", "prod", "l1bad" + i))).isNull();
        }
        assertThat(metrics.invalidEntries(Tier.L1).count()).as("busy %s", metrics.l1LockBusy().count()).isEqualTo(bad.length);
    }

    @Test
    void aWriterThreadKilledByAnErrorIsReported() throws Exception {
        FakeTiers.Redis failing = new FakeTiers.Redis() {
            @Override
            public void delete(String key) {
                throw new StackOverflowError("test: the writer dies");
            }
        };
        Resolver dying = new Resolver(l1, 100, failing, postgres, SETTINGS, metrics, now::get);
        try {
            assertThat(dying.failure()).isNull();
            dying.applyEvent(new RouteEvent(RouteEventType.UPDATED, RouteKey.parse(KEY), GOOD, true, 4, 0), true);
            Poll.until(Duration.ofSeconds(2), "the writer's death reported", () -> dying.failure() != null);
            assertThat(dying.failure()).contains("L1 writer stopped").contains("StackOverflowError");
        } finally {
            dying.close();
        }
    }

    @Test
    void postgresReplacesAHigherRevisionUnlessAnEventConfirmedItAfterTheQuestion() {
        RouteEntry answer = RouteEntry.found(KEY, GOOD, true, 3, 2_000);
        long now = 2_000;
        assertThat(answer.replaces(9, 1_000, 1_500, now)).as("stored before the question: forged or stale").isTrue();
        assertThat(answer.replaces(9, 1_800, 1_500, now)).as("an event after the question").isFalse();
        assertThat(answer.replaces(9, 60_000, 1_500, 90_000)).as("a later lookup, this answer written late").isFalse();
        assertThat(answer.replaces(9, 900_000, 1_500, now)).as("confirmed in the future").isTrue();
        assertThat(answer.replaces(9, 1_000, RouteEntry.NOT_ASKED, now)).as("a cache's answer").isFalse();
        assertThat(answer.replaces(2, 5_000, RouteEntry.NOT_ASKED, now)).as("a newer revision always").isTrue();
    }

    /** An entry's bytes as {@link EntryCodec} lays them out, with any values. */
    private static byte[] raw(boolean exists, long revision, String url) {
        byte[] u = url.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(18 + u.length).put((byte) 1).put((byte) (exists ? 3 : 0)).putLong(revision)
                .putLong(1_000_000_000).put(u).array();
    }
}
