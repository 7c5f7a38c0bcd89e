package dev.trafficmanager.controlapi;

import static dev.trafficmanager.controlapi.ApiClient.urlBody;
import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.ApiClient.Response;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Kafka or PostgreSQL stopped under the control API: writes never get lost, never hang. */
@ExtendWith(LocalStack.class)
class OutageTest {
    private TestControlApi server;

    @AfterEach
    void restoreStack() {
        if (server != null) {
            server.close();
        }
        LocalStack.ensureUpAgain();
    }

    @Test
    void writesSucceedWhileKafkaIsDownAndEachEventIsPublishedOnceInOrderWhenItReturns() throws Exception {
        server = TestControlApi.start();
        ApiClient client = server.client;
        String tenant = TestControlApi.unique("kafkaless");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        int routes = 10;
        int writes = 100;
        Map<String, Long> lastRevision = new HashMap<>();
        for (int i = 0; i < writes; i++) {
            if (i == 10) {
                LocalStack.stop("kafka");
            }
            String key = tenant + "/svc/prod/v" + (i % routes);
            Response response = client.put("/v1/routes/" + key, token, urlBody("http://svc-" + i + ":8080"));
            assertThat(response.status()).as("write %d", i).isIn(200, 201);
            lastRevision.put(key, response.body().get("revision").asLong());
        }
        assertThat(TestControlApi.count("SELECT count(*) FROM route_events ev JOIN endpoints p ON p.id = ev.endpoint_id"
                + " JOIN environments e ON e.id = p.environment_id JOIN services s ON s.id = e.service_id"
                + " JOIN tenants t ON t.id = s.tenant_id WHERE t.name = ? AND ev.published_at IS NULL", tenant))
                .as("events waiting in the outbox while Kafka is down").isPositive();

        LocalStack.start("kafka");
        List<TopicReader.Message> messages = TopicReader.readUntil(server.topic, Duration.ofSeconds(60),
                read -> read.stream().filter(m -> m.key().startsWith(tenant + "/")).count() >= writes);
        // give a duplicate, if the relay were to send one, the chance to show up
        Poll.until(Duration.ofSeconds(30), "the outbox to drain", () -> TestControlApi.count(
                "SELECT count(*) FROM route_events WHERE published_at IS NULL") == 0);
        messages = TopicReader.readUntil(server.topic, Duration.ofSeconds(3), read -> false);

        Map<String, List<Long>> revisionsByKey = messages.stream().filter(m -> m.key().startsWith(tenant + "/"))
                .collect(Collectors.groupingBy(TopicReader.Message::key,
                        Collectors.mapping(m -> m.event().revision(), Collectors.toList())));
        assertThat(revisionsByKey).hasSize(routes);
        revisionsByKey.forEach((key, revisions) -> {
            List<Long> expected = java.util.stream.LongStream.rangeClosed(1, lastRevision.get(key)).boxed().toList();
            assertThat(revisions).as("revisions of %s, in topic order", key).isEqualTo(expected);
        });
    }

    @Test
    void writesAnswer503WithinTheTimeoutWhilePostgresIsDownAndRecoverByThemselves() throws Exception {
        Response recovered = writesFailThenRecover(Map.of("TM_DB_TIMEOUT_MS", "1500"), Duration.ofMillis(1500 + 2000),
                () -> LocalStack.stop("postgres"), () -> LocalStack.start("postgres"));
        assertThat(recovered.body().get("revision").asLong()).isEqualTo(2);
    }

    @Test
    void writesAnswer503InBoundedTimeWhilePostgresIsHungAndRecoverWhenItResumes() throws Exception {
        // statement timeout 1 s: the socket gives up 5 s later on a server too hung to cancel
        Response recovered = writesFailThenRecover(Map.of("TM_DB_TIMEOUT_MS", "1000", "TM_DB_STATEMENT_TIMEOUT_MS", "1000"),
                Duration.ofSeconds(6 + 3), () -> LocalStack.pause("postgres"), () -> LocalStack.resume("postgres"));
        assertThat(recovered.body().get("revision").asLong()).isEqualTo(2);
    }

    /**
     * Creates a route, breaks PostgreSQL, checks that writes answer 503 {@code database_unavailable}
     * within {@code bound}, mends PostgreSQL and returns the first write that succeeds again.
     */
    private Response writesFailThenRecover(Map<String, String> config, Duration bound, Runnable breakIt,
                                           Runnable mendIt) throws InterruptedException {
        server = TestControlApi.start(config);
        ApiClient client = server.client;
        String tenant = TestControlApi.unique("pgfault");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        String route = "/v1/routes/" + tenant + "/svc/prod/v1";
        assertThat(client.put(route, token, urlBody("http://a:1")).status()).isEqualTo(201);

        breakIt.run();
        for (int i = 0; i < 3; i++) {
            long started = System.nanoTime();
            Response response = client.put(route, ADMIN_TOKEN, urlBody("http://down:" + (i + 2)));
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertThat(response.status()).isEqualTo(503);
            assertThat(response.error()).isEqualTo("database_unavailable");
            assertThat(took).as("answered within %s, never hanging", bound).isLessThan(bound);
        }

        mendIt.run();
        Response recovered = Poll.value(Duration.ofSeconds(30), "the API to write again", () -> {
            Response response = client.put(route, ADMIN_TOKEN, urlBody("http://back:3"));
            return response.status() == 200 ? response : null;
        });
        assertThat(recovered.body().get("url").asText()).isEqualTo("http://back:3");
        assertThat(client.get(route + "/history", token).body().get("items")).as("no refused write left a trace")
                .hasSize(2);
        return recovered;
    }
}
