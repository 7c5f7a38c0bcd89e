package dev.trafficmanager.controlapi;

import static dev.trafficmanager.controlapi.ApiClient.urlBody;
import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Two control-API instances write the same routes at once; the topic still holds each change once, in order. */
@ExtendWith(LocalStack.class)
class MultiInstanceTest {

    @Test
    void twoInstancesPublishEveryChangeOnceInRevisionOrderPerKey() throws Exception {
        String tenant = TestControlApi.unique("twins");
        int routes = 4;
        int writesPerInstance = 60;
        try (TestControlApi first = TestControlApi.start();
             TestControlApi second = TestControlApi.start(Map.of("TM_KAFKA_TOPIC", first.topic))) {
            String token = first.client.createTenant(ADMIN_TOKEN, tenant);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<?>> writers = List.of(first, second).stream().map(instance -> pool.submit(() -> {
                    for (int i = 0; i < writesPerInstance; i++) {
                        String path = "/v1/routes/" + tenant + "/svc/prod/v" + (i % routes);
                        int status = instance.client.put(path, token,
                                urlBody("http://svc-" + instance.api.port() + "-" + i + ":80")).status();
                        assertThat(status).isIn(200, 201);
                    }
                })).collect(Collectors.toList());
                for (Future<?> writer : writers) {
                    writer.get();
                }
            } finally {
                pool.shutdownNow();
            }
            long events = TestControlApi.count("SELECT count(*) FROM route_events ev JOIN endpoints p ON p.id = ev.endpoint_id"
                    + " JOIN environments e ON e.id = p.environment_id JOIN services s ON s.id = e.service_id"
                    + " JOIN tenants t ON t.id = s.tenant_id WHERE t.name = ?", tenant);
            List<TopicReader.Message> messages = TopicReader.readUntil(first.topic, Duration.ofSeconds(30),
                    read -> read.stream().filter(m -> m.key().startsWith(tenant + "/")).count() >= events);
            Map<String, List<Long>> byKey = messages.stream().filter(m -> m.key().startsWith(tenant + "/"))
                    .collect(Collectors.groupingBy(TopicReader.Message::key,
                            Collectors.mapping(m -> m.event().revision(), Collectors.toList())));
            assertThat(byKey).hasSize(routes);
            assertThat(byKey.values().stream().mapToInt(List::size).sum()).isEqualTo((int) events);
            byKey.forEach((key, revisions) -> assertThat(revisions).as(key)
                    .isEqualTo(LongStream.rangeClosed(1, revisions.size()).boxed().toList()));
        }
    }
}
