package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.config.KafkaClientSettings;
import dev.trafficmanager.proxy.lookup.EntryBytes;
import dev.trafficmanager.proxy.lookup.RedisRouteCache;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.RouteEventCodec;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.TenantPartitions;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A forged value in a real cache tier, written with credentials that may write it, routes a key at
 * most until PostgreSQL next confirms the route: within the TTL (3 s here, so the test is quick),
 * and never pins it.
 */
@ExtendWith(LocalStack.class)
class ForgedCacheTest {
    private static final long TTL_MILLIS = 3000;
    private static final long FORGED_REVISION = 1L << 50;

    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream good;
    private static TestUpstream evil;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        good = TestUpstream.start("good");
        evil = TestUpstream.start("evil");
    }

    @AfterAll
    static void stop() {
        good.close();
        evil.close();
        harness.close();
    }

    private static Map<String, String> shortTtl(Map<String, String> env) {
        env.put("TM_ROUTE_TTL_MS", String.valueOf(TTL_MILLIS));
        env.put("TM_DEFAULT_VERSION", "v1");
        return env;
    }

    private static String get(Sidecar sidecar, String service) {
        try {
            return RawHttp.exchange(sidecar, "GET /x HTTP/1.1\r\nHost: " + service + "\r\n\r\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aForgedKafkaEventLastsOnlyUntilPostgresConfirmsTheRoute() throws Exception {
        try (Sidecar sidecar = SidecarHarness.startReady(shortTtl(harness.transparentSidecarEnv(dir.resolve("kafka.l1"))))) {
            String service = harness.newRoute(sidecar, good.url("/"));
            assertThat(get(sidecar, service)).endsWith("good GET /x\n");

            // The control API's credentials may write the topic: what a stolen one could do.
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, LocalStack.kafkaBootstrap());
            KafkaClientSettings.fromEnv(LocalStack.clientEnv("control-api")).applyTo(props);
            RouteKey key = RouteKey.parse(harness.key(service));
            RouteEvent forged = new RouteEvent(RouteEventType.UPDATED, key, evil.url("/"), true, FORGED_REVISION,
                    System.currentTimeMillis());
            long sent;
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
                // To the partition the sidecar reads: its tenant's (one elsewhere would never reach it).
                int partition = TenantPartitions.of(key.tenant(), producer.partitionsFor(harness.api.topic).size());
                producer.send(new ProducerRecord<>(harness.api.topic, partition, key.toString().getBytes(StandardCharsets.US_ASCII),
                        RouteEventCodec.encode(forged))).get();
                sent = System.nanoTime();
            }
            Poll.until(Duration.ofSeconds(5), "the forged event applied", () -> get(sidecar, service).endsWith("evil GET /x\n"));
            Poll.until(Duration.ofMillis(TTL_MILLIS + 3000), "PostgreSQL's answer back in use",
                    () -> get(sidecar, service).endsWith("good GET /x\n"));
            System.out.printf("forged Kafka event: PostgreSQL's answer won %d ms after it was sent (TTL %d ms)%n",
                    Duration.ofNanos(System.nanoTime() - sent).toMillis(), TTL_MILLIS);
            assertThat(sidecar.metrics().revisionRegressions().count()).isGreaterThanOrEqualTo(1);
            assertThat(sidecar.resolver().entry(key.toString()).revision()).isLessThan(FORGED_REVISION);
        }
    }

    @Test
    void aPoisonedRedisValueLastsOnlyUntilPostgresConfirmsTheRoute() throws Exception {
        try (Sidecar sidecar = SidecarHarness.startSidecar(shortTtl(harness.isolatedSidecarEnv(dir.resolve("redis.l1"))))) {
            String service = "svc-" + java.util.UUID.randomUUID().toString().substring(0, 8);
            harness.put(service, "v1", good.url("/"));
            String key = harness.key(service);
            // The sidecar's own Redis credentials: what any sidecar of the fleet can write.
            RedisClient client = RedisClient.create(LocalStack.redisUrl());
            try (StatefulRedisConnection<String, byte[]> redis =
                         client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE))) {
                redis.sync().psetex(RedisRouteCache.PREFIX + key, 60_000,
                        EntryBytes.of(key, evil.url("/"), FORGED_REVISION, System.currentTimeMillis()));
                long planted = System.nanoTime();
                assertThat(get(sidecar, service)).as("Redis is a cache: a fresh value is used").endsWith("evil GET /x\n");
                Poll.until(Duration.ofMillis(TTL_MILLIS + 3000), "PostgreSQL's answer back in use",
                        () -> get(sidecar, service).endsWith("good GET /x\n"));
                System.out.printf("poisoned Redis value: PostgreSQL's answer won %d ms after it was planted (TTL %d ms)%n",
                        Duration.ofNanos(System.nanoTime() - planted).toMillis(), TTL_MILLIS);
                assertThat(redis.sync().get(RedisRouteCache.PREFIX + key)).as("Redis repaired")
                        .isNotEqualTo(EntryBytes.of(key, evil.url("/"), FORGED_REVISION, 0));
            } finally {
                client.shutdown();
            }
            assertThat(sidecar.metrics().revisionRegressions().count()).isGreaterThanOrEqualTo(1);
        }
    }
}
