package dev.trafficmanager.controlapi;

import static dev.trafficmanager.controlapi.ApiClient.urlBody;
import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A hand-written outbox row the relay cannot encode is skipped with its reason, not a stalled outbox. */
@ExtendWith(LocalStack.class)
class OutboxQuarantineTest {

    @Test
    void anUnencodableRowIsStampedWithItsErrorAndLaterEventsStillGoOut() throws Exception {
        try (TestControlApi server = TestControlApi.start()) {
            ApiClient client = server.client;
            String tenant = TestControlApi.unique("quarantine");
            String token = client.createTenant(ADMIN_TOKEN, tenant);
            String route = "/v1/routes/" + tenant + "/svc/prod/v1";
            assertThat(client.put(route, token, urlBody("http://good:1")).status()).isEqualTo(201);
            Poll.until(Duration.ofSeconds(10), "the first event to be published",
                    () -> history(client, route, token).get(0).get("published").asBoolean());

            // A manual write the database accepts but the route model refuses: a URL with a query.
            try (Connection c = TestControlApi.db(); PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO route_events (endpoint_id, event_type, url, is_active, revision)"
                            + " SELECT p.id, 'updated', 'http://bad:1/?q=1', true, 2 FROM endpoints p"
                            + " JOIN environments e ON e.id = p.environment_id JOIN services s ON s.id = e.service_id"
                            + " JOIN tenants t ON t.id = s.tenant_id WHERE t.name = ? AND p.version = 'v1'")) {
                insert.setString(1, tenant);
                assertThat(insert.executeUpdate()).isEqualTo(1);
            }
            String other = "/v1/routes/" + tenant + "/svc/prod/v2";
            assertThat(client.put(other, token, urlBody("http://other:1")).status()).isEqualTo(201);

            String otherKey = tenant + "/svc/prod/v2";
            List<TopicReader.Message> messages = TopicReader.readUntil(server.topic, Duration.ofSeconds(30),
                    read -> read.stream().anyMatch(m -> m.key().equals(otherKey)));
            assertThat(messages).extracting(TopicReader.Message::key).contains(otherKey);
            assertThat(messages).noneMatch(m -> m.event() != null && m.event().url().contains("bad"));

            JsonNode skipped = history(client, route, token).get(1);
            assertThat(skipped.get("revision").asLong()).isEqualTo(2);
            assertThat(skipped.get("published").asBoolean()).isTrue();
            assertThat(skipped.get("publishError").asText()).contains("no query");
        }
    }

    private static List<JsonNode> history(ApiClient client, String route, String token) {
        return java.util.stream.StreamSupport.stream(
                client.get(route + "/history", token).body().get("items").spliterator(), false).toList();
    }
}
