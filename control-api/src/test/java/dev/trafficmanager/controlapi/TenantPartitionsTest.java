package dev.trafficmanager.controlapi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.route.TenantPartitions;
import dev.trafficmanager.testing.LocalStack;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The relay writes each tenant's events to the tenant's partition, and a topic it creates starts
 * with the state of every route in PostgreSQL (the migration to a new topic).
 */
@ExtendWith(LocalStack.class)
class TenantPartitionsTest {
    private static final int PARTITIONS = 8;

    private static String path(String tenant, String service) {
        return "/v1/routes/" + tenant + "/" + service + "/prod/v1";
    }

    private static Predicate<List<TopicReader.Message>> holds(String tenant, int keys) {
        return messages -> messages.stream().filter(m -> m.key().startsWith(tenant + "/")).map(TopicReader.Message::key)
                .distinct().count() >= keys;
    }

    @Test
    void eachTenantsEventsGoToItsOwnPartition() throws Exception {
        try (TestControlApi api = TestControlApi.start(Map.of("TM_KAFKA_TOPIC_PARTITIONS", String.valueOf(PARTITIONS)))) {
            String a = TestControlApi.unique("pa");
            String b = TestControlApi.unique("pb");
            while (TenantPartitions.of(b, PARTITIONS) == TenantPartitions.of(a, PARTITIONS)) {
                b = TestControlApi.unique("pb");
            }
            for (String tenant : List.of(a, b)) {
                String token = api.client.createTenant(TestControlApi.ADMIN_TOKEN, tenant);
                for (int i = 0; i < 3; i++) {
                    assertThat(api.client.put(path(tenant, "svc-" + i), token, ApiClient.urlBody("http://10.0.0." + i + "/"))
                            .status()).isEqualTo(201);
                }
            }
            String tenantB = b;
            List<TopicReader.Message> messages = TopicReader.readUntil(api.topic, Duration.ofSeconds(30),
                    all -> holds(a, 3).test(all) && holds(tenantB, 3).test(all));
            Map<String, java.util.Set<Integer>> partitions = messages.stream()
                    .filter(m -> m.key().startsWith(a + "/") || m.key().startsWith(tenantB + "/"))
                    .collect(Collectors.groupingBy(m -> TenantPartitions.tenantOf(m.key()),
                            Collectors.mapping(TopicReader.Message::partition, Collectors.toSet())));
            assertThat(partitions).containsEntry(a, java.util.Set.of(TenantPartitions.of(a, PARTITIONS)))
                    .containsEntry(b, java.util.Set.of(TenantPartitions.of(b, PARTITIONS)));
        }
    }

    @Test
    void aTopicTheRelayCreatesStartsWithTheStateOfEveryRoute() throws Exception {
        String tenant = TestControlApi.unique("mig");
        try (TestControlApi old = TestControlApi.start()) {
            String token = old.client.createTenant(TestControlApi.ADMIN_TOKEN, tenant);
            assertThat(old.client.put(path(tenant, "kept"), token, ApiClient.urlBody("http://10.0.0.1/")).status()).isEqualTo(201);
            assertThat(old.client.put(path(tenant, "moved"), token, ApiClient.urlBody("http://10.0.0.2/")).status()).isEqualTo(201);
            assertThat(old.client.put(path(tenant, "moved"), token, ApiClient.urlBody("http://10.0.0.3/")).status()).isEqualTo(200);
            assertThat(old.client.put(path(tenant, "off"), token, ApiClient.urlBody("http://10.0.0.4/")).status()).isEqualTo(201);
            assertThat(old.client.post(path(tenant, "off") + "/deactivate", token, "").status()).isEqualTo(200);
            TopicReader.readUntil(old.topic, Duration.ofSeconds(30), holds(tenant, 3)); // all published
        }
        try (TestControlApi migrated = TestControlApi.start(Map.of("TM_KAFKA_TOPIC_PARTITIONS", String.valueOf(PARTITIONS)))) {
            List<TopicReader.Message> messages = TopicReader.readUntil(migrated.topic, Duration.ofSeconds(30), holds(tenant, 3));
            Map<String, TopicReader.Message> byKey = messages.stream().filter(m -> m.key().startsWith(tenant + "/"))
                    .collect(Collectors.toMap(TopicReader.Message::key, m -> m, (x, y) -> y));
            assertThat(byKey).hasSize(3);
            TopicReader.Message moved = byKey.get(tenant + "/moved/prod/v1");
            assertThat(moved.event().url()).isEqualTo("http://10.0.0.3/");
            assertThat(moved.event().revision()).isEqualTo(2);
            assertThat(byKey.get(tenant + "/off/prod/v1").event().active()).isFalse();
            assertThat(byKey.get(tenant + "/kept/prod/v1").event().active()).isTrue();
            assertThat(byKey.values()).allSatisfy(m -> assertThat(m.partition()).isEqualTo(TenantPartitions.of(tenant, PARTITIONS)));
        }
    }
}
