package dev.trafficmanager.controlapi;

import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.ApiClient.Response;
import dev.trafficmanager.route.Endpoint;
import dev.trafficmanager.route.RetryOn;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.testing.LocalStack;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A route's endpoints, timeout and retries through the control API: stored, shown, published, validated. */
@ExtendWith(LocalStack.class)
class RouteOptionsApiTest {
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
    void endpointsTimeoutAndRetriesAreStoredShownAndPublished() {
        String tenant = TestControlApi.unique("opts");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        String route = "/v1/routes/" + tenant + "/pay/prod/v1";
        String body = "{\"endpoints\":[{\"url\":\"http://pay-a:8080/api\",\"weight\":2},{\"url\":\"http://pay-b:8080/api\"}],"
                + "\"timeoutMs\":200,\"retries\":{\"attempts\":2,\"on\":[\"connect-failure\",\"gateway-error\"]}}";

        Response created = client.put(route, token, body);
        assertThat(created.status()).as(created.body().toString()).isEqualTo(201);
        assertThat(created.body().get("url").asText()).as("the first endpoint's").isEqualTo("http://pay-a:8080/api");
        assertThat(created.body().get("endpoints").get(1).get("weight").asInt()).as("weight defaults to 1").isEqualTo(1);
        assertThat(created.body().get("timeoutMs").asInt()).isEqualTo(200);
        assertThat(created.body().get("retries").get("on").toString()).isEqualTo("[\"connect-failure\",\"gateway-error\"]");
        assertThat(client.put(route, token, body).body().get("revision").asLong()).as("unchanged").isEqualTo(1);

        Response plain = client.put(route, token, "{\"url\":\"http://pay-a:8080/api\"}");
        assertThat(plain.body().get("revision").asLong()).as("dropping the options is a change").isEqualTo(2);
        assertThat(plain.body().has("endpoints")).isFalse();
        assertThat(client.get(route + "/history", token).body().get("items").get(0).get("options").get("timeoutMs").asInt())
                .isEqualTo(200);

        String key = tenant + "/pay/prod/v1";
        List<TopicReader.Message> messages = TopicReader.readUntil(server.topic, Duration.ofSeconds(30),
                read -> read.stream().filter(m -> m.key().equals(key)).count() >= 2);
        RouteEvent first = messages.stream().filter(m -> m.key().equals(key)).findFirst().orElseThrow().event();
        assertThat(first.url()).isEqualTo("http://pay-a:8080/api");
        assertThat(first.options().endpoints()).containsExactly(new Endpoint("http://pay-a:8080/api", 2),
                new Endpoint("http://pay-b:8080/api", 1));
        assertThat(first.options().timeoutMs()).isEqualTo(200);
        assertThat(first.options().retries().attempts()).isEqualTo(2);
        assertThat(first.options().retries().on()).isEqualTo(Set.of(RetryOn.CONNECT_FAILURE, RetryOn.GATEWAY_ERROR));
    }

    @Test
    void badOptionsAreRefusedWithTheirReasonAndWriteNothing() {
        String tenant = TestControlApi.unique("opts-bad");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        String route = "/v1/routes/" + tenant + "/pay/prod/v1";
        Map<String, Long> before = TestControlApi.tableCounts();
        String a = "{\"url\":\"http://a:1/api\"}";
        String b = "{\"url\":\"http://b:1/api\"}";

        refused(route, token, "{\"url\":\"http://a:1\",\"endpoints\":[" + a + "]}", "invalid_json", "both");
        refused(route, token, "{\"protocol\":\"h2\"}", "invalid_json", "url");
        refused(route, token, "{\"endpoints\":[]}", "invalid_endpoint", "non-empty");
        refused(route, token, "{\"endpoints\":[" + a + "," + a + "]}", "invalid_endpoint", "twice");
        refused(route, token, "{\"endpoints\":[" + a + ",{\"url\":\"http://b:1/other\"}]}", "invalid_endpoint", "one path");
        refused(route, token, "{\"endpoints\":[{\"url\":\"ftp://a/api\"}]}", "invalid_url", "ftp");
        refused(route, token, "{\"endpoints\":[{\"url\":\"http://a:1/api\",\"weight\":0}]}", "invalid_endpoint", "weight");
        refused(route, token, "{\"endpoints\":[{\"url\":\"http://a:1/api\",\"host\":\"x\"}]}", "invalid_endpoint", "host");
        refused(route, token, "{\"endpoints\":[" + "{\"url\":\"http://a:1/api\"},".repeat(64) + b + "]}",
                "invalid_endpoint", "at most 64");
        refused(route, token, "{\"url\":\"http://a:1\",\"timeoutMs\":0}", "invalid_timeout", "timeoutMs");
        refused(route, token, "{\"url\":\"http://a:1\",\"timeoutMs\":\"200\"}", "invalid_timeout", "integer");
        refused(route, token, "{\"url\":\"http://a:1\",\"retries\":{\"attempts\":9,\"on\":[\"reset\"]}}",
                "invalid_retries", "1 to 5");
        refused(route, token, "{\"url\":\"http://a:1\",\"retries\":{\"attempts\":1,\"on\":[\"5xx\"]}}",
                "invalid_retries", "gateway-error");
        refused(route, token, "{\"url\":\"http://a:1\",\"retries\":{\"attempts\":1,\"on\":[]}}", "invalid_retries", "empty");
        refused(route, token, "{\"url\":\"http://a:1\",\"weights\":{}}", "invalid_json", "unknown field");
        assertThat(TestControlApi.tableCounts()).as("nothing written").isEqualTo(before);
    }

    private static void refused(String route, String token, String body, String code, String messagePart) {
        Response response = client.put(route, token, body);
        assertThat(response.status()).as(body + " -> " + response.body()).isEqualTo(400);
        assertThat(response.error()).as(body).isEqualTo(code);
        assertThat(response.body().get("message").asText()).as(body).contains(messagePart);
    }
}
