package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.ApiClient;
import dev.trafficmanager.controlapi.TestControlApi;
import dev.trafficmanager.route.TenantPartitions;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A sidecar replays only the partition of its tenant, and keeps only its tenant's routes. */
@ExtendWith(LocalStack.class)
class TenantScopedReplayTest {
    private static final int PARTITIONS = 8;
    @TempDir
    Path dir;

    /** The bytes (keys and values) of every record, by partition, read with a consumer of its own. */
    private static long[] bytesByPartition(Map<String, String> env, String topic) {
        java.util.Properties props = new java.util.Properties();
        props.put("bootstrap.servers", env.get("TM_KAFKA_BOOTSTRAP"));
        dev.trafficmanager.config.KafkaClientSettings.fromEnv(env).applyTo(props);
        long[] bytes = new long[PARTITIONS];
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(props,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            var partitions = java.util.stream.IntStream.range(0, PARTITIONS)
                    .mapToObj(p -> new org.apache.kafka.common.TopicPartition(topic, p)).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<org.apache.kafka.common.TopicPartition, Long> end = consumer.endOffsets(partitions);
            Poll.until(Duration.ofSeconds(20), "the whole topic read", () -> {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    bytes[record.partition()] += record.serializedKeySize() + record.serializedValueSize();
                }
                return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
            });
        }
        return bytes;
    }

    @Test
    void aSidecarReadsOnlyItsTenantsPartitionAndKeepsOnlyItsTenantsRoutes() throws Exception {
        try (TestControlApi api = TestControlApi.start(Map.of("TM_KAFKA_TOPIC_PARTITIONS", String.valueOf(PARTITIONS)))) {
            String mine = TestControlApi.unique("own");
            String other = TestControlApi.unique("big");
            while (TenantPartitions.of(other, PARTITIONS) == TenantPartitions.of(mine, PARTITIONS)) {
                other = TestControlApi.unique("big");
            }
            String mineToken = api.client.createTenant(TestControlApi.ADMIN_TOKEN, mine);
            String otherToken = api.client.createTenant(TestControlApi.ADMIN_TOKEN, other);
            for (int i = 0; i < 40; i++) {
                api.client.put("/v1/routes/" + other + "/svc-" + i + "/prod/v1", otherToken, ApiClient.urlBody("http://10.1.0.1/"));
            }
            for (int i = 0; i < 2; i++) {
                api.client.put("/v1/routes/" + mine + "/svc-" + i + "/prod/v1", mineToken, ApiClient.urlBody("http://10.2.0.1/"));
            }
            Map<String, String> env = new HashMap<>(LocalStack.clientEnv("sidecar"));
            env.put("TM_PROXY_PORT", "0");
            env.put("TM_PROXY_ADMIN_PORT", "0");
            env.put("TM_L1_FILE", dir.resolve("routes.l1").toString());
            env.put("TM_L1_MAX_ENTRIES", "10000");
            env.put("TM_DB_URL", TestControlApi.jdbcUrl());
            env.put("TM_KAFKA_TOPIC", api.topic);
            env.put("TM_TENANT", mine);
            try (Sidecar sidecar = SidecarHarness.startReady(env)) {
                Poll.until(Duration.ofSeconds(20), "both routes of its tenant in L1",
                        () -> sidecar.resolver().l1().list(mine + "/", 100, key -> true).size() == 2);
                assertThat(sidecar.resolver().l1().list(other + "/", 100, key -> true)).isEmpty();
                double read = sidecar.metrics().registry().get("tm_kafka_bytes_read").counter().count();
                long[] onTopic = bytesByPartition(env, api.topic);
                // Exactly its tenant's partition (which also holds other tenants' routes, republished
                // from the shared test database), a fraction of the topic.
                assertThat((long) read).isEqualTo(onTopic[TenantPartitions.of(mine, PARTITIONS)]);
                assertThat(read).isLessThan(java.util.Arrays.stream(onTopic).sum() / 2.0);
                assertThat(onTopic[TenantPartitions.of(other, PARTITIONS)]).isGreaterThan(40 * 50);
            }
        }
    }
}
