package dev.trafficmanager.controlapi;

import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.ApiClient.Response;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.SplitEvent;
import dev.trafficmanager.testing.LocalStack;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Splits through the control API: their lifecycle, history, outbox events, and every refusal. */
@ExtendWith(LocalStack.class)
class SplitsApiTest {
    private static TestControlApi server;
    private static ApiClient client;

    @BeforeAll
    static void start() throws InterruptedException {
        server = TestControlApi.start();
        client = server.client;
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aSplitGoesThroughItsLifeAndEveryChangeReachesKafkaUnderItsOwnKey() {
        String tenant = TestControlApi.unique("split");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        String split = "/v1/splits/" + tenant + "/checkout/prod";

        Response created = client.put(split, token, "{\"weights\":{\"v1\":90,\"v2\":10},\"stickyHeader\":\"X-User-Id\"}");
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.body().get("weights").get("v1").asInt()).isEqualTo(90);
        assertThat(created.body().get("stickyHeader").asText()).isEqualTo("x-user-id"); // header names are lower case
        assertThat(created.body().get("revision").asLong()).isEqualTo(1);
        assertThat(created.header("ETag")).isEqualTo("\"1\"");

        Response same = client.put(split, token, "{\"weights\":{\"v2\":10,\"v1\":90},\"stickyHeader\":\"x-user-id\"}");
        assertThat(same.status()).isEqualTo(200);
        assertThat(same.body().get("revision").asLong()).as("unchanged: no new revision").isEqualTo(1);

        Response stale = client.put(split, token, "{\"weights\":{\"v1\":70,\"v2\":30}}", "If-Match", "\"7\"");
        assertThat(stale.status()).isEqualTo(412);
        Response moved = client.put(split, token, "{\"weights\":{\"v1\":70,\"v2\":30}}", "If-Match", "\"1\"");
        assertThat(moved.status()).isEqualTo(200);
        assertThat(moved.body().get("revision").asLong()).isEqualTo(2);
        assertThat(moved.body().get("stickyHeader").isNull()).isTrue();

        Response deleted = client.method("DELETE", split, token, "If-Match", "2");
        assertThat(deleted.status()).isEqualTo(200);
        assertThat(deleted.body().get("active").asBoolean()).isFalse();
        assertThat(client.method("DELETE", split, token).body().get("revision").asLong()).as("idempotent").isEqualTo(3);
        assertThat(client.get(split, token).body().get("active").asBoolean()).isFalse();

        Response back = client.put(split, token, "{\"weights\":{\"v1\":70,\"v2\":30}}");
        assertThat(back.status()).as("a deleted split put again is created again").isEqualTo(201);
        assertThat(back.body().get("revision").asLong()).isEqualTo(4);

        Response history = client.get(split + "/history", token);
        assertThat(history.body().get("items").findValuesAsText("type"))
                .containsExactly("created", "updated", "deleted", "created");
        assertThat(client.get("/v1/splits/" + tenant, token).body().get("items").get(0).get("service").asText())
                .isEqualTo("checkout");

        String key = tenant + "/checkout/prod";
        List<TopicReader.Message> messages = TopicReader.readUntil(server.topic, Duration.ofSeconds(30),
                read -> read.stream().filter(m -> m.key().equals(key)).count() >= 4);
        List<SplitEvent> events = messages.stream().filter(m -> m.key().equals(key))
                .map(m -> (SplitEvent) m.change()).toList();
        assertThat(events).extracting(SplitEvent::type).containsExactly(RouteEventType.CREATED, RouteEventType.UPDATED,
                RouteEventType.DELETED, RouteEventType.CREATED);
        assertThat(events).extracting(SplitEvent::revision).containsExactly(1L, 2L, 3L, 4L);
        assertThat(events.get(0).split().weights()).isEqualTo(Map.of("v1", 90, "v2", 10));
        assertThat(events.get(0).split().stickyHeader()).isEqualTo("x-user-id");
        assertThat(events.get(2).active()).isFalse();
    }

    @Test
    void badSplitsAreRefusedWithTheirReasonAndWriteNothing() {
        String tenant = TestControlApi.unique("split-bad");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        String other = client.createTenant(ADMIN_TOKEN, TestControlApi.unique("split-other"));
        String split = "/v1/splits/" + tenant + "/checkout/prod";
        Map<String, Long> before = TestControlApi.tableCounts();

        assertRefused(client.put(split, token, "{\"weights\":{\"v1\":0,\"v2\":0}}"), 400, "invalid_split", "all zero");
        assertRefused(client.put(split, token, "{\"weights\":{\"v1\":90},\"sticky\":\"x\"}"), 400, "invalid_json", "sticky");
        assertRefused(client.put(split, token, "{\"weights\":{\"v1\":-1}}"), 400, "invalid_split", "weights.v1");
        assertRefused(client.put(split, token, "{\"weights\":{\"v1\":1.5}}"), 400, "invalid_split", "integer");
        assertRefused(client.put(split, token, "{\"weights\":{\"V1!\":1}}"), 400, "invalid_name", "version");
        assertRefused(client.put(split, token, "{\"weights\":[90,10]}"), 400, "invalid_split", "weights");
        assertRefused(client.put(split, token, "{\"weights\":{\"v1\":1},\"stickyHeader\":\"x user\"}"), 400,
                "invalid_split", "stickyHeader");
        assertRefused(client.put(split, token, "not json"), 400, "invalid_json", "JSON");
        assertRefused(client.put(split, other, "{\"weights\":{\"v1\":1}}"), 403, "forbidden", "");
        assertRefused(client.get(split, other), 403, "forbidden", "");
        assertRefused(client.method("DELETE", split, other), 403, "forbidden", "");
        assertRefused(client.get(split, token), 404, "split_not_found", "checkout");
        assertRefused(client.method("DELETE", split, token), 404, "split_not_found", "checkout");
        assertThat(TestControlApi.tableCounts()).as("nothing written").isEqualTo(before);
    }

    private static void assertRefused(Response response, int status, String code, String messagePart) {
        assertThat(response.status()).as(response.body().toString()).isEqualTo(status);
        if (!code.equals("forbidden")) {
            assertThat(response.error()).isEqualTo(code);
        }
        assertThat(response.body().get("message").asText()).contains(messagePart);
    }
}
